"""Preparation of recordings into clean, tagged clips (see pipeline.py for the order of the steps)."""

from twin.voice.prepare.pipeline import Engines, PreparedClip, PrepareOutput, prepare_audio, prepare_library

__all__ = ["Engines", "PrepareOutput", "PreparedClip", "prepare_audio", "prepare_library"]
