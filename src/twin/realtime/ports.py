"""What the session needs from the rest of twin, as small protocols: a replier (the chat turn), a
speaker (text stream in, speech per clause out), and the VAD and STT contracts. The real ones are
built by twin.realtime.engines; tests drive the session with scripted ones."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from twin.providers.stt import STT
from twin.providers.vad import VAD


@dataclass
class ReplyDone:
    """The end of a reply: the text the model produced and where the chat service stored it."""

    text: str
    conversation_id: str | None = None
    message_id: str | None = None
    finish_reason: str = "stop"


@dataclass
class SpokenClause:
    """One clause of speech, float32 mono at `sample_rate`."""

    text: str
    samples: np.ndarray
    sample_rate: int


class Replier(Protocol):
    """One chat turn: text pieces, then one ReplyDone. Setting `cancel` ends it early with the partial
    reply stored; `truncate` then cuts the stored reply to what the listener actually heard."""

    def reply(self, text: str, cancel: asyncio.Event) -> AsyncIterator[str | ReplyDone]: ...

    async def truncate(self, done: ReplyDone, delivered: str) -> None: ...


class Speaker(Protocol):
    def speak(self, text: AsyncIterator[str], sample_rate: int) -> AsyncIterator[SpokenClause]: ...


@dataclass
class Engines:
    vad: VAD
    stt: STT
    replier: Replier
    speaker: Speaker
