"""The voice loop without a network: one turn from a recording, and a live talk through an audio device
(here an in-process device: a thread plays a recording into the 'microphone' at real-time pace and the
'speaker' keeps what it is given)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

import numpy as np
import pytest
from tests.realtime.fakes import ScriptedReplier, engines, pcm, silence, speech

from twin.realtime.config import RealtimeConfig
from twin.realtime.events import AssistantMessage, FinalTranscript, Hello, Interrupted, ServerEvent
from twin.realtime.local import talk_file, talk_live

pytestmark = pytest.mark.timeout(60)
CFG = RealtimeConfig(partial_every_s=0.3)


async def test_one_turn_from_a_recording() -> None:
    audio = np.concatenate([silence(0.3), speech(1.2), silence(0.2)])
    hello = Hello(type="hello", sample_rate=16000, mode="push_to_talk")
    result = await talk_file(engines(), CFG, audio, 16000, hello)
    assert result.transcript == "hello twin"
    assert result.reply == ScriptedReplier().reply_text
    assert result.clauses >= 2 and len(result.samples) > 16000
    assert result.conversation_id == "conv1" and result.errors == []


class RecordingDevice:
    """Mic: `script` (16 kHz) in 20 ms blocks from a thread, then silence; speaker: keeps every block."""

    sample_rate = 16000

    def __init__(self, script: np.ndarray) -> None:
        self.script = script
        self.played: list[bytes] = []
        self.clears = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, on_mic: Callable[[bytes], None]) -> None:
        def run() -> None:
            step = 320
            x = np.concatenate([self.script, silence(30)])
            for i in range(0, len(x), step):
                if self._stop.is_set():
                    return
                on_mic(pcm(x[i : i + step]))
                time.sleep(0.02)

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def play(self, data: bytes) -> None:
        self.played.append(data)

    def clear(self) -> None:
        self.clears += 1

    def played_ms(self) -> float:
        return 0.0

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)


async def test_live_talk_answers_and_can_be_interrupted() -> None:
    replier = ScriptedReplier(reply_text="One two three four five. Six seven eight nine ten. " * 3)
    # the user speaks, waits for the reply to start, then talks over it
    script = np.concatenate([speech(1.0), silence(1.5), speech(0.8, pitch=250)])
    device = RecordingDevice(script)
    shown: list[ServerEvent] = []
    stop = asyncio.Event()
    hello = Hello(type="hello", sample_rate=16000)

    async def watch() -> None:
        while not any(isinstance(e, Interrupted) for e in shown):
            await asyncio.sleep(0.05)
        stop.set()

    watcher = asyncio.ensure_future(watch())
    await asyncio.wait_for(talk_live(engines(replier=replier), CFG, device, hello, shown.append, stop), 30)
    await watcher
    kinds = [type(e) for e in shown]
    assert FinalTranscript in kinds and Interrupted in kinds
    assert device.played and device.clears >= 1
    assert replier.truncated  # the stored reply was cut to what was heard
    assert AssistantMessage not in kinds[: kinds.index(FinalTranscript)]
