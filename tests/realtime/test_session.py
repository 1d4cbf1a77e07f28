"""The voice session driven directly with scripted VAD/STT/LLM/TTS: event order, timing in audio
frames, barge-in, cancel, echo, push-to-talk, stage errors and cleanup."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from tests.realtime.driver import FRAME_S, Driver
from tests.realtime.fakes import ScriptedReplier, ScriptedSTT, ToneSpeaker, engines, silence, speech

from twin.audio.pcm import from_pcm16
from twin.audio.resample import resample
from twin.errors import InvalidInput, Unavailable
from twin.realtime.config import RealtimeConfig
from twin.realtime.events import Interrupted, TTSAudio, parse_client
from twin.realtime.state import State

pytestmark = pytest.mark.timeout(60)
CFG = RealtimeConfig(partial_every_s=0.3)


def words_heard(clauses: list[TTSAudio], played_ms: float) -> str:
    """What a listener heard after played_ms: whole clauses, then the current one's words pro rata."""
    out: list[str] = []
    left = played_ms
    for c in clauses:
        if left <= 0:
            break
        words = c.text.split()
        out += words if left >= c.duration_ms else words[: int(len(words) * left / c.duration_ms)]
        left -= c.duration_ms
    return " ".join(out)


async def test_auto_turn_event_sequence_and_timing() -> None:
    async with Driver(engines(), CFG) as d:
        await d.hello()
        await d.feed(silence(0.5))
        await d.feed(speech(1.0))
        await d.feed(silence(0.8))
        done = await d.wait_for("done")
        types = [s.type for s in d.seen]
        assert types[:2] == ["ready", "speech_started"]
        assert types[-1] == "done" and done.event.reason == "completed"  # type: ignore[attr-defined]
        order = ["speech_started", "speech_stopped", "final_transcript", "assistant_message", "done"]
        assert [t for t in types if t in order] == order
        assert "partial_transcript" in types[: types.index("speech_stopped")]
        first_delta, first_audio = types.index("assistant_delta"), types.index("tts_audio")
        assert types.index("final_transcript") < first_delta < first_audio < types.index("assistant_message")
        # VAD times are positions in the audio sent: speech from 500 ms to 1500 ms (one 32 ms window)
        assert abs(d.of("speech_started")[0].event.at_ms - 500) <= 32  # type: ignore[attr-defined]
        assert abs(d.of("speech_stopped")[0].event.at_ms - 1500) <= 32  # type: ignore[attr-defined]
        # start is confirmed after min_speech_s, the end of turn after end_of_turn_s of silence
        assert d.of("speech_started")[0].at_s == pytest.approx(0.5 + CFG.min_speech_s, abs=0.07)
        assert d.of("final_transcript")[0].at_s == pytest.approx(1.5 + CFG.end_of_turn_s, abs=0.07)
        assert d.of("final_transcript")[0].event.text == "hello twin"  # type: ignore[attr-defined]
        reply = d.of("assistant_message")[0].event
        assert reply.text == ScriptedReplier().reply_text  # type: ignore[attr-defined]
        assert "".join(s.event.text for s in d.of("assistant_delta")).strip() == reply.text  # type: ignore[attr-defined]
        clauses = [s.event for s in d.of("tts_audio")]
        assert [c.seq for c in clauses] == list(range(len(clauses)))  # type: ignore[attr-defined]
        assert " ".join(c.text for c in clauses) == reply.text  # type: ignore[attr-defined]
        assert clauses[0].text == "Sure, I can help with that."  # type: ignore[attr-defined]
        # states: the assistant speaks until its audio has played, then listens again
        assert [s for _, s in d.session.transitions] == [
            State.USER_SPEAKING, State.THINKING, State.SPEAKING
        ]  # fmt: skip
        total_s = sum(c.duration_ms for c in clauses) / 1000  # type: ignore[attr-defined]
        await d.feed(silence(total_s + 0.1))
        assert d.session.state == State.LISTENING


