"""Speech-to-text contract: transcribe(audio, sr) -> Transcript, and `stream()` for live speech: an
`STTStream` holds the growing audio of one utterance, gives partial transcripts while it grows and a
final one at the endpoint that reuses the work already done (text that two decodes agreed on is
committed and its audio dropped; a final over audio that was already decoded is not decoded again).
No heavy imports here.

Backends (registry capability "stt"): `faster_whisper` (embedded, packaged whisper weights).
Calls are synchronous and blocking; async callers run them in a thread."""

from __future__ import annotations

import difflib
import re
import threading
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from twin.providers.loading import TracksLoading


class STTOptions(BaseModel):
    """Options every STT backend understands."""

    model_config = ConfigDict(extra="forbid")

    language: str | None = Field("en", description="Spoken language (ISO 639-1); None lets the model detect it.")
    beam_size: int = Field(1, ge=1, le=10, description="Beam width; 1 is greedy and fastest.")
    word_timestamps: bool = Field(False, description="Also return per-word timings where supported.")
    prompt: str | None = Field(
        None, max_length=2000, description="Text said just before this audio (context for the decoder)."
    )


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    text: str
    probability: float = 0.0


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    text: str
    confidence: float = 0.0  # 0-1, from the model's token probabilities
    words: tuple[Word, ...] = ()  # filled when word_timestamps was asked for and the backend supports it


@dataclass(frozen=True)
class Transcript:
    text: str
    segments: list[Segment] = field(default_factory=list)
    confidence: float = 0.0  # 0-1, duration-weighted over segments
    language: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class STTCapabilities:
    languages: tuple[str, ...] = ("en",)
    word_timestamps: bool = False
    in_process: bool = True


class STT(TracksLoading, ABC):
    """A speech recognizer. `load()` does the heavy imports and opens the model (idempotent)."""

    name: ClassVar[str] = "stt"
    capabilities: STTCapabilities = STTCapabilities()

    def load(self) -> None:  # noqa: B027 - optional hook
        """Import the engine and open the model; called lazily by transcribe()."""

    @abstractmethod
    def transcribe(self, audio: np.ndarray, sr: int, options: STTOptions | None = None) -> Transcript:
        """Transcribe mono float32 audio at sample rate `sr`."""

    def stream(self, options: STTOptions | None = None) -> STTStream:
        """Incremental transcription of one utterance of 16 kHz audio."""
        return STTStream(self, options or STTOptions())


STREAM_RATE = 16000


def _words(text: str) -> list[str]:
    return re.findall(r"[\w']+", text.lower())


def _agree(a: str, b: str) -> bool:
    """Two decodes of the same speech say the same thing (small decoder wobbles allowed)."""
    wa, wb = _words(a), _words(b)
    return bool(wa) and difflib.SequenceMatcher(None, wa, wb).ratio() >= 0.85


class STTStream:
    """One utterance, transcribed while it grows. `append()` from the audio thread; `partial()` and
    `final()` block (run them in a worker thread, one at a time).

    Reuse: a segment that two consecutive decodes produced alike (the same words give or take one in
    eight, ending at about the same time) and that ends more than `settle_s` before the end of the
    audio is committed (the newer decode's words): its text is kept, its audio dropped, and it
    becomes the decoder's prompt for the rest. `final(upto_s)` returns the last decode unchanged when
    that decode already covered the audio up to `upto_s` (the speech ended before it was made)."""

    def __init__(self, stt: STT, options: STTOptions, settle_s: float = 1.0) -> None:
        self.stt = stt
        self.options = options
        self.settle_s = settle_s
        self._lock = threading.Lock()
        self._chunks: list[np.ndarray] = []
        self._samples = 0  # samples appended in all
        self._offset = 0  # samples committed and dropped from the front
        self._committed: list[Segment] = []
        self._previous: list[Segment] = []
        self._last: Transcript | None = None
        self._decoded_upto = 0  # absolute sample index the last decode reached

    @property
    def duration_s(self) -> float:
        return self._samples / STREAM_RATE

    def append(self, audio: np.ndarray) -> None:
        x = np.asarray(audio, dtype=np.float32).reshape(-1)
        with self._lock:
            self._chunks.append(x)
            self._samples += len(x)

    def _pending(self, upto: int) -> np.ndarray:
        with self._lock:
            if len(self._chunks) > 1:
                self._chunks = [np.concatenate(self._chunks)]
            audio = self._chunks[0] if self._chunks else np.zeros(0, dtype=np.float32)
        return audio[: max(upto - self._offset, 0)]

    def _decode(self, upto: int) -> list[Segment]:
        audio = self._pending(upto)
        self._decoded_upto = self._offset + len(audio)
        if len(audio) < STREAM_RATE // 10:
            return []
        prompt = " ".join(s.text for s in self._committed)[-800:] or None
        options = self.options.model_copy(update={"prompt": prompt}) if prompt else self.options
        return list(self.stt.transcribe(audio, STREAM_RATE, options).segments)

    def _commit(self, segments: list[Segment]) -> list[Segment]:
        """Commit the settled prefix agreed by this and the previous decode; return the rest."""
        horizon = (self._decoded_upto - self._offset) / STREAM_RATE - self.settle_s
        keep = 0
        for new, old in zip(segments, self._previous, strict=False):
            if new.end > horizon or abs(new.end - old.end) > 0.5 or not _agree(new.text, old.text):
                break
            keep += 1
        if keep:
            base = self._offset / STREAM_RATE
            done = segments[:keep]
            self._committed += [Segment(s.start + base, s.end + base, s.text, s.confidence) for s in done]
            cut = int(done[-1].end * STREAM_RATE)
            with self._lock:
                audio = np.concatenate(self._chunks) if self._chunks else np.zeros(0, dtype=np.float32)
                self._chunks = [audio[cut:]]
            self._offset += cut
            segments = [
                Segment(s.start - done[-1].end, s.end - done[-1].end, s.text, s.confidence) for s in segments[keep:]
            ]
        self._previous = segments
        return segments

    def _result(self, rest: list[Segment], base_s: float) -> Transcript:
        shifted = [Segment(s.start + base_s, s.end + base_s, s.text, s.confidence) for s in rest]
        segments = [*self._committed, *shifted]
        total = sum(max(s.end - s.start, 1e-3) for s in segments)
        conf = sum(s.confidence * max(s.end - s.start, 1e-3) for s in segments) / total if segments else 0.0
        text = " ".join(s.text for s in segments if s.text).strip()
        self._last = Transcript(text, segments, round(conf, 4), self.options.language or "")
        return self._last

    def partial(self) -> Transcript:
        """The transcript so far (committing what has settled)."""
        rest = self._commit(self._decode(self._samples))
        return self._result(rest, self._offset / STREAM_RATE)

    def final(self, upto_s: float | None = None) -> Transcript:
        """The whole utterance up to `upto_s` (default: everything appended)."""
        upto = self._samples if upto_s is None else min(int(upto_s * STREAM_RATE), self._samples)
        if self._last is not None and self._decoded_upto >= upto:
            return self._last
        rest = self._decode(upto)
        return self._result(rest, self._offset / STREAM_RATE)
