"""Analysis code for the paper."""

__version__ = "0.3.0"
