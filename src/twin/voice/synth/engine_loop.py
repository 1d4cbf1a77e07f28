"""Process-wide pieces shared by every Synthesizer: one event loop thread that owns the engines (so
models stay warm and HTTP clients live on one loop), the warm backend pool and the in-flight table."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

from twin.providers import registry
from twin.providers.tts import TTSBackend

T = TypeVar("T")

_LOOP: asyncio.AbstractEventLoop | None = None
_LOOP_LOCK = threading.Lock()
_BACKENDS: dict[str, TTSBackend] = {}
_BACKENDS_LOCK = threading.Lock()


def engine_loop() -> asyncio.AbstractEventLoop:
    """The engines' event loop, started on first use in a daemon thread."""
    global _LOOP
    with _LOOP_LOCK:
        if _LOOP is None or _LOOP.is_closed():
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="twin-tts-engines", daemon=True)
            thread.start()
            _LOOP = loop
        return _LOOP


def submit(coro: Coroutine[Any, Any, T]) -> Future[T]:
    return asyncio.run_coroutine_threadsafe(coro, engine_loop())


def in_engine_loop() -> bool:
    try:
        return asyncio.get_running_loop() is _LOOP
    except RuntimeError:
        return False


def get_backend(name: str, **kwargs: Any) -> TTSBackend:
    """The warm backend for (name, settings); built through the registry on first use."""
    key = name + "|" + json.dumps(kwargs, sort_keys=True, default=str)
    with _BACKENDS_LOCK:
        backend = _BACKENDS.get(key)
        if backend is None:
            backend = registry.create("tts", name, **kwargs)
            _BACKENDS[key] = backend
        return backend


def reset_backends() -> None:
    """Forget every warm backend (tests; after an engine's settings change)."""
    with _BACKENDS_LOCK:
        _BACKENDS.clear()


class InFlight:
    """Identical concurrent requests share one synthesis: the first creates the task, the rest await it."""

    def __init__(self) -> None:
        self._tasks: dict[str, asyncio.Future[Any]] = {}

    async def run(self, key: str, factory: Any) -> tuple[Any, bool]:
        """(result, shared) where shared=True means another caller's synthesis was reused."""
        existing = self._tasks.get(key)
        if existing is not None:
            return await asyncio.shield(existing), True
        task = asyncio.ensure_future(factory())
        self._tasks[key] = task
        try:
            return await asyncio.shield(task), False
        finally:
            if self._tasks.get(key) is task:
                del self._tasks[key]


INFLIGHT = InFlight()
