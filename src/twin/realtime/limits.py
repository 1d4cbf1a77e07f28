"""Limits every voice connection is held to (TWIN_REALTIME_ environment variables): frame and message
sizes, message rate, session length, concurrent sessions per API key."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from twin.errors import TooLarge, TwinError


class RealtimeLimits(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TWIN_REALTIME_", extra="forbid")

    max_frame_bytes: int = Field(64 * 1024, ge=1024, description="Largest binary audio frame.")
    max_text_bytes: int = Field(256 * 1024, ge=1024, description="Largest JSON message (base64 audio included).")
    max_messages_per_s: float = Field(100, gt=0, description="Sustained messages per second.")
    burst: int = Field(200, ge=1, description="Messages allowed at once above the sustained rate.")
    max_session_s: float = Field(3600, gt=0, description="Longest voice session, in seconds.")
    max_sessions_per_key: int = Field(2, ge=1, description="Voice sessions one API key may hold at once.")

    def public(self) -> dict[str, float]:
        return {
            "max_frame_bytes": self.max_frame_bytes,
            "max_text_bytes": self.max_text_bytes,
            "max_messages_per_s": self.max_messages_per_s,
            "max_session_s": self.max_session_s,
        }


class RateLimiter:
    """Token bucket: `burst` messages at once, refilled at `rate` a second."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self._clock = rate, burst, clock
        self._tokens = float(burst)
        self._at = clock()

    def allow(self) -> bool:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False


class SessionCounter:
    """Concurrent sessions per key."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[str, int] = {}

    def acquire(self, key_id: str, limit: int) -> bool:
        with self._lock:
            if self._open.get(key_id, 0) >= limit:
                return False
            self._open[key_id] = self._open.get(key_id, 0) + 1
            return True

    def release(self, key_id: str) -> None:
        with self._lock:
            left = self._open.get(key_id, 0) - 1
            if left > 0:
                self._open[key_id] = left
            else:
                self._open.pop(key_id, None)

    def total(self) -> int:
        with self._lock:
            return sum(self._open.values())


def frame_too_large(size: int, limit: int) -> TooLarge:
    return TooLarge(
        f"A {size}-byte message is larger than the {limit}-byte limit; it was dropped.",
        "Send audio in frames of 20-100 ms.",
        code="bad_request:frame_too_large",
    )


def rate_exceeded(rate: float) -> TwinError:
    return TwinError(
        f"More than {rate:g} messages a second; some were dropped.",
        "Send audio in frames of 20 ms or longer.",
        code="bad_request:rate_limited",
    )
