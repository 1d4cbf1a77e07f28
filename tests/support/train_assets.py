"""Training fixtures shared by the train and export tests: a suite-controlled asset cache and one tiny
trained run per session."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path

import pytest


def _needs_train_extra() -> None:
    for mod in ("torch", "transformers", "peft", "trl", "gguf"):
        if importlib.util.find_spec(mod) is None:
            pytest.skip(f"the train extra is not installed ({mod} missing)")


@pytest.fixture(scope="session")
def asset_cache(request: pytest.FixtureRequest) -> Iterator[Path]:
    """TWIN_CACHE_DIR inside pytest's cache folder: the Qwen2 vocabulary and tiny model are built once."""
    path = Path(request.config.cache.mkdir("twin-assets"))
    old = os.environ.get("TWIN_CACHE_DIR")
    os.environ["TWIN_CACHE_DIR"] = str(path)
    yield path
    if old is None:
        os.environ.pop("TWIN_CACHE_DIR", None)
    else:
        os.environ["TWIN_CACHE_DIR"] = old


@pytest.fixture(scope="session")
def tiny_base(asset_cache: Path) -> Path:
    _needs_train_extra()
    from twin.train.assets import tiny_qwen2

    return tiny_qwen2()


@pytest.fixture(scope="session")
def trained_run(tiny_base: Path, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    from twin.train.smoke import train_fixture_run

    return train_fixture_run(tmp_path_factory.mktemp("trained"), steps=3, save_steps=1, save_total_limit=3)