async def test_final_reuses_the_decode_made_at_the_pause() -> None:
    stt = ScriptedSTT()
    async with Driver(engines(stt=stt), CFG.model_copy(update={"partial_every_s": 5.0})) as d:
        await d.hello()
        await d.feed(speech(1.0))
        await d.feed(silence(0.3))  # a pause: the session decodes now
        await d.idle()
        decodes = len(stt.decodes)
        assert decodes == 1 and d.of("partial_transcript")
        await d.feed(silence(0.4))  # end of turn
        await d.wait_for("final_transcript")
        assert len(stt.decodes) == decodes  # the endpoint did not decode again


async def test_push_to_talk_waits_for_end() -> None:
    async with Driver(engines(), CFG) as d:
        await d.hello(mode="push_to_talk")
        await d.feed(speech(1.0))
        await d.feed(silence(1.0))
        await d.idle()
        assert not d.of("final_transcript") and d.session.state == State.USER_SPEAKING
        await d.session.handle(_msg("end"))
        await d.wait_for("done")
        assert d.of("final_transcript")[0].event.text == "hello twin"  # type: ignore[attr-defined]
        assert d.of("assistant_message")


async def test_end_forces_the_turn_in_auto_mode() -> None:
    async with Driver(engines(), CFG) as d:
        await d.hello()
        await d.feed(speech(1.0))  # still speaking: no end of turn yet
        assert not d.of("final_transcript")
        await d.session.handle(_msg("end"))
        await d.wait_for("done")
        assert [s.type for s in d.seen if s.type in ("speech_stopped", "final_transcript")] == [
            "speech_stopped",
            "final_transcript",
        ]
        await d.session.handle(_msg("end"))  # nothing to end now
        await d.until(lambda: d.of("done")[-1].event.reason == "no_speech")  # type: ignore[attr-defined]


async def test_cancel_while_thinking_stores_nothing_unheard() -> None:
    replier = ScriptedReplier(delay_s=0.02)
    async with Driver(engines(replier=replier), CFG) as d:
        await d.hello()
        await d.feed(speech(0.8))
        await d.feed(silence(0.6))
        await d.wait_for("assistant_delta")
        await d.session.handle(_msg("cancel"))
        interrupted = (await d.wait_for("interrupted")).event
        assert isinstance(interrupted, Interrupted)
        assert interrupted.reason == "cancel" and interrupted.delivered_text == "" and interrupted.played_ms == 0
        await d.idle()
        after = [s.type for s in d.seen[d.seen.index(d.of("interrupted")[0]) :]]
        assert after == ["interrupted", "done"]
        assert replier.truncated == [("m1", "")]
        await d.until(lambda: d.session.live_tasks() == [d.session._mic_task])  # the turn's tasks are gone


async def test_barge_in_while_speaking_cuts_reply_to_what_was_heard() -> None:
    replier = ScriptedReplier(reply_text="One two three four five. Six seven eight nine ten. " * 4)
    speaker = ToneSpeaker(seconds_per_word=0.2)
    cfg = CFG.model_copy(update={"audio_queue": 2})
    async with Driver(engines(replier=replier, speaker=speaker), cfg) as d:
        await d.hello()
        await d.feed(speech(0.8))
        await d.feed(silence(0.6))
        await d.until(lambda: len(d.audio()) >= 2)
        d.reading = False  # the client is busy: the next clauses wait in the outbox
        sent_at = d.of("tts_audio")[0].at_s
        await d.feed(silence(1.3))  # 1.3 s of the reply plays
        queued = d.session.outbox.pending_audio
        assert queued == cfg.audio_queue
        start_frame = d.session.frames_in
        await d.feed(speech(0.6, pitch=240))
        await d.wait_for("interrupted")
        assert d.session.outbox.pending_audio == 0  # the unsent clauses were dropped
        d.reading = True
        await d.until(lambda: any(e.type == "done" for e in d.sent))
        interrupted = d.of("interrupted")[0].event
        assert isinstance(interrupted, Interrupted) and interrupted.reason == "barge_in"
        seen = d.of("interrupted")[0]
        started = [s for s in d.of("speech_started") if s.frame > start_frame][0]
        # decided within one frame of the VAD's speech start (confirmed after min_speech_s + one window)
        assert seen.frame == started.frame
        assert seen.frame - start_frame <= round((cfg.min_speech_s + 0.032) / FRAME_S) + 1
        # nothing of the old turn after the interruption, and the queued clauses were dropped
        index = d.seen.index(seen)
        assert all(getattr(s.event, "turn_id", None) != interrupted.turn_id for s in d.seen[index + 2 :])
        sent_clauses = d.audio(interrupted.turn_id)
        assert len(sent_clauses) < len(d.of("tts_audio"))
        # what was heard: the clock says 1.3 s of silence + the speech until the VAD decided
        assert interrupted.played_ms == pytest.approx((seen.at_s - sent_at) * 1000, abs=1)
        assert interrupted.delivered_text == words_heard(sent_clauses, interrupted.played_ms)
        assert interrupted.delivered_text.startswith("One two three four five. Six")
        await d.until(lambda: replier.truncated)
        assert replier.truncated == [("m1", interrupted.delivered_text)]
        # the user's new turn goes on
        await d.feed(silence(0.7))
        await d.wait_for("final_transcript", 2)


