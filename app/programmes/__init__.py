"""Prevention programmes: the catalogue, its review workflow, history and reports."""
