"""A profile with a known owner name, and a chat service on the fake LLM with real embeddings and sqlite-vec."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from twin.chat.service import ChatService
from twin.profiles import Identity, Profile, ProfileManager
from twin.providers import registry
from twin.settings import load_settings


@pytest.fixture
def profile(twin_home: Path) -> Profile:
    p = ProfileManager(load_settings()).create("me")
    p.set_identity(Identity(names=["Thota Rao"]))
    return p


@pytest.fixture
def service(profile: Profile) -> Iterator[ChatService]:
    svc = ChatService(profile, llm=registry.create("llm", "fake", replies=["Noted."]))
    yield svc
    svc.close()
