"""What training needs of a TTS engine with `capabilities.trained_voices` (the embedded clone engine):
deterministic readings by its base voice, conversion with a given voice spec, and a converter trainer.
The engine owns the converter's maths and file format; the voice stage owns which clips, where the
converter lives and whether it becomes active."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from twin.providers.tts import VoiceSpec


class FittedConverter(Protocol):
    meta: dict[str, Any]

    def save(self, folder: Path) -> None: ...


class ConverterTrainer(Protocol):
    def add(self, base: np.ndarray, owner: np.ndarray) -> None: ...

    def fit(self, components: int = 8, meta: dict[str, Any] | None = None) -> FittedConverter: ...


@runtime_checkable
class TrainableEngine(Protocol):
    def base_reading(self, text: str) -> np.ndarray:
        """The base voice reading `text`, the same every time, float32 at 22,050 Hz."""
        ...

    def convert(self, samples: np.ndarray, sr: int, voice: VoiceSpec) -> np.ndarray:
        """Base-voice audio converted toward `voice` (its converter_dir, else its reference clip)."""
        ...

    def converter_trainer(self) -> ConverterTrainer: ...
