"""Optional modules and tools the audio layer needs, each failing with the install hint."""

from __future__ import annotations

import shutil
from types import ModuleType

from twin.errors import MissingDependency


def soundfile() -> ModuleType:
    try:
        import soundfile
    except ImportError:
        raise MissingDependency.for_extra("Audio decoding", "voice", "soundfile") from None
    return soundfile


def soxr() -> ModuleType:
    try:
        import soxr
    except ImportError:
        raise MissingDependency.for_extra("Resampling", "voice", "soxr") from None
    return soxr


def ffmpeg_tool(name: str, fmt: str, tool: str = "ffmpeg") -> str:
    """Path of ffmpeg/ffprobe; `name` is the file that needs it (for the message)."""
    exe = shutil.which(tool)
    if exe is None:
        raise MissingDependency(
            f"{name}: decoding {fmt.upper()} needs {tool} (part of ffmpeg), which is not installed.",
            "Install ffmpeg (apt-get install ffmpeg / brew install ffmpeg) or convert the file to WAV or FLAC.",
        )
    return exe
