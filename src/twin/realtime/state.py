"""The voice loop's states."""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    LISTENING = "listening"
    USER_SPEAKING = "user_speaking"
    THINKING = "thinking"
    SPEAKING = "speaking"
