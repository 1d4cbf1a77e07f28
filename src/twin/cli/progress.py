"""Progress for long commands, always on stderr so stdout stays one JSON document with --json.

`event_printer` turns stage events ({"event": "merge", …}) into short plain lines. `Periodic` prints a
line at most every `every_s` seconds (and always the last one), for logs and pipes where a live bar
would be noise: `twin train 2>train.log` shows step, loss and ETA as it goes."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

_SKIP = {"event", "path", "work"}


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_fmt(v)}" for k, v in value.items()) + "}"
    return str(value)


def event_line(prefix: str, event: dict[str, Any]) -> str:
    name = str(event.get("event") or event.get("step") or "progress").replace("_", " ")
    details = ", ".join(
        f"{k.replace('_', ' ')} {_fmt(v)}" for k, v in event.items() if k not in _SKIP and v is not None
    )
    return f"{prefix}: {name}" + (f" ({details})" if details else "")


def event_printer(prefix: str, stream: TextIO | None = None) -> Callable[[dict[str, Any]], None]:
    out = stream or sys.stderr

    def emit(event: dict[str, Any]) -> None:
        out.write(event_line(prefix, event) + "\n")
        out.flush()

    return emit


class Periodic:
    """Print `line` on stderr when `every_s` seconds passed since the last one (or when forced)."""

    def __init__(self, every_s: float = 10.0, stream: TextIO | None = None) -> None:
        self.every_s = every_s
        self.stream = stream or sys.stderr
        self._last = float("-inf")

    def __call__(self, line: str, *, force: bool = False) -> bool:
        now = time.monotonic()
        if not force and now - self._last < self.every_s:
            return False
        self._last = now
        self.stream.write(line + "\n")
        self.stream.flush()
        return True
