"""Evidence: evaluations of programmes, their outcomes, ratings and pooled effects."""
