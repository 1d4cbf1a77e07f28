"""The stages this area owns have no import cycles (TYPE_CHECKING imports count: they are cycles too)."""

from __future__ import annotations

import pytest

from support.imports import find_cycle, graph


@pytest.mark.parametrize("package", ["twin.dataset", "twin.writing", "twin.train", "twin.export", "twin.style"])
def test_no_import_cycles(package: str) -> None:
    assert find_cycle(graph(package)) is None
