"""Compatibility shim: the audio primitives moved to twin.audio; import them from there."""

from twin.audio.decode import load_audio
from twin.audio.encode import save_wav
from twin.audio.probe import AUDIO_SUFFIXES, DEFAULT_LIMITS, AudioInfo, AudioLimits, check_limits, probe, sniff_format
from twin.audio.resample import resample
from twin.audio.source import Source

__all__ = [
    "AUDIO_SUFFIXES",
    "DEFAULT_LIMITS",
    "AudioInfo",
    "AudioLimits",
    "Source",
    "check_limits",
    "load_audio",
    "probe",
    "resample",
    "save_wav",
    "sniff_format",
]
