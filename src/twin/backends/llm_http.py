"""HTTP helpers shared by the Ollama and OpenAI-compatible backends: one httpx client per request
(clients are bound to an event loop and complete_sync runs its own loop), proxies from the
environment ignored (a local runtime must never be reached through a proxy), and transport errors
mapped to TwinErrors with hints."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from twin.errors import Timeout, TwinError, Unavailable


def client(base_url: str, read_timeout_s: float, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
    timeout = httpx.Timeout(connect=5.0, read=read_timeout_s, write=30.0, pool=5.0)
    return httpx.AsyncClient(base_url=base_url, timeout=timeout, trust_env=False, headers=headers or {})


@asynccontextmanager
async def transport_errors(what: str, url: str, start_hint: str) -> AsyncIterator[None]:
    """Turn httpx failures into Unavailable / Timeout naming the runtime and how to start it."""
    try:
        yield
    except TwinError:
        raise
    except httpx.ConnectError as exc:
        raise Unavailable(f"Cannot reach {what} at {url} ({exc}).", start_hint) from None
    except httpx.TimeoutException:
        raise Timeout(
            f"{what} at {url} did not answer in time.",
            "The model may still be loading: try again, raise timeout_s, or use a smaller model.",
        ) from None
    except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
        raise Unavailable(
            f"{what} at {url} closed the connection mid-reply ({exc}).",
            f"Check the {what} log; it may have crashed or run out of memory.",
        ) from None


def error_text(body: bytes) -> str:
    """The error message inside an error response body (Ollama and OpenAI shapes), else the raw text."""
    try:
        data: Any = json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace").strip()[:500]
    err = data.get("error") if isinstance(data, dict) else None
    if isinstance(err, dict):
        return str(err.get("message") or err)
    return str(err or data)[:500]
