"""twin: a local-first personal AI twin."""

__version__ = "0.1.0"
