"""Curated vocabularies: the codes programmes are classified by, with their labels."""
