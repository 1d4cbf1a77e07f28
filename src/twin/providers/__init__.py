"""Contracts only (no heavy imports): each capability with more than one engine is a small ABC plus
backends registered by name in registry.py. Implementations live in twin.backends."""
