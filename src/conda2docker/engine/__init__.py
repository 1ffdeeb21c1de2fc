"""The Docker Engine boundary: every call to the engine goes through this package."""
