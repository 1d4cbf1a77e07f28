"""The session's two queues.

`MicQueue`: incoming audio, bounded by duration; when the loop falls behind, the OLDEST audio is
dropped (late audio is worth less than current audio in a conversation) and counted.

`Outbox`: events for the client in order. Speech (`TTSAudio`) is bounded: a producer waits while
`max_audio` clauses are unsent (backpressure on synthesis); text events never wait. On barge-in every
unsent clause of the interrupted turn is removed at once. `on_send` is called for each event as it
leaves, so the session knows exactly which audio the client received and when."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

from twin.realtime.events import ServerEvent, TTSAudio


class MicQueue:
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max(1, max_bytes)
        self._frames: deque[bytes] = deque()
        self._bytes = 0
        self._ready = asyncio.Event()
        self.dropped_bytes = 0
        self._closed = False

    @property
    def pending_bytes(self) -> int:
        return self._bytes

    def put(self, frame: bytes) -> None:
        if self._closed or not frame:
            return
        self._frames.append(frame)
        self._bytes += len(frame)
        while self._bytes > self.max_bytes and len(self._frames) > 1:
            old = self._frames.popleft()
            self._bytes -= len(old)
            self.dropped_bytes += len(old)
        self._ready.set()

    async def get(self) -> bytes | None:
        """The oldest frame; None once closed and empty."""
        while not self._frames:
            if self._closed:
                return None
            self._ready.clear()
            await self._ready.wait()
        frame = self._frames.popleft()
        self._bytes -= len(frame)
        return frame

    def get_nowait(self) -> bytes | None:
        if not self._frames:
            return None
        frame = self._frames.popleft()
        self._bytes -= len(frame)
        return frame

    def close(self) -> None:
        self._closed = True
        self._ready.set()


class Outbox:
    def __init__(self, max_audio: int, on_send: Callable[[ServerEvent], None] | None = None) -> None:
        self.max_audio = max(1, max_audio)
        self.on_send = on_send
        self._items: deque[ServerEvent] = deque()
        self._audio = 0
        self._has_items = asyncio.Event()
        self._has_room = asyncio.Event()
        self._closed = False

    @property
    def pending_audio(self) -> int:
        return self._audio

    def put_nowait(self, event: ServerEvent) -> None:
        """Queue a text event (never waits)."""
        if self._closed:
            return
        self._items.append(event)
        if isinstance(event, TTSAudio):
            self._audio += 1
        self._has_items.set()

    async def put_audio(self, event: TTSAudio) -> None:
        """Queue speech, waiting while the client has `max_audio` clauses still unsent."""
        while not self._closed and self._audio >= self.max_audio:
            self._has_room.clear()
            await self._has_room.wait()
        self.put_nowait(event)

    def drop_audio(self, turn_id: str) -> int:
        """Remove every unsent clause of `turn_id`; returns how many were dropped."""
        kept = [e for e in self._items if not (isinstance(e, TTSAudio) and e.turn_id == turn_id)]
        dropped = len(self._items) - len(kept)
        if dropped:
            self._items = deque(kept)
            self._audio -= dropped
            self._has_room.set()
        return dropped

    async def get(self) -> ServerEvent | None:
        """The next event to send; None once closed and drained."""
        while not self._items:
            if self._closed:
                return None
            self._has_items.clear()
            await self._has_items.wait()
        event = self._items.popleft()
        if isinstance(event, TTSAudio):
            self._audio -= 1
            self._has_room.set()
        if self.on_send is not None:
            self.on_send(event)
        return event

    def close(self) -> None:
        self._closed = True
        self._has_items.set()
        self._has_room.set()
