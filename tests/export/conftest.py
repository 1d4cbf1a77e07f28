"""Fixtures for the export tests (shared with the train tests)."""

from support.train_assets import asset_cache, tiny_base, trained_run  # noqa: F401
