"""Search and discovery: one search over programmes, evidence and members, facets, the map."""
