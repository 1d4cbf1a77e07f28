"""Streaming helpers: server-sent events and NDJSON from async generators, and chunked audio. Any
exception raised mid-stream (headers are already sent by then) becomes the stream's last piece (an
error event) or, for audio, a cleanly ended body with an `X-Twin-Error` trailer where the HTTP server
supports trailers; the connection always stays usable."""

from __future__ import annotations

import json
from collections.abc import AsyncIterable, AsyncIterator, Callable, Mapping
from typing import Any, TypeVar

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from twin.api.errors import as_twin_error
from twin.errors import TwinError

T = TypeVar("T")
ERROR_TRAILER = "X-Twin-Error"


def sse(data: Any, event: str | None = None) -> bytes:
    payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {payload}\n\n".encode()


def ndjson(obj: dict[str, Any]) -> bytes:
    return (json.dumps(obj, ensure_ascii=False) + "\n").encode()


async def guarded(gen: AsyncIterator[T], on_error: Callable[[TwinError], T]) -> AsyncIterator[T]:
    """Pass `gen` through; any exception becomes `on_error(error)` as the stream's last piece (an
    unexpected one is logged and reported as internal_error, without details)."""
    try:
        async for piece in gen:
            yield piece
    except Exception as exc:  # noqa: BLE001 - rendered for the client, logged when unexpected
        yield on_error(as_twin_error(exc))


async def first_then_rest(gen: AsyncIterable[T]) -> tuple[T | None, AsyncIterator[T]]:
    """Pull the first item before the response starts, so setup errors still get a proper status."""
    it = gen.__aiter__()
    try:
        first: T | None = await it.__anext__()
    except StopAsyncIteration:
        first = None

    async def rest() -> AsyncIterator[T]:
        if first is not None:
            yield first
        async for item in it:
            yield item

    return first, rest()


class AudioStreamResponse(StreamingResponse):
    """Chunked audio. A failure after the first bytes ends the body cleanly (never a broken connection)
    and is reported in the `X-Twin-Error` trailer (the error JSON) when the server offers trailers."""

    def __init__(self, content: AsyncIterator[bytes], media_type: str, headers: Mapping[str, str]) -> None:
        super().__init__(content, media_type=media_type, headers=headers)
        self._trailers = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self._trailers = "http.response.trailers" in scope.get("extensions", {})
        if self._trailers:
            self.headers["Trailer"] = ERROR_TRAILER
        await super().__call__(scope, receive, send)

    async def stream_response(self, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": self.status_code,
                "headers": self.raw_headers,
                "trailers": self._trailers,
            }
        )
        error: TwinError | None = None
        chunks = self.body_iterator.__aiter__()
        while True:
            try:
                chunk = await chunks.__anext__()
            except StopAsyncIteration:
                break
            except Exception as exc:  # noqa: BLE001 - reported in the trailer, logged when unexpected
                error = as_twin_error(exc)
                break
            data = chunk if isinstance(chunk, bytes | memoryview) else chunk.encode(self.charset)
            await send({"type": "http.response.body", "body": data, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        if self._trailers:
            fields = [(ERROR_TRAILER.lower().encode(), json.dumps(error.to_dict()).encode())] if error else []
            await send({"type": "http.response.trailers", "headers": fields, "more_trailers": False})