async def test_playback_report_makes_truncation_exact() -> None:
    replier = ScriptedReplier(reply_text="Alpha beta gamma delta. Epsilon zeta eta theta. Iota kappa lambda mu.")
    async with Driver(engines(replier=replier), CFG) as d:
        await d.hello()
        await d.feed(speech(0.8))
        await d.feed(silence(0.6))
        first = (await d.wait_for("tts_audio")).event
        await d.session.handle(_msg("playback", turn_id=first.turn_id, played_ms=500))  # type: ignore[attr-defined]
        await d.session.handle(_msg("cancel"))
        interrupted = (await d.wait_for("interrupted")).event
        assert interrupted.played_ms == 500  # type: ignore[attr-defined]
        assert interrupted.delivered_text == "Alpha beta"  # type: ignore[attr-defined]  # 0.5 s of 0.8 s


async def test_own_echo_does_not_barge_in_but_the_user_does() -> None:
    replier = ScriptedReplier(reply_text="Alpha beta gamma delta epsilon. Zeta eta theta iota kappa. " * 3)
    async with Driver(engines(replier=replier), CFG) as d:
        await d.hello(rate=48000)
        await d.feed(speech(0.8))
        await d.feed(silence(0.6))
        await d.wait_for("tts_audio", 2)
        start = d.session.clock.now()
        clauses = d.audio()
        back = np.concatenate([from_pcm16(c.pcm) for c in clauses])  # played at 48 kHz ...
        echo = 0.4 * resample(back, 48000, 16000)[: int(16000 * 2.5)]  # ... heard quieter
        echo = np.concatenate([silence(0.12), echo])  # 120 ms speaker-to-mic delay
        assert abs(d.session.tracker.ends_at - start) < 4
        await d.feed(echo)
        assert not d.of("interrupted"), d.types()
        assert d.session.echo.last_score > cfg_threshold()
        # a person talking over the echo is let through
        tail = 0.4 * resample(back, 48000, 16000)[int(16000 * 2.5) : int(16000 * 3.5)]
        await d.feed(tail + speech(1.0, pitch=260)[: len(tail)])
        await d.wait_for("interrupted")


def cfg_threshold() -> float:
    return CFG.echo.threshold


async def test_stage_errors_are_reported_and_the_session_goes_on() -> None:
    stt = ScriptedSTT(fail=Unavailable("whisper is gone", "reinstall it"))
    async with Driver(engines(stt=stt), CFG) as d:
        await d.hello()
        await d.feed(speech(0.8))
        await d.feed(silence(0.7))
        error = (await d.wait_for("error")).event
        assert error.code == "stt_error:unavailable"  # type: ignore[attr-defined]
        await d.until(lambda: d.of("done") and d.of("done")[-1].event.reason == "error")  # type: ignore[attr-defined]
        stt.fail = None
        await d.feed(speech(0.8))
        await d.feed(silence(0.7))
        await d.until(lambda: d.of("done") and d.of("done")[-1].event.reason == "completed")  # type: ignore[attr-defined]


