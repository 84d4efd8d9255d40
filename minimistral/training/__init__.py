"""Training data and helpers for the small story model: the story generator lives in corpus.py."""
