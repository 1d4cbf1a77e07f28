"""Admission control: each kind of heavy work (synthesis, generation) runs at most `capacity` at a time
with at most `queue` requests waiting; beyond that, or after waiting `wait_s`, a request is refused at
once with 503 and a Retry-After estimated from recent service times, instead of piling up in memory.

Counters live under a thread lock and waiters are futures of whichever event loop they came from, so
one gate serves every loop (the server's, a test client's portal, the engines' loop)."""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import TypeVar

from twin.errors import Unavailable

T = TypeVar("T")


class Overloaded(Unavailable):
    """More requests than the server takes: try again after `retry_after_s`."""

    code = "overloaded"

    def __init__(self, what: str, retry_after_s: int) -> None:
        super().__init__(
            f"The server is busy with other {what} requests.",
            f"Retry after {retry_after_s} s (the Retry-After header says when).",
        )
        self.retry_after_s = retry_after_s


@dataclass
class GateStats:
    name: str
    capacity: int
    queue: int
    active: int
    waiting: int
    admitted: int
    shed: int

    def to_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


class Gate:
    def __init__(self, name: str, capacity: int, queue: int, wait_s: float) -> None:
        self.name = name
        self.capacity = max(1, capacity)
        self.queue = max(0, queue)
        self.wait_s = wait_s
        self._lock = threading.Lock()
        self._active = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._granted: set[asyncio.Future[None]] = set()  # handed a slot, not yet woken
        self._admitted = 0
        self._shed = 0
        self._avg_s = 1.0  # moving average of how long one admitted request holds its slot

    def stats(self) -> GateStats:
        with self._lock:
            waiting = len(self._waiters)
            return GateStats(self.name, self.capacity, self.queue, self._active, waiting, self._admitted, self._shed)

    def retry_after(self) -> int:
        """Seconds until the queue ahead would likely have drained (1-120)."""
        ahead = self._active + len(self._waiters)
        return int(min(120, max(1, math.ceil(self._avg_s * max(ahead, 1) / self.capacity))))

    def _refuse(self) -> Overloaded:
        self._shed += 1
        return Overloaded(self.name, self.retry_after())

    async def acquire(self) -> None:
        with self._lock:
            if self._active < self.capacity and not self._waiters:
                self._active += 1
                self._admitted += 1
                return
            if len(self._waiters) >= self.queue:
                raise self._refuse()
            fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.append(fut)
        try:
            await asyncio.wait_for(asyncio.shield(fut), self.wait_s)
        except (TimeoutError, asyncio.CancelledError) as exc:
            with self._lock:
                granted = fut in self._granted
                self._granted.discard(fut)
                if not granted:
                    self._discard(fut)
                if granted:  # the slot arrived as we gave up: pass it on
                    self._release_locked()
                if isinstance(exc, TimeoutError):
                    raise self._refuse() from None
            raise
        with self._lock:
            self._granted.discard(fut)
            self._admitted += 1

    def _discard(self, fut: asyncio.Future[None]) -> None:
        with suppress(ValueError):
            self._waiters.remove(fut)

    def release(self, held_s: float | None = None) -> None:
        with self._lock:
            if held_s is not None:
                self._avg_s = 0.8 * self._avg_s + 0.2 * held_s
            self._release_locked()

    def _release_locked(self) -> None:
        """Hand the slot to the oldest waiter (woken on its own loop), or free it."""
        while self._waiters:
            fut = self._waiters.popleft()
            try:
                fut.get_loop().call_soon_threadsafe(_wake, fut)
            except RuntimeError:  # its loop is closed: nobody is waiting there any more
                continue
            self._granted.add(fut)
            return
        self._active -= 1

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        await self.acquire()
        start = time.monotonic()
        try:
            yield
        finally:
            self.release(time.monotonic() - start)

    async def run(self, work: Callable[[], Awaitable[T]]) -> T:
        async with self.slot():
            return await work()

    async def stream(self, make: Callable[[], AsyncIterator[T]]) -> AsyncIterator[T]:
        """Items of `make()` while holding a slot: taken at the first pull, given back when the stream ends
        or is closed (a client that goes away frees its slot)."""
        async with self.slot():
            async for item in make():
                yield item


def _wake(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)
