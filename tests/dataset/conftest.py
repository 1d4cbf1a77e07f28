from __future__ import annotations

import pytest

from twin.profiles import Profile, ProfileManager
from twin.settings import load_settings


@pytest.fixture
def profile(tmp_path, monkeypatch) -> Profile:
    monkeypatch.setenv("TWIN_HOME", str(tmp_path / "home"))
    return ProfileManager(load_settings()).create("me")
