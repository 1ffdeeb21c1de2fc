"""conda2docker: a conda environment into a locked, audited, multi-stage container image."""

__version__ = "0.1.0"
