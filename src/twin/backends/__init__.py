"""Backend implementations, one module per engine. Heavy imports happen inside load()."""
