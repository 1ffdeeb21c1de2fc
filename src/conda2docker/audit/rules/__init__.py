"""Rule families; importing this package registers every rule."""

from conda2docker.audit.rules import channels, gpu, pip, repro, system

__all__ = ["channels", "gpu", "pip", "repro", "system"]
