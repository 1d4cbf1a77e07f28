"""Channel mixing."""

from __future__ import annotations

import numpy as np


def to_mono(audio: np.ndarray) -> np.ndarray:
    """Average the channels of (n, channels) audio to float32 (n,); (n,) passes through as float32.

    Column sums rather than a strided mean(axis=1): several times faster on interleaved audio."""
    a = np.asarray(audio, dtype=np.float32)
    if a.ndim == 1:
        return a
    out = a[:, 0].copy()
    for c in range(1, a.shape[1]):
        out += a[:, c]
    return out / np.float32(a.shape[1]) if a.shape[1] > 1 else out
