"""Zero egress, layer 0: switch off the network features of native dependencies before they load.

The socket guard in ops/egress.py sees only Python sockets; libraries with native code open their own.
Each variable below was checked against the dependency it names (strings in its binary or its docs,
then a run under strace). Values are forced, not defaulted: twin never downloads or reports anything,
so a user's shell setting such as HF_HUB_OFFLINE=0 must not turn that back on.

- onnxruntime (used by silero VAD, piper and faster-whisper's VAD) starts a telemetry uploader when it is
  *imported* (DNS for mobile.events.data.microsoft.com about ten seconds later, events queued in
  ~/.cache/Microsoft/DeveloperTools/.onnxruntime). Only ORT_DISABLE_TELEMETRY, read at import, stops
  both; `disable_telemetry_events()` called after import does not (backends/onnx_runtime.py calls it too).
- huggingface_hub, transformers, datasets, sentence-transformers: offline mode, no telemetry, no implicit
  token, no update checks. DO_NOT_TRACK is the cross-tool convention several of them honour.
- torch, ctranslate2 (faster-whisper), llama.cpp, piper and espeak-ng: no network code found; nothing to set.
"""

from __future__ import annotations

import os

OFFLINE_ENV: dict[str, str] = {
    "ORT_DISABLE_TELEMETRY": "1",
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1",
    "HF_HUB_DISABLE_UPDATE_CHECK": "1",
    "HF_DATASETS_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "DO_NOT_TRACK": "1",
}


def apply_offline_env() -> None:
    """Set OFFLINE_ENV in this process (and so in every child it starts). Idempotent and cheap."""
    for name, value in OFFLINE_ENV.items():
        os.environ[name] = value
