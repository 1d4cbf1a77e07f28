"""Suite-wide fixtures: an isolated TWIN_HOME per test and the slow-test switch."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CORPUS = SHARED / "corpus"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("TWIN_SLOW_TESTS") == "1":
        return
    skip = pytest.mark.skip(reason="slow test: set TWIN_SLOW_TESTS=1 to run it")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def twin_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own TWIN_HOME, so nothing touches the user's real data. Derived files (the
    embedding model's onnx export) are shared by the whole run, as by all profiles of one home."""
    home = tmp_path_factory.mktemp("twin-home")
    monkeypatch.setenv("TWIN_HOME", str(home))
    monkeypatch.setenv("TWIN_CACHE", str(tmp_path_factory.getbasetemp() / "twin-cache"))
    monkeypatch.delenv("TWIN_DEFAULT_PROFILE", raising=False)
    return home


@pytest.fixture
def corpus() -> Path:
    """The shared corpus of real export samples; tests using it skip when it is absent."""
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is not present")
    return CORPUS
