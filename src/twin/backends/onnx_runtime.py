"""The one way backends reach onnxruntime: with its telemetry switched off before it is imported.

onnxruntime starts a telemetry uploader at import, so this must run before any library that imports it
(silero VAD here, piper's PiperVoice, faster-whisper's VAD) is imported. Every such backend calls
`onnxruntime()` first instead of importing those libraries straight away."""

from __future__ import annotations

import logging
import sys
import threading
from types import ModuleType

from twin.errors import MissingDependency
from twin.offline_env import apply_offline_env

log = logging.getLogger("twin.backends.onnx")
_LOCK = threading.Lock()
_READY: ModuleType | None = None


def onnxruntime(what: str = "This engine", extra: str = "voice") -> ModuleType:
    """The onnxruntime module, imported with telemetry off; MissingDependency names `extra` if absent."""
    global _READY
    with _LOCK:
        if _READY is not None:
            return _READY
        if "onnxruntime" not in sys.modules:
            apply_offline_env()
        else:  # imported by something else first: its uploader may already run; switch it off at least now
            log.warning("onnxruntime was imported before twin could disable its telemetry")
        try:
            import onnxruntime as ort
        except ImportError:
            raise MissingDependency.for_extra(what, extra, "onnxruntime") from None
        ort.disable_telemetry_events()
        _READY = ort
        return ort
