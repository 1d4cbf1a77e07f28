"""Silero VAD: the ONNX model shipped in the silero-vad package, run with onnxruntime directly.

Same model and framing as silero-vad's own OnnxWrapper (512-sample windows at 16 kHz with 64 samples of
context and a recurrent state), without importing torch: the package's Python wrapper imports torch at
import time, which costs seconds and hundreds of MB for a model that needs only onnxruntime."""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from typing import Any

import numpy as np

from twin.backends.onnx_runtime import onnxruntime
from twin.errors import MissingDependency
from twin.providers.vad import VAD

WINDOW = 512
CONTEXT = 64


def model_path() -> Path:
    spec = importlib.util.find_spec("silero_vad")
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependency.for_extra("Voice activity detection", "voice", "silero_vad")
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / "silero_vad.onnx"
    if not path.is_file():
        raise MissingDependency(f"The silero-vad package has no {path.name}.", "pip install -U silero-vad")
    return path


class SileroStream:
    """Streaming use (the voice loop): feed 16 kHz float32 chunks, get one probability per 32 ms window."""

    hop_s = WINDOW / 16000

    def __init__(self, session: Any) -> None:
        self._session = session
        self._state = np.zeros((2, 1, 128), dtype=np.float32)
        self._context = np.zeros((1, CONTEXT), dtype=np.float32)
        self._pending = np.zeros(0, dtype=np.float32)
        self._sr = np.array(16000, dtype=np.int64)

    def feed(self, chunk: np.ndarray) -> list[float]:
        self._pending = np.concatenate([self._pending, np.asarray(chunk, dtype=np.float32).reshape(-1)])
        probs = []
        while len(self._pending) >= WINDOW:
            x = np.concatenate([self._context, self._pending[None, :WINDOW]], axis=1)
            self._pending = self._pending[WINDOW:]
            out, self._state = self._session.run(None, {"input": x, "state": self._state, "sr": self._sr})
            self._context = x[:, -CONTEXT:]
            probs.append(float(out[0, 0]))
        return probs


class SileroVAD(VAD):
    name = "silero"
    sample_rate = 16000

    def __init__(self, threads: int = 1) -> None:
        self.threads = threads
        self._session: Any = None
        self._lock = threading.Lock()

    def load(self) -> None:
        if self._session is not None:
            return
        ort = onnxruntime("Voice activity detection")
        opts = ort.SessionOptions()
        opts.inter_op_num_threads = 1
        opts.intra_op_num_threads = self.threads
        self._session = ort.InferenceSession(str(model_path()), sess_options=opts, providers=["CPUExecutionProvider"])

    def prob_stream(self) -> SileroStream:
        self.load()
        return SileroStream(self._session)

    stream = prob_stream  # the probabilities alone; listen() gives speech events

    def speech_probs(self, audio: np.ndarray, sr: int) -> tuple[np.ndarray, float]:
        from twin.audio.resample import resample

        self.load()
        x = resample(np.asarray(audio, dtype=np.float32), sr, 16000)
        if len(x) % WINDOW:
            x = np.pad(x, (0, WINDOW - len(x) % WINDOW))
        with self._lock:
            probs = SileroStream(self._session).feed(x)
        return np.asarray(probs, dtype=np.float32), WINDOW / 16000


def create(**kwargs: Any) -> SileroVAD:
    return SileroVAD(**kwargs)
