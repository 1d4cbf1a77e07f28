"""Suite-wide fixtures: an isolated TWIN_HOME per test and the slow-test switch; CLI invocations reuse
the app's click command."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import pytest
import typer.main
import typer.testing

# typer's CliRunner rebuilds the whole click command tree from the app on every invoke (~0.17 s for
# twin's), several hundred times per run. The tree depends only on the app object, so build it once.
typer.testing._get_command = functools.cache(typer.main.get_command)  # type: ignore[attr-defined]

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
