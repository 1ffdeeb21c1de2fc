"""Sequence models from the paper."""
