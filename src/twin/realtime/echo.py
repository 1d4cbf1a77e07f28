"""Echo rejection: is what the microphone hears the server's own speech coming back from a speaker?

The server knows every sample it sent and when it should have played (twin.realtime.playback). Mic
audio is compared with that reference over a window of plausible speaker-to-mic delays. The
comparison uses log band energies (10 ms frames, 24 bands from 100 Hz to 4 kHz, a 30 dB floor, band
and frame means removed), not raw samples: a room, a loudspeaker and two resamplings change the waveform and the
level but keep the spectro-temporal pattern. A correlation above the threshold at some delay means
echo. A person speaking over the echo breaks the pattern, which is what lets barge-in through.

Written here because no packaged library does reference-based echo detection on a server-side stream
(speexdsp/WebRTC AEC bindings cancel echo on a client device and are not on the package index here)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from twin.realtime.config import EchoConfig

RATE = 16000
HOP = 160  # 10 ms
FRAME = 512
BANDS = 24
FLOOR_DECADES = 3.0


def _band_matrix() -> np.ndarray:
    freqs = np.fft.rfftfreq(FRAME, 1 / RATE)
    edges = np.geomspace(100, 4000, BANDS + 1)
    m = np.zeros((BANDS, len(freqs)), dtype=np.float32)
    for b in range(BANDS):
        m[b, (freqs >= edges[b]) & (freqs < edges[b + 1])] = 1.0
    return m


_BANDS = _band_matrix()
_WINDOW = np.hanning(FRAME).astype(np.float32)


def band_energies(x: np.ndarray) -> np.ndarray:
    """(frames, BANDS) log10 band energies of 16 kHz audio, one frame per 10 ms."""
    if len(x) < FRAME:
        return np.zeros((0, BANDS), dtype=np.float32)
    frames = np.lib.stride_tricks.sliding_window_view(x, FRAME)[::HOP] * _WINDOW
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    level = np.log10(power @ _BANDS.T + 1e-10)
    return np.maximum(level, level.max() - FLOOR_DECADES).astype(np.float32)  # noise below -30 dB is all alike


@dataclass
class _Ref:
    start: float
    samples: np.ndarray

    @property
    def end(self) -> float:
        return self.start + len(self.samples) / RATE


class EchoGate:
    def __init__(self, config: EchoConfig) -> None:
        self.config = config
        self._refs: deque[_Ref] = deque()
        self._mic: deque[np.ndarray] = deque()
        self._mic_len = 0
        self._keep = int(RATE * (config.window_ms / 1000 + 0.1))
        self.last_score = 0.0

    def add_reference(self, samples: np.ndarray, start_s: float) -> None:
        """16 kHz audio the client will play from `start_s` on the session clock."""
        if len(samples):
            self._refs.append(_Ref(start_s, np.asarray(samples, dtype=np.float32)))

    def add_mic(self, samples: np.ndarray) -> None:
        self._mic.append(np.asarray(samples, dtype=np.float32))
        self._mic_len += len(samples)
        while self._mic_len - len(self._mic[0]) >= self._keep:
            self._mic_len -= len(self._mic.popleft())

    def active(self, now: float) -> bool:
        """Whether echo of sent audio can be arriving now."""
        tail = (self.config.max_delay_ms + self.config.tail_ms) / 1000
        self._prune(now - tail - self.config.window_ms / 1000)
        return self.config.enabled and any(r.start <= now and r.end + tail >= now for r in self._refs)

    def is_echo(self, now: float) -> bool:
        return self.active(now) and self.score(now) >= self.config.threshold

    def score(self, now: float) -> float:
        """Best correlation of the last window of mic audio with the reference over the delay window."""
        cfg = self.config
        window = int(RATE * cfg.window_ms / 1000)
        if self._mic_len < window:
            self.last_score = 0.0
            return 0.0
        mic = np.concatenate(self._mic)[-window:]
        lo, hi = cfg.min_delay_ms / 1000, cfg.max_delay_ms / 1000
        ref = self._reference(now - window / RATE - hi, now - lo)
        m, r = band_energies(mic), band_energies(ref)
        if len(m) == 0 or len(r) < len(m) or float(np.max(np.abs(ref))) < 1e-4:
            self.last_score = 0.0
            return 0.0
        slices = np.lib.stride_tricks.sliding_window_view(r, len(m), axis=0).transpose(0, 2, 1)
        # Remove each band's mean (the room's colour) and each frame's mean (loudness, which any two
        # speakers share as a syllable rhythm): what is left is the pattern of what is being said.
        slices = slices - slices.mean(axis=1, keepdims=True)
        slices = slices - slices.mean(axis=2, keepdims=True)
        mc = m - m.mean(axis=0, keepdims=True)
        mc = mc - mc.mean(axis=1, keepdims=True)
        num = np.einsum("ktb,tb->k", slices, mc)
        den = np.sqrt(np.einsum("ktb,ktb->k", slices, slices) * float(np.sum(mc * mc))) + 1e-9
        self.last_score = float(np.max(num / den))
        return self.last_score

    def _reference(self, t0: float, t1: float) -> np.ndarray:
        out = np.zeros(max(int(round((t1 - t0) * RATE)), 0), dtype=np.float32)
        for ref in self._refs:
            if ref.end <= t0 or ref.start >= t1:
                continue
            a = int(round((ref.start - t0) * RATE))
            src = ref.samples[max(0, -a) :]
            a = max(a, 0)
            n = min(len(src), len(out) - a)
            if n > 0:
                out[a : a + n] += src[:n]
        return out

    def _prune(self, before: float) -> None:
        while self._refs and self._refs[0].end < before:
            self._refs.popleft()
