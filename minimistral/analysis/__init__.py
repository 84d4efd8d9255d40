"""Measurements of a model: attention maps, attention cost, per-layer diffs."""