async def test_llm_and_tts_errors() -> None:
    replier = ScriptedReplier(fail=Unavailable("the model crashed", "restart it"))
    async with Driver(engines(replier=replier), CFG) as d:
        await d.hello()
        await d.feed(speech(0.8))
        await d.feed(silence(0.7))
        await d.until(lambda: d.of("done"))
        assert [s.event.code for s in d.of("error")] == ["llm_error:unavailable"]  # type: ignore[attr-defined]
        assert d.of("done")[0].event.reason == "error"  # type: ignore[attr-defined]
    speaker = ToneSpeaker(fail_on=1)
    async with Driver(engines(speaker=speaker), CFG) as d:
        await d.hello()
        await d.feed(speech(0.8))
        await d.feed(silence(0.7))
        await d.until(lambda: d.of("done"))
        assert [s.event.code for s in d.of("error")] == ["tts_error:unavailable"]  # type: ignore[attr-defined]
        assert d.of("assistant_message")[0].event.text == ScriptedReplier().reply_text  # type: ignore[attr-defined]
        assert len(d.of("tts_audio")) == 1


async def test_an_empty_reply_is_reported_not_left_as_silence() -> None:
    async with Driver(engines(replier=ScriptedReplier(reply_text="")), CFG) as d:
        await d.hello()
        await d.feed(speech(0.8))
        await d.feed(silence(0.7))
        await d.until(lambda: d.of("done"))
        assert [s.event.code for s in d.of("error")] == ["llm_error:empty_reply"]  # type: ignore[attr-defined]
        assert d.of("done")[0].event.reason == "completed" and d.of("tts_audio") == []  # type: ignore[attr-defined]


async def test_speech_waits_while_the_client_does_not_read() -> None:
    replier = ScriptedReplier(reply_text="One. Two. Three. Four. Five. Six. Seven. Eight. Nine. Ten.")
    speaker = ToneSpeaker()
    cfg = CFG.model_copy(update={"audio_queue": 2})
    async with Driver(engines(replier=replier, speaker=speaker), cfg) as d:
        await d.hello()
        d.reading = False
        await d.feed(speech(0.8))
        await d.feed(silence(0.7))
        await d.until(lambda: len(speaker.clauses) >= 3)
        await d.idle()
        assert len(speaker.clauses) == 3  # two queued, one waiting to be queued
        assert d.session.outbox.pending_audio == 2
        d.reading = True
        await d.wait_for("done")
        assert len(speaker.clauses) == 10


async def test_close_mid_turn_frees_every_task() -> None:
    replier = ScriptedReplier(delay_s=0.01, reply_text="word " * 200)
    d = Driver(engines(replier=replier), CFG)
    async with d:
        await d.hello()
        await d.feed(speech(0.8))
        await d.feed(silence(0.7))
        await d.wait_for("tts_audio")
    assert d.session.live_tasks() == []
    assert replier.truncated and replier.truncated[0][0] == "m1"


async def test_rates_and_bad_input() -> None:
    for rate in (8000, 22050, 44100, 48000):
        async with Driver(engines(), CFG) as d:
            await d.hello(rate=rate)
            await d.feed(speech(0.8))
            await d.feed(silence(0.7))
            await d.wait_for("done")
            assert {c.sample_rate for c in d.audio()} == {rate}
            assert d.of("final_transcript")[0].event.text == "hello twin"  # type: ignore[attr-defined]
    async with Driver(engines(), CFG) as d:
        with pytest.raises(InvalidInput) as err:
            d.session.push_audio(b"\x00\x01")
        assert err.value.code == "bad_request:hello_first"
        with pytest.raises(InvalidInput) as err:
            await d.hello(rate=96000)
        assert err.value.code == "bad_request:sample_rate"
        await d.hello(rate=16000)
        d.session.push_audio(b"\x01")  # half a sample: kept for the next frame, never an error
        await d.feed(silence(0.1))
        assert not d.of("error")


async def test_mic_queue_drops_the_oldest_audio() -> None:
    from twin.realtime.queues import MicQueue

    q = MicQueue(max_bytes=10)
    for i in range(6):
        q.put(bytes([i]) * 4)
    assert q.dropped_bytes == 16
    assert [await q.get(), await q.get()] == [bytes([4]) * 4, bytes([5]) * 4]


def _msg(kind: str, **fields: object) -> Any:
    return parse_client(json.dumps({"type": kind, **fields}))
