"""Checks of untrusted input: limits, files, terminal text."""
