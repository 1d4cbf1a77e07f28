"""Resemblyzer speaker encoder (GE2E, 256-d; the weights ship inside the package). Needs torch."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from twin.errors import InvalidInput, MissingDependency
from twin.providers.speaker import SpeakerEncoder


class ResemblyzerEncoder(SpeakerEncoder):
    name = "resemblyzer"
    dim = 256

    def __init__(self, threads: int = 0) -> None:
        self.threads = threads  # torch intra-op threads; 0 keeps torch's default (one short LSTM runs best on 1)
        self._encoder: Any = None
        self._lock = threading.Lock()

    def load(self) -> None:
        if self._encoder is not None:
            return
        try:
            from resemblyzer import VoiceEncoder
        except ImportError:
            raise MissingDependency.for_extra("Speaker embedding", "voice", "resemblyzer") from None
        if self.threads:
            import torch

            torch.set_num_threads(self.threads)
        self._encoder = VoiceEncoder("cpu", verbose=False)

    def embed(self, audio: np.ndarray, sr: int) -> np.ndarray:
        from resemblyzer import preprocess_wav

        from twin.audio.resample import resample

        self.load()
        x = resample(np.asarray(audio, dtype=np.float32), sr, 16000)
        if len(x) == 0 or float(np.sqrt(np.mean(x**2))) < 1e-4:
            raise InvalidInput("The audio is silent: no speaker to embed.", "Use a clip with clear speech.")
        wav = preprocess_wav(x, source_sr=16000)
        if len(wav) < 16000 * 0.5:  # preprocessing trims silence; fall back to the plain audio
            wav = x
        if len(wav) < 16000 * 0.2:
            raise InvalidInput(
                "The audio is too short to embed a speaker (under 0.2 s of speech).",
                "Use a clip with at least a second of speech.",
            )
        with self._lock:
            emb = self._encoder.embed_utterance(wav)
        emb = np.asarray(emb, dtype=np.float32)
        return emb / (np.linalg.norm(emb) or 1.0)


def create(**kwargs: Any) -> ResemblyzerEncoder:
    return ResemblyzerEncoder(**kwargs)
