"""Fixtures of the reliability tests: the tiny training base model shared with the train tests."""

from support.train_assets import asset_cache, tiny_base  # noqa: F401
