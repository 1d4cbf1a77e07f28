"""Where the session is in time, and what the listener has heard.

`SessionClock`: the session's time in seconds. It advances with the microphone audio received (so a
client streaming in real time and a test feeding audio as fast as it can see the same behaviour), and
with the wall clock only while no audio arrives (push-to-talk, a muted mic), so playback still advances.

`PlaybackTracker`: each clause of speech is placed on that clock when it leaves the server, as a
client that plays on receipt would play it (after the clause before it). A `playback` report from the
client replaces the estimate. From this it answers what was actually delivered when the user cuts in:
the clauses heard in full and the words of the current one in proportion to the part played."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


class SessionClock:
    def __init__(self, wall: Callable[[], float] = time.monotonic, idle_after_s: float = 0.25) -> None:
        self._wall = wall
        self.idle_after_s = idle_after_s
        self._mic_s = 0.0
        self._offset = 0.0  # wall time added while the mic was idle
        self._last_audio: float | None = None

    def _idle(self, now: float) -> float:
        if self._last_audio is None:
            return 0.0
        return max(0.0, now - self._last_audio - self.idle_after_s)

    def audio(self, seconds: float) -> None:
        """`seconds` of mic audio arrived."""
        now = self._wall()
        self._offset += self._idle(now)
        self._last_audio = now
        self._mic_s += seconds

    def now(self) -> float:
        return self._mic_s + self._offset + self._idle(self._wall())

    @property
    def mic_s(self) -> float:
        return self._mic_s


@dataclass
class _Clause:
    seq: int
    text: str
    start: float
    duration: float


@dataclass
class _Turn:
    clauses: list[_Clause] = field(default_factory=list)
    reported_ms: float | None = None
    reported_at: float = 0.0


class PlaybackTracker:
    def __init__(self) -> None:
        self._turns: dict[str, _Turn] = {}
        self._end = 0.0  # when everything sent so far will have been played

    def sent(self, turn_id: str, seq: int, text: str, duration_s: float, now: float) -> float:
        """A clause left the server at `now`; returns when it starts playing."""
        start = max(now, self._end)
        self._end = start + duration_s
        self._turns.setdefault(turn_id, _Turn()).clauses.append(_Clause(seq, text, start, duration_s))
        return start

    def report(self, turn_id: str, played_ms: float, now: float) -> None:
        """The client says it has played `played_ms` of `turn_id`; later estimates start from that."""
        turn = self._turns.get(turn_id)
        if turn is None:
            return
        turn.reported_ms, turn.reported_at = played_ms, now
        total = sum(c.duration for c in turn.clauses)
        self._end = now + max(0.0, total - played_ms / 1000)

    def played_s(self, turn_id: str, now: float) -> float:
        turn = self._turns.get(turn_id)
        if turn is None or not turn.clauses:
            return 0.0
        total = sum(c.duration for c in turn.clauses)
        if turn.reported_ms is not None:
            return min(total, turn.reported_ms / 1000 + max(0.0, now - turn.reported_at))
        return sum(min(max(now - c.start, 0.0), c.duration) for c in turn.clauses)

    def playing(self, now: float) -> bool:
        return now < self._end

    @property
    def ends_at(self) -> float:
        return self._end

    def delivered(self, turn_id: str, now: float) -> tuple[str, float]:
        """(text heard so far, seconds heard) of `turn_id`."""
        turn = self._turns.get(turn_id)
        if turn is None:
            return "", 0.0
        left = played = self.played_s(turn_id, now)
        words: list[str] = []
        for clause in turn.clauses:
            if left <= 0:
                break
            parts = clause.text.split()
            if left >= clause.duration:
                words += parts
            elif clause.duration > 0:
                words += parts[: int(len(parts) * left / clause.duration)]
            left -= clause.duration
        return " ".join(words), played

    def stop(self, turn_id: str, now: float) -> None:
        """Playback of `turn_id` was cut off at `now` (the client drops what it has queued)."""
        turn = self._turns.pop(turn_id, None)
        if turn is not None:
            self._end = min(self._end, now)

    def forget(self, turn_id: str) -> None:
        self._turns.pop(turn_id, None)
