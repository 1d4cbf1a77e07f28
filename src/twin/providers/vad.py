"""Voice-activity detection contract. No heavy imports here.

Two uses: whole recordings (`speech_probs`, `speech_regions`) and live audio (`listen()`): 16 kHz frames
in, `VADEvent`s out (speech start, pause, resume, end of turn), with the threshold, the least speech
that counts and the silence that ends a turn taken from `VADOptions`.

Backends (registry capability "vad"): `silero` (silero-vad ONNX) and `energy` (numpy, no model)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar, Literal, Protocol

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from twin.providers.loading import TracksLoading


class VADOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    threshold: float = Field(0.5, gt=0, lt=1, description="Speech probability above which a frame is speech.")
    min_speech_s: float = Field(0.25, ge=0, description="Shorter speech bursts are dropped.")
    min_silence_s: float = Field(0.1, ge=0, description="Shorter gaps do not split speech.")
    pad_s: float = Field(0.03, ge=0, description="Padding added around each speech region.")
    end_of_turn_s: float = Field(
        0.6, gt=0, le=10, description="Streaming: silence after speech that ends the speaker's turn."
    )


class VAD(TracksLoading, ABC):
    """Per-frame speech probabilities and speech regions in seconds."""

    name: ClassVar[str] = "vad"
    sample_rate: int = 16000  # the rate the model works at; other rates are resampled

    def load(self) -> None:  # noqa: B027 - optional hook
        """Import the engine and open the model (idempotent)."""

    @abstractmethod
    def speech_probs(self, audio: np.ndarray, sr: int) -> tuple[np.ndarray, float]:
        """(probabilities 0-1 per frame, frame hop in seconds) for mono float32 audio."""

    def prob_stream(self) -> ProbStream:
        """A streaming probability source at 16 kHz (backends override this with a stateful model)."""
        return _WindowedProbs(self)

    def listen(self, options: VADOptions | None = None) -> VADStream:
        """Live detection for one audio stream: feed 16 kHz float32 chunks, get VADEvents."""
        self.load()
        return VADStream(self.prob_stream(), options or VADOptions())

    def speech_regions(
        self, audio: np.ndarray, sr: int, options: VADOptions | None = None
    ) -> list[tuple[float, float]]:
        """Speech regions (start_s, end_s), derived from speech_probs with hysteresis."""
        probs, hop = self.speech_probs(audio, sr)
        return regions_from_probs(probs, hop, options or VADOptions(), len(audio) / sr)


def regions_from_probs(probs: np.ndarray, hop: float, opt: VADOptions, total_s: float) -> list[tuple[float, float]]:
    """Threshold with hysteresis (exit at threshold - 0.15), merge short gaps, drop short bursts, pad."""
    on = False
    start = 0.0
    raw: list[tuple[float, float]] = []
    low = max(opt.threshold - 0.15, 0.01)
    for i, p in enumerate(probs):
        if not on and p >= opt.threshold:
            on, start = True, i * hop
        elif on and p < low:
            on = False
            raw.append((start, i * hop))
    if on:
        raw.append((start, len(probs) * hop))
    merged: list[tuple[float, float]] = []
    for s, e in raw:
        if merged and s - merged[-1][1] < opt.min_silence_s:
            merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    out = []
    for s, e in merged:
        if e - s >= opt.min_speech_s:
            out.append((max(0.0, s - opt.pad_s), min(total_s, e + opt.pad_s)))
    return out


# ---- streaming ------------------------------------------------------------------------------------

VADEventKind = Literal["start", "pause", "resume", "end"]


@dataclass(frozen=True)
class VADEvent:
    """`start`: speech began at `at_s` (reported once it lasted min_speech_s); `pause`: it stopped at
    `at_s` (reported after min_silence_s of silence); `resume`: speech again before the turn ended;
    `end`: the silence since `at_s` lasted end_of_turn_s. Times are seconds of audio fed so far."""

    kind: VADEventKind
    at_s: float


class ProbStream(Protocol):
    """Speech probabilities for consecutive windows of `hop_s` seconds of 16 kHz audio."""

    hop_s: float

    def feed(self, chunk: np.ndarray) -> list[float]: ...


class _WindowedProbs:
    """Fallback for backends without a stateful model: speech_probs on each full window of audio."""

    def __init__(self, vad: VAD, window_s: float = 0.032) -> None:
        self._vad = vad
        self._window = int(16000 * window_s)
        self.hop_s = self._window / 16000
        self._pending = np.zeros(0, dtype=np.float32)

    def feed(self, chunk: np.ndarray) -> list[float]:
        self._pending = np.concatenate([self._pending, np.asarray(chunk, dtype=np.float32).reshape(-1)])
        n = len(self._pending) // self._window
        if n == 0:
            return []
        block, self._pending = self._pending[: n * self._window], self._pending[n * self._window :]
        probs, _ = self._vad.speech_probs(block, 16000)
        values = [float(p) for p in probs[:n]]
        return values + [values[-1] if values else 0.0] * (n - len(values))


class VADStream:
    """Turns per-window probabilities into speech events, with hysteresis (speech ends below
    threshold - 0.15), a minimum speech length before `start`, and two silences: a short one that
    reports a `pause` and the end-of-turn one that reports `end`."""

    def __init__(self, probs: ProbStream, options: VADOptions) -> None:
        self._probs = probs
        self.options = options
        self._low = max(options.threshold - 0.15, 0.01)
        self._t = 0.0  # seconds of audio whose probability is known
        self._onset: float | None = None  # candidate speech start while not yet confirmed
        self._speaking = False
        self._paused = False
        self._stop: float | None = None  # when the current silence began

    @property
    def in_speech(self) -> bool:
        """True from `start` until `end` (pauses included)."""
        return self._speaking

    @property
    def hearing_speech(self) -> bool:
        """True while speech is heard right now (in speech and not in a pause)."""
        return self._speaking and self._stop is None

    @property
    def position_s(self) -> float:
        return self._t

    def feed(self, chunk: np.ndarray) -> list[VADEvent]:
        events: list[VADEvent] = []
        hop = self._probs.hop_s
        for p in self._probs.feed(chunk):
            self._step(p, self._t, events)
            self._t += hop
        return events

    def _step(self, p: float, t: float, events: list[VADEvent]) -> None:
        opt = self.options
        if not self._speaking:
            if p >= opt.threshold:
                self._onset = t if self._onset is None else self._onset
                if t + self._probs.hop_s - self._onset >= opt.min_speech_s:
                    self._speaking, self._paused, self._stop = True, False, None
                    events.append(VADEvent("start", self._onset))
            elif p < self._low:
                self._onset = None
            return
        if p >= self._low and (p >= opt.threshold or self._stop is None):
            if self._paused:
                events.append(VADEvent("resume", t))
            self._paused, self._stop = False, None
            return
        self._stop = t if self._stop is None else self._stop
        silence = t + self._probs.hop_s - self._stop
        if not self._paused and silence >= opt.min_silence_s:
            self._paused = True
            events.append(VADEvent("pause", self._stop))
        if silence >= opt.end_of_turn_s:
            events.append(VADEvent("end", self._stop))
            self._speaking, self._paused, self._onset = False, False, None

    def retune(self, options: VADOptions) -> None:
        """New threshold and silences from now on."""
        self.options = options
        self._low = max(options.threshold - 0.15, 0.01)

    def reset(self) -> None:
        """Forget the current speech state (the audio clock keeps running)."""
        self._onset, self._speaking, self._paused, self._stop = None, False, False, None
