"""Embedded cloning: the base voice (Piper) followed by a WORLD-based converter toward the voice.

With a trained converter in the voice folder (`twin voice train`) that mapping is used; otherwise the
zero-shot converter matches the reference clip's F0, formants and average envelope. Base-voice statistics
are measured once per process from a short calibration read."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np

from twin.errors import InvalidInput
from twin.providers.tts import AudioChunk, TTSBackend, TTSCapabilities, TTSOptions, VoiceSpec

CALIBRATION = (
    "The quick brown fox jumps over the lazy dog. I would like a cup of tea, please. "
    "Where were you on the morning of the fifth? We should meet again next week."
)


class CloneTTS(TTSBackend):
    name = "clone"
    version = "1"
    capabilities = TTSCapabilities(
        streaming=True, zero_shot=True, emotions=True, trained_voices=True, sample_rate=22050
    )

    def __init__(self, base: str = "piper", base_options: dict[str, Any] | None = None, strength: float = 1.0) -> None:
        super().__init__()
        self.base_name = base
        self.base_options = base_options or {}
        self.strength = strength
        self._base: TTSBackend | None = None
        self._base_stats: Any = None
        self._converters: dict[tuple[str, float], Any] = {}
        self._lock = threading.Lock()

    def load(self) -> None:
        if self._base is None:
            from twin.voice.synth.engine_loop import get_backend

            base = get_backend(self.base_name, **self.base_options)
            base.load()
            self._base = base

    def _calibrate(self, fs: int) -> Any:
        from twin.voice.clone import world
        from twin.voice.clone.training import base_audio
        from twin.voice.clone.zeroshot import VoiceStats

        if self._base_stats is None:
            assert self._base is not None
            audio = base_audio(self._base, CALIBRATION)
            self._base_stats = VoiceStats.from_features([world.analyze(audio, fs)])
        return self._base_stats

    def converter_for(self, voice: VoiceSpec, fs: int) -> Any:
        """Trained converter when the voice has one, else zero-shot toward its reference clip."""
        from twin.voice.clone import world
        from twin.voice.clone.trained import ARRAYS, TrainedConverter
        from twin.voice.clone.zeroshot import VoiceStats, ZeroShotConverter
        from twin.voice.synth.voices import CONVERTER_DIR

        trained = voice.voice_dir / CONVERTER_DIR if voice.voice_dir else None
        ref = voice.reference_audio
        source = trained / ARRAYS if trained and (trained / ARRAYS).is_file() else ref
        if source is None:
            raise InvalidInput(
                "The clone engine needs a voice with a reference clip or a trained converter.",
                "Pick a voice (--voice), pass a reference clip, or use the piper engine.",
            )
        key = (str(source), Path(source).stat().st_mtime_ns)
        with self._lock:
            if key not in self._converters:
                if source != ref:
                    self._converters[key] = TrainedConverter.load(trained)  # type: ignore[arg-type]
                else:
                    from twin.voice.audio_io import load_audio

                    audio, _ = load_audio(voice.reference_bytes or ref, sr=fs)
                    tgt = VoiceStats.from_features([world.analyze(audio, fs)])
                    self._converters[key] = ZeroShotConverter(self._calibrate(fs), tgt, self.strength)
            return self._converters[key]

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
