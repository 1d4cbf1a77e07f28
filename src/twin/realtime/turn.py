"""One turn of the voice loop, each stage its own task: the final transcript, the chat reply (text
pieces through a bounded queue) and the speech (clause by clause into the session's outbox, which
holds back synthesis while the client has unsent audio). `stop()` ends a turn at once: the reply is
cancelled (the chat service keeps the partial text), the speech task is cancelled, `interrupted` and
`done` go out, and in the background the stored reply is cut to what the listener heard."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from twin.audio.pcm import to_pcm16
from twin.audio.resample import StreamResampler
from twin.errors import TwinError
from twin.providers.stt import STTStream
from twin.realtime.events import (
    AssistantDelta,
    AssistantMessage,
    Done,
    Error,
    FinalTranscript,
    Interrupted,
    TTSAudio,
)
from twin.realtime.ports import ReplyDone
from twin.realtime.state import State

if TYPE_CHECKING:
    from twin.realtime.session import VoiceSession

log = logging.getLogger("twin.realtime")
RATE = 16000
STORE_TIMEOUT_S = 10.0


@dataclass
class Turn:
    id: str
    cancel: asyncio.Event = field(default_factory=asyncio.Event)
    transcript: str = ""
    parts: list[str] = field(default_factory=list)
    done: ReplyDone | None = None
    seq: int = 0
    finished: bool = False  # everything was generated and queued
    closed: bool = False  # done was sent (finished or stopped)
    task: asyncio.Task[None] | None = None
    speak_task: asyncio.Task[None] | None = None
    refs: dict[int, np.ndarray] = field(default_factory=dict)  # seq -> 16 kHz copy for the echo gate


class TurnRunner:
    def __init__(self, session: VoiceSession) -> None:
        self.s = session
        self._turns: set[asyncio.Task[None]] = set()

    def tasks(self) -> list[asyncio.Task[None]]:
        return list(self._turns)

    def _track(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.ensure_future(coro)
        self._turns.add(task)
        task.add_done_callback(self._turns.discard)
        return task

    async def drain(self) -> None:
        while self._turns:
            await asyncio.gather(*list(self._turns), return_exceptions=True)

    # ---- starting --------------------------------------------------------------------------------
    def start_turn(self, turn: Turn, stream: STTStream, upto_s: float, busy: asyncio.Task[None] | None) -> None:
        turn.task = self._track(self._transcribe_then_reply(turn, stream, upto_s, busy))

    def start_reply(self, turn: Turn, text: str) -> None:
        turn.task = self._track(self._reply(turn, text))

    async def _transcribe_then_reply(
        self, turn: Turn, stream: STTStream, upto_s: float, busy: asyncio.Task[None] | None
    ) -> None:
        s = self.s
        if busy is not None:  # a partial decode still running: let it finish, its work is reused
            await asyncio.gather(busy, return_exceptions=True)
        try:
            transcript = await asyncio.to_thread(stream.final, upto_s)
        except TwinError as exc:
            s.error("stt_error:" + exc.code, exc)
            self._close(turn, "error")
            return
        turn.transcript = transcript.text.strip()
        if turn.cancel.is_set():
            return
        s.emit(FinalTranscript(turn_id=turn.id, text=turn.transcript))
        if not turn.transcript:
            self._close(turn, "no_speech")
            return
        if not s.auto_respond:
            s.pending = (turn, turn.transcript)
            s.turn = None
            s.set_state(State.LISTENING)
            return
        await self._reply(turn, turn.transcript)

    def _close(self, turn: Turn, reason: str) -> None:
        s = self.s
        if turn.closed:
            return
        turn.closed = turn.finished = True
        conversation = turn.done.conversation_id if turn.done else None
        s.emit(Done(turn_id=turn.id, conversation_id=conversation, interrupted=False, reason=reason))
        if s.turn is turn and not s.tracker.playing(s.clock.now()):
            s.set_state(State.LISTENING)

    # ---- the reply -------------------------------------------------------------------------------
    async def _reply(self, turn: Turn, text: str) -> None:
        pieces: asyncio.Queue[str | None] = asyncio.Queue(self.s.config.text_queue)
        llm = asyncio.ensure_future(self._generate(turn, text, pieces))
        turn.speak_task = asyncio.ensure_future(self._speak(turn, pieces))
        try:
            await asyncio.wait({llm, turn.speak_task})
        finally:
            for task in (llm, turn.speak_task):
                if not task.done():
                    task.cancel()
            await asyncio.gather(llm, turn.speak_task, return_exceptions=True)
        if turn.cancel.is_set() or turn.closed:
            return
        turn.finished = True
        done = turn.done or ReplyDone(text="".join(turn.parts))
        self.s.emit(
            AssistantMessage(
                turn_id=turn.id, text=done.text, conversation_id=done.conversation_id, message_id=done.message_id
            )
        )
        failed = llm.exception() is not None
        if not failed and not done.text.strip():  # silence would look like a hang: say what happened
            self.s.emit(
                Error(
                    code="llm_error:empty_reply",
                    message="The model gave no reply to that.",
                    hint="Say it again, or choose a larger model for this persona.",
                )
            )
        self._close(turn, "error" if failed else "completed")

    async def _generate(self, turn: Turn, text: str, pieces: asyncio.Queue[str | None]) -> None:
        s = self.s
        try:
            async for item in s.engines.replier.reply(text, turn.cancel):
                if isinstance(item, ReplyDone):
                    turn.done = item
                elif item and not turn.cancel.is_set():
                    turn.parts.append(item)
                    s.emit(AssistantDelta(turn_id=turn.id, text=item))
                    await pieces.put(item)
        except TwinError as exc:
            if not turn.cancel.is_set():
                s.error("llm_error:" + exc.code, exc)
            raise
        finally:
            if not turn.cancel.is_set():  # a stopped turn's speech task is cancelled, nobody reads this
                await pieces.put(None)

    async def _speak(self, turn: Turn, pieces: asyncio.Queue[str | None]) -> None:
        s = self.s
        rate = s.output_rate
        to_16k = StreamResampler(rate, RATE)

        async def text() -> AsyncIterator[str]:
            while (piece := await pieces.get()) is not None:
                yield piece

        try:
            async for clause in s.engines.speaker.speak(text(), rate):
                if turn.cancel.is_set():
                    return
                event = TTSAudio(turn.id, turn.seq, clause.text, rate, to_pcm16(clause.samples))
                turn.refs[turn.seq] = to_16k.process(np.asarray(clause.samples, dtype=np.float32))
                turn.seq += 1
                s.set_state(State.SPEAKING)
                await s.outbox.put_audio(event)
        except Exception as exc:
            if turn.cancel.is_set():
                return
            if isinstance(exc, TwinError):
                s.emit(Error(code="tts_error:" + exc.code, message=exc.message, hint=exc.hint))
            else:
                log.exception("speech failed")
                s.emit(Error(code="tts_error:server_error", message="Speech synthesis failed on the server."))
            while await pieces.get() is not None:  # let the text finish without speech
                pass

    def reference(self, event: TTSAudio) -> np.ndarray | None:
        turn = self.s.turn
        if turn is None or turn.id != event.turn_id:
            return None
        return turn.refs.pop(event.seq, None)

    # ---- stopping --------------------------------------------------------------------------------
    def stop(self, turn: Turn, reason: str, now: float, announce: bool) -> None:
        s = self.s
        turn.cancel.set()
        if turn.speak_task is not None:
            turn.speak_task.cancel()
        delivered, played = s.tracker.delivered(turn.id, now)
        s.tracker.stop(turn.id, now)
        interrupted = Interrupted(
            turn_id=turn.id,
            delivered_text=delivered,
            played_ms=int(played * 1000),
            reason="cancel" if reason == "cancel" else "barge_in",
        )
        if not turn.closed:
            turn.closed = turn.finished = True
            if announce:
                s.emit(interrupted)
                s.emit(
                    Done(
                        turn_id=turn.id,
                        conversation_id=self._conversation(turn),
                        interrupted=True,
                        reason="interrupted",
                    )
                )
        elif announce:  # done was sent, but its speech was still playing: the user cut it short
            s.emit(interrupted)
        self._track(self._store_delivered(turn, delivered))

    @staticmethod
    def _conversation(turn: Turn) -> str | None:
        return turn.done.conversation_id if turn.done else None

    async def _store_delivered(self, turn: Turn, delivered: str) -> None:
        """Wait for the reply to stop (the chat service stores its partial text), then cut it to what
        was heard."""
        if turn.task is not None and not turn.task.done():
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(asyncio.shield(turn.task), STORE_TIMEOUT_S)
        if turn.done is None:
            return
        try:
            await self.s.engines.replier.truncate(turn.done, delivered)
        except TwinError as exc:
            log.warning("could not store the interrupted reply: %s", exc.message)
