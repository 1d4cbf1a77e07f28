"""Streaming helpers: server-sent events and NDJSON from async generators, with TwinError raised
mid-stream turned into a final error event (headers are already sent by then)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from twin.errors import TwinError


def sse(data: Any, event: str | None = None) -> bytes:
    payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {payload}\n\n".encode()


def ndjson(obj: dict[str, Any]) -> bytes:
    return (json.dumps(obj, ensure_ascii=False) + "\n").encode()


async def guarded(gen: AsyncIterator[bytes], on_error: Any) -> AsyncIterator[bytes]:
    """Pass `gen` through; a TwinError becomes `on_error(exc)` as the stream's last piece."""
    try:
        async for piece in gen:
            yield piece
    except TwinError as exc:
        yield on_error(exc)


async def first_then_rest(gen: AsyncIterator[Any]) -> tuple[Any, AsyncIterator[Any]]:
    """Pull the first item before the response starts, so setup errors still get a proper status."""
    it = gen.__aiter__()
    try:
        first = await it.__anext__()
    except StopAsyncIteration:
        first = None

    async def rest() -> AsyncIterator[Any]:
        if first is not None:
            yield first
        async for item in it:
            yield item

    return first, rest()
