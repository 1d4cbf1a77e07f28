"""Embedded cloning: the base voice (Piper) followed by a WORLD-based converter toward the voice.

With a trained converter in the voice's converter folder (`twin voice train`) that mapping is used;
otherwise the zero-shot converter matches the reference clip's F0, formants and average envelope.
Base-voice statistics are measured once per engine from a short calibration read. The engine also
trains converters (`converter_trainer`, `base_reading`): the voice stage picks the clips and decides
whether a new converter becomes active; the file format stays here."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from twin.audio import world
from twin.audio.decode import load_audio
from twin.audio.resample import StreamResampler
from twin.backends.tts_clone_gmm import ARRAYS, GMMTrainer, TrainedConverter
from twin.backends.tts_clone_zeroshot import VoiceStats, ZeroShotConverter
from twin.errors import InvalidInput
from twin.providers import registry
from twin.providers.tts import AudioChunk, TTSBackend, TTSCapabilities, TTSOptions, VoiceSpec

CALIBRATION = (
    "The quick brown fox jumps over the lazy dog. I would like a cup of tea, please. "
    "Where were you on the morning of the fifth? We should meet again next week."
)
RATE = 22050
MAX_REFERENCE_S = 60.0  # zero-shot statistics need seconds; never decode more than this of a reference


class Converter(Protocol):
    def convert(self, x: np.ndarray, fs: int) -> np.ndarray: ...


class CloneTTS(TTSBackend):
    name = "clone"
    version = "1"
    capabilities = TTSCapabilities(streaming=True, zero_shot=True, emotions=True, trained_voices=True, sample_rate=RATE)

    def __init__(
        self,
        base: str = "piper",
        base_options: dict[str, Any] | None = None,
        strength: float = 1.0,
        reading_options: dict[str, Any] | None = None,
    ) -> None:
        """reading_options: base-engine settings for the readings the converters are measured on
        (calibration, training pairs, training checks); Piper reads them without its random variation so
        the same text always gives the same statistics, whatever the process or run."""
        super().__init__()
        self.base_name = base
        self.base_options = base_options or {}
        default_reading = {"noise_scale": 0.0, "noise_w_scale": 0.0} if base == "piper" else {}
        self.reading_options = {
            **self.base_options,
            **(default_reading if reading_options is None else reading_options),
        }
        self.strength = strength
        self._base: TTSBackend | None = None
        self._reader: TTSBackend | None = None
        self._base_stats: VoiceStats | None = None
        self._converters: dict[tuple[str, float], Converter] = {}
        self._lock = threading.Lock()

    def load(self) -> None:
        if self._base is None:
            base = registry.create("tts", self.base_name, **self.base_options)
            base.load()
            self._base = base
        if self._reader is None:
            same = self.reading_options == self.base_options
            self._reader = self._base if same else registry.create("tts", self.base_name, **self.reading_options)
            self._reader.load()

    def base_reading(self, text: str) -> np.ndarray:
        """The base voice reading `text` the way converters are measured (reading_options), float32 at
        22,050 Hz. Blocking: call it from a thread."""
        self.load()
        assert self._reader is not None
        base = self._reader

        async def run() -> list[np.ndarray]:
            out = StreamResampler(base.capabilities.sample_rate, RATE)
            parts: list[np.ndarray] = []
            async for c in base.synthesize(text, VoiceSpec(), TTSOptions()):
                if c.sample_rate != out.sr_in:
                    parts.append(out.flush())
                    out = StreamResampler(c.sample_rate, RATE)
                parts.append(out.process(c.samples))
            return [*parts, out.flush()]

        parts = asyncio.run(run())
        return np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, np.float32)

    def converter_trainer(self) -> GMMTrainer:
        """An empty trainer at the engine's rate: add (base reading, owner clip) pairs, then fit and save."""
        return GMMTrainer(RATE)

    def _calibrate(self, fs: int) -> VoiceStats:
        if self._base_stats is None:
            self._base_stats = VoiceStats.from_features([world.analyze(self.base_reading(CALIBRATION), fs)])
        return self._base_stats

    def converter_for(self, voice: VoiceSpec, fs: int) -> Converter:
        """Trained converter when the voice has one, else zero-shot toward its reference clip."""
        trained = voice.converter_dir / ARRAYS if voice.converter_dir else None
        source = trained if trained is not None and trained.is_file() else voice.reference_audio
        if source is None:
            raise InvalidInput(
                "The clone engine needs a voice with a reference clip or a trained converter.",
                "Pick a voice (--voice), pass a reference clip, or use the piper engine.",
            )
        key = (str(source), Path(source).stat().st_mtime)
        with self._lock:
            if key not in self._converters:
                self._converters[key] = self._build(source, trained, fs)
            return self._converters[key]

    def _build(self, source: Path, trained: Path | None, fs: int) -> Converter:
        if source == trained:
            return TrainedConverter.load(trained.parent)
        audio, _ = load_audio(source, sr=fs, max_s=MAX_REFERENCE_S, name="the voice's reference clip")
        tgt = VoiceStats.from_features([world.analyze(audio, fs)])
        return ZeroShotConverter(self._calibrate(fs), tgt, self.strength)

    def convert(self, samples: np.ndarray, sr: int, voice: VoiceSpec) -> np.ndarray:
        return self.converter_for(voice, sr).convert(samples, sr)

    async def synthesize(self, text: str, voice: VoiceSpec, options: TTSOptions) -> AsyncIterator[AudioChunk]:
        self.load()
        assert self._base is not None
        async for chunk in self._base.synthesize(text, VoiceSpec(language=voice.language), options):
            if voice.is_base and voice.voice_dir is None:
                yield chunk
                continue
            converted = await asyncio.to_thread(self.convert, chunk.samples, chunk.sample_rate, voice)
            yield AudioChunk(converted, chunk.sample_rate)
