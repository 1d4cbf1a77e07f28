"""Fixtures for the train tests (shared with the export tests)."""

from support.train_assets import asset_cache, tiny_base, trained_run  # noqa: F401
