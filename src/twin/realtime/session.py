"""The voice-loop session: one state machine fed by events (mic audio, client messages, stage results),
independent of any transport. States: listening → user_speaking → thinking → speaking → listening.

Mic audio (PCM16 at the client's rate) goes into a bounded drop-oldest queue; one task cuts it into
20 ms frames, resamples it to 16 kHz with a streaming resampler and feeds the VAD, the echo gate and
the utterance's incremental STT. At the endpoint (VAD end of turn in auto mode, or `end`) a turn
starts: final transcript → chat turn (reply deltas) → clause-by-clause speech → outbox. Every stage
runs as its own task and is cancelled at once on barge-in or `cancel`: unsent speech of that turn is
dropped, `interrupted` says what the listener actually heard, and the stored reply is cut to that.

Times in events (`at_ms`) are positions in the audio the client sent."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Callable

import numpy as np
from pydantic import ValidationError

from twin.audio.pcm import PCM16Framer, from_pcm16
from twin.audio.resample import StreamResampler
from twin.errors import InvalidInput, TwinError
from twin.ids import new_id
from twin.providers.stt import STTOptions, STTStream
from twin.providers.vad import VADEvent, VADOptions, VADStream
from twin.realtime.config import RealtimeConfig
from twin.realtime.echo import EchoGate
from twin.realtime.events import (
    AudioFrame,
    Cancel,
    Done,
    End,
    Error,
    Hello,
    PartialTranscript,
    Playback,
    Ready,
    ServerEvent,
    SpeechStarted,
    SpeechStopped,
    TTSAudio,
    check_rate,
)
from twin.realtime.playback import PlaybackTracker, SessionClock
from twin.realtime.ports import Engines
from twin.realtime.queues import MicQueue, Outbox
from twin.realtime.state import State
from twin.realtime.turn import Turn, TurnRunner

log = logging.getLogger("twin.realtime")
RATE = 16000
FRAME_S = 0.02
ECHO_RECHECK_S = 0.1


class VoiceSession:
    def __init__(
        self,
        engines: Engines,
        config: RealtimeConfig | None = None,
        *,
        auto_respond: bool = True,
        wall: Callable[[], float] = time.monotonic,
        session_id: str | None = None,
    ) -> None:
        self.engines = engines
        self.config = config or RealtimeConfig()
        self.auto_respond = auto_respond
        self.session_id = session_id or new_id()
        self.clock = SessionClock(wall)
        self.tracker = PlaybackTracker()
        self.echo = EchoGate(self.config.echo)
        self.outbox = Outbox(self.config.audio_queue, on_send=self._sent)
        self.state = State.LISTENING
        self.transitions: list[tuple[float, State]] = []
        self.hello: Hello | None = None
        self.mode = "auto"
        self.mic: MicQueue | None = None
        self.runner = TurnRunner(self)
        self.turn: Turn | None = None  # the turn being answered, or whose speech may still be playing
        self.pending: tuple[Turn, str] | None = None  # transcribed, waiting for respond() (manual mode)
        self._vad: VADStream | None = None
        self._stt: STTStream | None = None  # the utterance being spoken
        self._stt_task: asyncio.Task[None] | None = None
        self._last_partial = -1e9
        self._partial_text = ""
        self._announced = False
        self._echo_suspect = False
        self._echo_checked = -1e9
        self._recent: deque[np.ndarray] = deque()
        self._recent_len = 0
        self._framer: PCM16Framer | None = None
        self._resampler: StreamResampler | None = None
        self._mic_task: asyncio.Task[None] | None = None
        self.frames_in = 0

    # ---- lifecycle -----------------------------------------------------------------------------
    @property
    def started(self) -> bool:
        return self.hello is not None

    @property
    def output_rate(self) -> int:
        return self.hello.sample_rate if self.hello else RATE

    async def start(self, hello: Hello, limits: dict[str, float] | None = None) -> Ready:
        """Accept the client's hello: open the VAD, start the mic task and queue `ready`."""
        if self.hello is not None:
            raise InvalidInput("The session has already started.", "Send hello once.", code="bad_request:hello")
        rate = check_rate(hello.sample_rate)
        cfg = self.config
        self._vad = await asyncio.to_thread(self.engines.vad.listen, self._vad_options())
        self.hello = hello
        self.mode = hello.mode
        self._framer = PCM16Framer(max(1, int(rate * FRAME_S)))
        self._resampler = StreamResampler(rate, RATE)
        self.mic = MicQueue(int(rate * 2 * cfg.mic_queue_s))
        self._mic_task = asyncio.ensure_future(self._mic_loop())
        ready = Ready(
            session_id=self.session_id,
            sample_rate=rate,
            output_sample_rate=rate,
            tts_format=hello.tts_format,
            mode=hello.mode,
            persona=hello.persona,
            conversation_id=hello.conversation_id,
            limits=dict(limits or {}),
        )
        self.emit(ready)
        return ready

    def _vad_options(self) -> VADOptions:
        cfg = self.config
        return VADOptions(
            threshold=cfg.vad_threshold,
            min_speech_s=cfg.min_speech_s,
            min_silence_s=cfg.min_silence_s,
            end_of_turn_s=cfg.end_of_turn_s,
        )

    def set_turn_detection(
        self,
        auto: bool,
        auto_respond: bool,
        threshold: float | None = None,
        end_of_turn_s: float | None = None,
        pre_roll_s: float | None = None,
    ) -> None:
        """Switch between server turn detection and client-ended turns, and retune the VAD."""
        self.mode = "auto" if auto else "push_to_talk"
        self.auto_respond = auto_respond
        changes = {"vad_threshold": threshold, "end_of_turn_s": end_of_turn_s, "pre_roll_s": pre_roll_s}
        update = {k: v for k, v in changes.items() if v is not None}
        if update:
            try:
                self.config = RealtimeConfig.model_validate({**self.config.model_dump(), **update})
            except ValidationError as exc:
                first = exc.errors()[0]
                raise InvalidInput(
                    f"Bad turn detection setting: {first['loc'][0]}: {first['msg']}.",
                    "Use a threshold between 0 and 1 and a silence of 100-5000 ms.",
                    code="bad_request:invalid_value",
                ) from None
        if self._vad is not None:
            self._vad.retune(self._vad_options())

    def clear(self) -> None:
        """Drop the audio of the utterance in progress."""
        self._discard_utterance()

    async def close(self) -> None:
        """Stop everything: the turn (its reply cut to what was heard), the mic task, pending work."""
        if self._interruptible():
            self.interrupt("cancel", announce=False)
        if self.mic is not None:
            self.mic.close()
        tasks = [t for t in (self._mic_task, self._stt_task) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.runner.drain()
        self.outbox.close()

    def live_tasks(self) -> list[asyncio.Task[None]]:
        """Tasks of this session still running (none after close())."""
        tasks = [self._mic_task, self._stt_task, *self.runner.tasks()]
        return [t for t in tasks if t is not None and not t.done()]

    async def events(self) -> AsyncIterator[ServerEvent]:
        while (event := await self.outbox.get()) is not None:
            yield event

    def emit(self, event: ServerEvent) -> None:
        self.outbox.put_nowait(event)

    def error(self, code: str, exc: TwinError) -> None:
        self.emit(Error(code=code, message=exc.message, hint=exc.hint))

    def set_state(self, state: State) -> None:
        if state != self.state:
            self.state = state
            self.transitions.append((self.clock.now(), state))

    # ---- client messages -----------------------------------------------------------------------
    async def handle(self, message: Hello | End | Cancel | AudioFrame | Playback) -> None:
        if isinstance(message, Hello):
            await self.start(message)
        elif not self.started:
            raise InvalidInput(
                f"'{message.type}' came before hello.", "Send hello first.", code="bad_request:hello_first"
            )
        elif isinstance(message, AudioFrame):
            self.push_audio(message.pcm())
        elif isinstance(message, End):
            self.end()
        elif isinstance(message, Cancel):
            self.cancel()
        elif isinstance(message, Playback):
            self.tracker.report(message.turn_id, message.played_ms, self.clock.now())

    def push_audio(self, pcm: bytes) -> None:
        if self.mic is None:
            raise InvalidInput("Audio came before hello.", "Send hello first.", code="bad_request:hello_first")
        self.mic.put(pcm)

    def end(self) -> None:
        """Finish the user's turn now."""
        self._drain_mic()
        if self._stt is None:
            self.emit(Done(turn_id=None, reason="no_speech"))
            return
        self.emit(SpeechStopped(at_ms=int(self.clock.mic_s * 1000)))
        self._finish_utterance(self.clock.mic_s)

    def cancel(self) -> None:
        if self._interruptible():
            self.interrupt("cancel")
            return
        self._discard_utterance()
        self.emit(Done(turn_id=None, reason="cancelled"))

    async def respond(self) -> None:
        """Answer the transcribed utterance (manual mode, where the client asks for the reply)."""
        if self.pending is None:
            raise InvalidInput(
                "There is nothing to answer yet.", "Commit some audio first.", code="bad_request:respond"
            )
        turn, text = self.pending
        self.pending = None
        self.turn = turn
        self.set_state(State.THINKING)
        self.runner.start_reply(turn, text)

    # ---- mic path ------------------------------------------------------------------------------
    async def _mic_loop(self) -> None:
        assert self.mic is not None
        while (data := await self.mic.get()) is not None:
            self._consume(data)

    def _drain_mic(self) -> None:
        """Process every frame already received (so `end` covers all audio sent before it)."""
        while self.mic is not None and (data := self.mic.get_nowait()) is not None:
            self._consume(data)

    def _consume(self, data: bytes) -> None:
        assert self._framer is not None and self._resampler is not None
        for frame in self._framer.feed(data):
            try:
                self._process(self._resampler.process(from_pcm16(frame)))
            except TwinError as exc:
                self.error("stt_error:" + exc.code, exc)
            except Exception:  # one bad frame must not end the session
                log.exception("voice frame failed")
                self.emit(Error(code="server_error", message="The server failed to process audio."))

    def _process(self, x: np.ndarray) -> None:
        self.frames_in += 1
        self.clock.audio(len(x) / RATE)
        now = self.clock.now()
        self.echo.add_mic(x)
        self._remember(x)
        if self._stt is not None:
            self._stt.append(x)
        elif self.mode == "push_to_talk" and self.state == State.LISTENING:
            self._begin_utterance(self.clock.mic_s - len(x) / RATE, announce=False)
        assert self._vad is not None
        for event in self._vad.feed(x):
            self._on_vad(event, now)
        if self._echo_suspect:
            self._recheck_echo(now)
        self._maybe_partial(now)
        finished = self.turn is not None and self.turn.finished
        if self.state == State.SPEAKING and finished and not self.tracker.playing(now):
            self.set_state(State.LISTENING)
        if self._stt is not None and self._stt.duration_s >= self.config.max_utterance_s:
            self.emit(SpeechStopped(at_ms=int(self.clock.mic_s * 1000)))
            self._finish_utterance(self.clock.mic_s)

    def _remember(self, x: np.ndarray) -> None:
        self._recent.append(x)
        self._recent_len += len(x)
        keep = int(RATE * (self.config.pre_roll_s + self.config.min_speech_s + 0.1))
        while self._recent_len - len(self._recent[0]) >= keep:
            self._recent_len -= len(self._recent.popleft())

    def _on_vad(self, event: VADEvent, now: float) -> None:
        if event.kind == "start":
            if self._assistant_audible(now):
                if self.echo.is_echo(now):
                    self._echo_suspect, self._echo_checked = True, now
                    return
                if self._interruptible():
                    self.interrupt("barge_in")
            self._speech_began(event.at_s)
        elif event.kind == "pause" and self._stt is not None:
            self._start_stt(final_hint=True)
        elif event.kind == "end":
            self._echo_suspect = False
            if self._stt is not None and self._announced:
                self.emit(SpeechStopped(at_ms=int(event.at_s * 1000)))
                if self.mode == "auto":
                    self._finish_utterance(event.at_s + min(0.1, self.config.min_silence_s))

    def _interruptible(self) -> bool:
        """A turn is being answered, or its speech is still playing."""
        turn = self.turn
        return turn is not None and (not turn.closed or self.tracker.playing(self.clock.now()))

    def _assistant_audible(self, now: float) -> bool:
        return self._interruptible() or self.echo.active(now)

    def _recheck_echo(self, now: float) -> None:
        """While the VAD hears what looked like echo: is it still only echo? Speech heard now that no
        longer matches the sent audio is the user talking over it."""
        if now - self._echo_checked < ECHO_RECHECK_S or self._vad is None or not self._vad.hearing_speech:
            return
        self._echo_checked = now
        if not self.echo.active(now):
            self._echo_suspect = False
            self._speech_began(max(self.clock.mic_s - self.config.min_speech_s, 0.0))
        elif not self.echo.is_echo(now):
            self._echo_suspect = False
            if self._interruptible():
                self.interrupt("barge_in")
            self._speech_began(max(self.clock.mic_s - self.config.min_speech_s, 0.0))

    def _speech_began(self, at_s: float) -> None:
        if self._stt is None:
            self._begin_utterance(at_s, announce=True)
        elif not self._announced:
            self._announced = True
            self.emit(SpeechStarted(at_ms=int(at_s * 1000)))

    def _begin_utterance(self, at_s: float, announce: bool) -> None:
        opts = STTOptions(language=self.config.language)
        self._stt = self.engines.stt.stream(opts)
        start = max(at_s - self.config.pre_roll_s, 0.0)
        recent = np.concatenate(self._recent) if self._recent else np.zeros(0, dtype=np.float32)
        take = min(len(recent), int(round((self.clock.mic_s - start) * RATE)))
        self._stt.append(recent[len(recent) - take :])
        self._partial_text, self._last_partial = "", self.clock.now()
        self._announced = announce
        self.set_state(State.USER_SPEAKING)
        if announce:
            self.emit(SpeechStarted(at_ms=int(at_s * 1000)))

    def _discard_utterance(self) -> None:
        self._stt = None
        self._announced = False
        if self.state == State.USER_SPEAKING:
            self.set_state(State.LISTENING)

    def _maybe_partial(self, now: float) -> None:
        if self._stt is None or self._stt_task is not None:
            return
        if now - self._last_partial >= self.config.partial_every_s and self._stt.duration_s >= 0.5:
            self._start_stt(final_hint=False)

    def _start_stt(self, final_hint: bool) -> None:
        """A partial decode in a worker thread (on a pause it doubles as the final's head start)."""
        if self._stt is None or self._stt_task is not None:
            return
        stream = self._stt
        self._last_partial = self.clock.now()

        async def run() -> None:
            try:
                result = await asyncio.to_thread(stream.partial)
            except TwinError as exc:
                self.error("stt_error:" + exc.code, exc)
                return
            finally:
                self._stt_task = None
            if stream is self._stt and result.text and result.text != self._partial_text:
                self._partial_text = result.text
                self.emit(PartialTranscript(text=result.text))

        self._stt_task = asyncio.ensure_future(run())

    def _finish_utterance(self, upto_s: float) -> None:
        stream, self._stt = self._stt, None
        self._announced = False
        if stream is None:
            return
        turn = Turn(id=new_id())
        self.turn = turn
        self.set_state(State.THINKING)
        self.runner.start_turn(turn, stream, upto_s - (self.clock.mic_s - stream.duration_s), self._stt_task)

    # ---- interruption --------------------------------------------------------------------------
    def interrupt(self, reason: str, announce: bool = True) -> None:
        """Stop the current turn now: no more text or speech of it goes out."""
        turn = self.turn
        if turn is None or not self._interruptible():
            return
        now = self.clock.now()
        self.outbox.drop_audio(turn.id)
        self.runner.stop(turn, reason, now, announce)
        self.turn = None
        self.set_state(State.LISTENING)

    # ---- outbox callback -----------------------------------------------------------------------
    def _sent(self, event: ServerEvent) -> None:
        if isinstance(event, TTSAudio):
            start = self.tracker.sent(event.turn_id, event.seq, event.text, event.duration_ms / 1000, self.clock.now())
            ref = self.runner.reference(event)
            if ref is not None:
                self.echo.add_reference(ref, start)
