"""Progress for long commands, always on stderr so stdout stays one JSON document with --json.

`event_printer` turns stage events ({"event": "merge", …}) into short plain lines (training's own
periodic step/loss/ETA lines come from twin.train.progress)."""

from __future__ import annotations

import sys
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
