"""Fixtures for API tests: two profiles with a key each, an app on the fake LLM, clients."""

from __future__ import annotations

import io
import socket
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient  # noqa: E402

from twin.api.config import ServerSettings  # noqa: E402
from twin.api.main import build_app  # noqa: E402
from twin.keys import KeyStore  # noqa: E402
from twin.profiles import ProfileManager  # noqa: E402
from twin.settings import Settings, load_settings  # noqa: E402


@dataclass
class Env:
    settings: Settings
    client: TestClient
    alice: str
    bob: str

    def auth(self, who: str = "alice") -> dict[str, str]:
        return {"Authorization": "Bearer " + getattr(self, who)}


def tone_wav(seconds: float = 1.0, rate: int = 16000) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    pcm = (0.3 * np.sin(2 * np.pi * 220 * t) * 32767).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return buf.getvalue()


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def speech_wav() -> bytes:
    """A few seconds of real (synthetic) speech shipped with the demo data."""
    from twin.api.demo import demo_dir

    return (demo_dir() / "voice" / "sample.wav").read_bytes()


def make_env(home: Path, **server: object) -> Env:
    settings = load_settings(home=home)
    pm = ProfileManager(settings)
    keys = KeyStore(settings)
    pm.create("alice")
    pm.create("bob")
    alice, bob = keys.create("alice").secret, keys.create("bob").secret
    keys.close()
    app = build_app(settings, ServerSettings.model_validate({"llm_backend": "fake", **server}))
    return Env(settings, TestClient(app, base_url="http://127.0.0.1"), alice, bob)


@pytest.fixture
def env(twin_home: Path) -> Iterator[Env]:
    e = make_env(twin_home)
    with e.client:
        yield e


@pytest.fixture
def small_env(twin_home: Path) -> Iterator[Env]:
    e = make_env(twin_home, max_body_bytes=4096, max_upload_bytes=64 * 1024)
    with e.client:
        yield e
