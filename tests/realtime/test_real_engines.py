"""The voice loop over a live /ws/voice with the embedded engines: silero VAD, faster-whisper tiny.en,
Piper speaking clause by clause (the reply text is scripted here; the chat service's own tests cover
the turn). Speech is espeak-ng, streamed at real-time pace."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("websockets")
pytest.importorskip("piper")
pytest.importorskip("faster_whisper")
if shutil.which("espeak-ng") is None:
    pytest.skip("espeak-ng is not installed", allow_module_level=True)

from tests.api.conftest import make_env  # noqa: E402
from tests.api.live import serve  # noqa: E402
from tests.realtime.fakes import ScriptedReplier, silence  # noqa: E402
from tests.realtime.test_ws import Live, auth, recv_json, stream, until  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402

from twin.api.ws import configure_voice  # noqa: E402
from twin.audio.decode import load_audio  # noqa: E402
from twin.realtime.config import RealtimeConfig  # noqa: E402
from twin.realtime.engines import SynthSpeaker, open_stt, open_vad  # noqa: E402
from twin.realtime.ports import Engines  # noqa: E402

pytestmark = pytest.mark.timeout(300)
REPLY = "Sure thing. The museum opens at ten in the morning, and it is free on Sundays."


def espeak(text: str, path: Path) -> np.ndarray:
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "160", "-w", str(path), text], check=True, capture_output=True)
    audio, _ = load_audio(path, 16000)
    return audio


@pytest.fixture
def live(twin_home: Path) -> Iterator[Live]:
    env = make_env(twin_home)
    app = env.client.app
    made: list[ScriptedReplier] = []
    config = RealtimeConfig(stt_model="tiny.en", memory=False)

    async def build(state: Any, principal: Any, hello: Any) -> Any:
        replier = ScriptedReplier(reply_text=REPLY, delay_s=0.01)
        made.append(replier)
        speaker = SynthSpeaker(state.services.synthesizer(principal.profile), config)
        return Engines(open_vad(config), open_stt(config), replier, speaker), config

    configure_voice(app, build=build)
    with serve(app) as url:
        yield Live(url, env.alice, env.bob, app, made)


def test_spoken_question_gets_a_spoken_answer(live: Live, tmp_path: Path) -> None:
    question = espeak("What time does the museum open tomorrow?", tmp_path / "q.wav")

    async def go() -> list[dict[str, Any]]:
        async with connect(live.ws(), additional_headers=auth(live.key)) as ws:
            await ws.send(json.dumps({"type": "hello", "sample_rate": 16000}))
            await recv_json(ws, 60)
            await stream(ws, silence(0.4))
            await stream(ws, question)
            await stream(ws, silence(1.0))
            _, seen = await until(ws, "done", 120)
            return seen

    seen = asyncio.run(go())
    kinds = [m["type"] for m in seen]
    main = [k for k in kinds if k in ("speech_started", "speech_stopped", "final_transcript", "assistant_message")]
    assert main == ["speech_started", "speech_stopped", "final_transcript", "assistant_message"]
    final = next(m for m in seen if m["type"] == "final_transcript")["text"].lower()
    assert "museum" in final and "open" in final
    audio = [m for m in seen if m["type"] == "tts_audio"]
    assert [m["text"] for m in audio if m["text"]][0] == "Sure thing."  # the short first clause came first
    import soundfile as sf

    pcm, rate = sf.read(io.BytesIO(base64.b64decode(audio[1]["audio"])), dtype="float32")
    assert rate == 16000 and len(pcm) / rate > 1.0 and float(np.abs(pcm).max()) > 0.05


def test_own_voice_played_back_into_the_mic_is_not_a_barge_in(live: Live, tmp_path: Path) -> None:
    question = espeak("Tell me about the museum please.", tmp_path / "q.wav")

    async def go() -> list[dict[str, Any]]:
        async with connect(live.ws(), additional_headers=auth(live.key)) as ws:
            await ws.send(json.dumps({"type": "hello", "sample_rate": 16000}))
            await recv_json(ws, 60)
            await stream(ws, question)
            await stream(ws, silence(0.8))
            first, seen = await until(ws, "tts_audio", 120)
            clip, _ = load_audio(base64.b64decode(first["audio"]), 16000)
            # the speaker plays it, the mic hears it 80 ms later and quieter, with the room's noise
            rng = np.random.default_rng(1)
            echo = np.concatenate([silence(0.08), 0.5 * clip])
            echo = (echo + rng.normal(scale=0.002, size=len(echo))).astype(np.float32)
            await stream(ws, echo)
            await stream(ws, silence(0.5))
            _, rest = await until(ws, "done", 120)
            return seen + rest

    seen = asyncio.run(go())
    assert "interrupted" not in [m["type"] for m in seen]
    assert seen[-1]["reason"] == "completed"


def test_incremental_whisper_commits_settled_text_and_reuses_the_last_decode(tmp_path: Path) -> None:
    from twin.providers.stt import STTOptions

    stt = open_stt(RealtimeConfig(stt_model="tiny.en"))
    text = (
        "The quick brown fox jumps over the lazy dog. Then it runs into the forest and hides behind a tree. "
        "Later the farmer comes home and looks for his dog everywhere."
    )
    audio = np.concatenate([espeak(text, tmp_path / "long.wav"), silence(0.3)])
    decoded: list[float] = []
    original = stt.transcribe

    def counting(x: np.ndarray, sr: int, options: STTOptions | None = None) -> Any:
        decoded.append(len(x) / sr)
        return original(x, sr, options)

    stt.transcribe = counting  # type: ignore[method-assign]
    stream = stt.stream(STTOptions(language="en"))
    partials = []
    for i in range(0, len(audio), 16000 * 2):
        stream.append(audio[i : i + 16000 * 2])
        partials.append(stream.partial().text)
    n = len(decoded)
    final = stream.final()
    assert len(decoded) == n  # the last partial already covered all the audio
    words = final.text.lower()
    assert "lazy dog" in words and "farmer" in words and "forest" in words
    # settled segments were committed: later decodes ran on less than all the audio so far
    assert decoded[-1] < stream.duration_s - 2.0
    assert partials[-1] == final.text
