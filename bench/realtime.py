"""Realtime voice-loop benchmark (not a test), with the embedded engines: silero VAD, faster-whisper
(tiny.en by default, --stt-model base), SmolLM2 through the chat service, Piper.

Utterances (espeak-ng, a different voice from Piper's) are streamed into a voice session at
real-time pace, 20 ms frames, each followed by silence, and timed as a client sees the events:
  response   end of the user's speech in the audio → first tts_audio (endpointing included)
  pipeline   endpoint decision (speech_stopped) → first tts_audio
  barge-in   first sample of user speech during playback → interrupted
  overhead   endpoint → first tts_audio with instant scripted engines (the loop's own cost)
Peer, same run, same engines: a naive sequential loop (VAD endpoint → transcribe the whole
utterance → the whole chat reply → synthesize the whole reply → send). Also the first audio of the
streaming /api/tts/clone route for sentences under 100 characters (live uvicorn server).

    .venv/bin/python bench/realtime.py [--utterances 20] [--stt-model tiny.en] [--json bench/results/realtime.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np

QUESTIONS = [
    "What time is it in Tokyo right now?",
    "Can you remind me to call my sister tonight?",
    "What should I cook for dinner this evening?",
    "Tell me something nice about the weekend.",
    "How was your day today?",
    "Do you remember where we went last summer?",
    "What is the weather like outside?",
    "Should I take the train or the bus tomorrow?",
    "Give me one idea for a birthday present.",
    "What was the name of that book you liked?",
    "Can we meet for coffee on Friday morning?",
    "How long does it take to boil an egg?",
    "What music do you feel like listening to?",
    "Tell me a short joke please.",
    "Where did I leave my keys yesterday?",
    "What do you think about learning the piano?",
    "Is it a good day for a walk in the park?",
    "Which movie should we watch tonight?",
    "How do I say thank you in Spanish?",
    "What are your plans for the holidays?",
]
FRAME_S = 0.02
RATE = 16000


def espeak(text: str, path: Path) -> np.ndarray:
    from twin.audio.decode import load_audio

    subprocess.run(["espeak-ng", "-v", "en-gb", "-s", "165", "-w", str(path), text], check=True, capture_output=True)
    audio, _ = load_audio(path, RATE)
    nonzero = np.flatnonzero(np.abs(audio) > 1e-3)
    return audio[nonzero[0] : nonzero[-1] + 1] if len(nonzero) else audio


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    return float(np.percentile(values, q))


def summary(values: list[float]) -> dict[str, Any]:
    return {"n": len(values), "p50_s": pct(values, 50), "p95_s": pct(values, 95), "values_s": values}


async def stream_audio(session: Any, audio: np.ndarray, realtime: bool = True) -> float:
    """Push audio in 20 ms frames; returns the wall time when the last frame was sent."""
    from twin.audio.pcm import to_pcm16

    step = int(RATE * FRAME_S)
    start = time.perf_counter()
    for n, i in enumerate(range(0, len(audio), step)):
        session.push_audio(to_pcm16(audio[i : i + step]))
        if realtime:
            await asyncio.sleep(max(0.0, start + (n + 1) * FRAME_S - time.perf_counter()))
        else:
            await asyncio.sleep(0)
    return time.perf_counter()


class Timeline:
    """Arrival time of each event type of the current turn."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.times: dict[str, float] = {}
        self.all: dict[str, list[float]] = {}  # every arrival, for events after a given moment
        self.events: list[Any] = []
        self.task = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        async for event in self.session.events():
            self.events.append(event)
            now = time.perf_counter()
            self.times.setdefault(event.type, now)
            self.all.setdefault(event.type, []).append(now)

    def reset(self) -> None:
        self.times = {}

    async def first_of(self, kinds: tuple[str, ...], moment: float, timeout: float = 120) -> tuple[str, float]:
        """Which of `kinds` arrived first after `moment`, and when."""
        deadline = time.perf_counter() + timeout
        while True:
            found = [(t, k) for k in kinds for t in self.all.get(k, []) if t > moment]
            if found:
                t, k = min(found)
                return k, t
            if time.perf_counter() > deadline:
                raise TimeoutError(f"none of {kinds} after the endpoint")
            await asyncio.sleep(0.005)

    async def wait(self, kind: str, timeout: float = 120) -> float:
        deadline = time.perf_counter() + timeout
        while kind not in self.times:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"no {kind} event")
            await asyncio.sleep(0.005)
        return self.times[kind]


async def run_streaming(engines: Any, config: Any, utterances: list[np.ndarray], barge: bool) -> dict[str, Any]:
    from twin.realtime.events import Hello
    from twin.realtime.session import VoiceSession

    session = VoiceSession(engines, config)
    await session.start(Hello(type="hello", sample_rate=RATE))
    line = Timeline(session)
    response, pipeline, barge_in = [], [], []
    silent: list[dict[str, Any]] = []
    silence = np.zeros(int(RATE * 1.2), dtype=np.float32)
    for i, audio in enumerate(utterances):
        line.reset()
        await stream_audio(session, np.zeros(int(RATE * 0.3), dtype=np.float32))
        speech_end = await stream_audio(session, audio)
        feeding = asyncio.ensure_future(stream_audio(session, silence))
        stopped = await line.wait("speech_stopped")
        first = await line.first_of(("tts_audio", "done", "error"), stopped)
        await feeding
        if first[0] != "tts_audio":  # nothing was spoken (no words heard, or a reply with nothing to say)
            silent.append({"utterance": i, "events": [e.type for e in line.events[-12:]]})
            await stream_audio(session, np.zeros(int(RATE * 5), dtype=np.float32), realtime=False)
            continue
        response.append(first[1] - speech_end)
        pipeline.append(first[1] - stopped)
        if barge and i % 2 == 1:
            line.reset()
            started = time.perf_counter()
            feeding = asyncio.ensure_future(stream_audio(session, utterances[(i + 1) % len(utterances)]))
            barge_in.append(await line.wait("interrupted", 30) - started)
            await feeding
            await stream_audio(session, silence)
            await line.wait("done", 120)
        await line.wait("done")
        await stream_audio(session, np.zeros(int(RATE * 30), dtype=np.float32), realtime=False)  # playback ends
        await asyncio.sleep(0.05)
    await session.close()
    await line.task
    return {
        "response": summary(response),
        "pipeline": summary(pipeline),
        "barge_in": summary(barge_in),
        "turns_without_audio": silent,
    }


async def run_naive(engines: Any, config: Any, chat: Any, synth: Any, utterances: list[np.ndarray]) -> dict[str, Any]:
    """The peer: endpoint, then each stage on the whole of the previous one's output."""
    from twin.providers.llm import LLMOptions
    from twin.providers.stt import STTOptions
    from twin.providers.vad import VADOptions

    response, pipeline = [], []
    conversation = None
    for audio in utterances:
        vad = engines.vad.listen(VADOptions(threshold=config.vad_threshold, end_of_turn_s=config.end_of_turn_s))
        x = np.concatenate([np.zeros(int(RATE * 0.3), np.float32), audio, np.zeros(int(RATE * 1.2), np.float32)])
        step = int(RATE * FRAME_S)
        start = time.perf_counter()
        speech_end = endpoint = None
        for n, i in enumerate(range(0, len(x), step)):
            events = vad.feed(x[i : i + step])
            if i + step >= int(RATE * 0.3) + len(audio) and speech_end is None:
                speech_end = time.perf_counter()
            if any(e.kind == "end" for e in events):
                endpoint = time.perf_counter()
                break
            await asyncio.sleep(max(0.0, start + (n + 1) * FRAME_S - time.perf_counter()))
        assert speech_end is not None and endpoint is not None
        text = (await asyncio.to_thread(engines.stt.transcribe, audio, RATE, STTOptions(language="en"))).text
        turn = await chat.turn(text, "twin", conversation, options=LLMOptions(max_tokens=config.max_tokens))
        conversation = turn.conversation_id
        speech = await synth.asynthesize(turn.reply or "Okay.", voice_id=None, fmt="wav")
        sent = time.perf_counter()
        assert speech.audio
        response.append(sent - speech_end)
        pipeline.append(sent - endpoint)
    return {"response": summary(response), "pipeline": summary(pipeline)}


class InstantSTT:
    def stream(self, options: Any) -> Any:
        from twin.providers.stt import STT, Segment, Transcript

        class _Instant(STT):
            def transcribe(self, audio: np.ndarray, sr: int, options: Any = None) -> Transcript:
                return Transcript("what time is it", [Segment(0, len(audio) / sr, "what time is it")])

        return _Instant().stream(options)


class InstantReplier:
    async def reply(self, text: str, cancel: asyncio.Event) -> AsyncIterator[Any]:
        from twin.realtime.ports import ReplyDone

        for word in ["It", "is", "nine", "o'clock,", "time", "for", "breakfast."]:
            yield word + " "
        yield ReplyDone("It is nine o'clock, time for breakfast.")

    async def truncate(self, done: Any, delivered: str) -> None:
        return None


class InstantSpeaker:
    async def speak(self, text: AsyncIterator[str], sample_rate: int) -> AsyncIterator[Any]:
        from twin.realtime.ports import SpokenClause
        from twin.voice.synth.clauses import ClauseChunker

        chunker = ClauseChunker()
        async for piece in text:
            for clause in chunker.feed(piece):
                yield SpokenClause(clause, np.zeros(sample_rate // 2, np.float32), sample_rate)
        for clause in chunker.flush():
            yield SpokenClause(clause, np.zeros(sample_rate // 2, np.float32), sample_rate)


async def run_overhead(vad: Any, config: Any, utterances: list[np.ndarray]) -> dict[str, Any]:
    from twin.realtime.ports import Engines

    engines = Engines(vad, InstantSTT(), InstantReplier(), InstantSpeaker())  # type: ignore[arg-type]
    result = await run_streaming(engines, config, utterances, barge=False)
    return result["pipeline"]


def clone_first_audio(home: Path, texts: list[str]) -> dict[str, Any]:
    """First audio bytes of the streaming /api/tts/clone over a live server (after a warm-up request)."""
    import httpx
    import uvicorn

    from twin.api.config import ServerSettings
    from twin.api.main import build_app
    from twin.keys import KeyStore
    from twin.settings import load_settings

    settings = load_settings(home=home)
    key = KeyStore(settings).create("bench").secret
    app = build_app(settings, ServerSettings(llm_backend="fake", audit=False))
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.api.live import serve

    firsts: list[float] = []
    with serve(app) as url, httpx.Client(base_url=url, headers={"Authorization": "Bearer " + key}, timeout=60) as c:
        c.post("/api/tts/clone", json={"text": "Warming up the voice.", "stream": False})
        for text in texts:
            start = time.perf_counter()
            got = 0
            with c.stream("POST", "/api/tts/clone", json={"text": text + " ", "stream": True}) as r:
                r.raise_for_status()
                for chunk in r.iter_bytes():
                    got += len(chunk)
                    if got > 44:  # past the WAV header: speech
                        firsts.append(time.perf_counter() - start)
                        break
    del uvicorn
    return summary(firsts)


def table(rows: list[tuple[str, dict[str, Any], dict[str, Any] | None, str]]) -> str:
    out = [f"{'metric':<30}{'p50 s':>9}{'p95 s':>9}{'peer p50':>10}{'ratio':>8}  goal"]
    for name, ours, peer, goal in rows:
        p50, p95 = ours.get("p50_s"), ours.get("p95_s")
        peer50 = peer.get("p50_s") if peer else None
        ratio = f"{peer50 / p50:.1f}x" if peer50 and p50 else "-"
        fmt = lambda v: f"{v:.3f}" if isinstance(v, float) else "-"  # noqa: E731
        out.append(f"{name:<30}{fmt(p50):>9}{fmt(p95):>9}{fmt(peer50):>10}{ratio:>8}  {goal}")
    return "\n".join(out)


async def main_async(args: argparse.Namespace, home: Path) -> dict[str, Any]:
    from twin.profiles import ProfileManager
    from twin.realtime.engines import local_engines
    from twin.realtime.events import Hello
    from twin.settings import load_settings

    settings = load_settings(home=home)
    profile = ProfileManager(settings).create("bench")
    (profile.root / "realtime.json").write_text(json.dumps({"stt_model": args.stt_model, "memory": False}))
    tmp = Path(tempfile.mkdtemp())
    utterances = [espeak(q, tmp / f"q{i}.wav") for i, q in enumerate(QUESTIONS[: args.utterances])]
    hello = Hello(type="hello", sample_rate=RATE)
    async with local_engines(profile, settings, hello) as (engines, config):
        warm = await run_streaming(engines, config, utterances[:1], barge=False)  # loads every model
        ours = await run_streaming(engines, config, utterances, barge=True)
        replier: Any = engines.replier
        synth = engines.speaker.speaker.synth  # type: ignore[attr-defined]
        naive = await run_naive(engines, config, replier.chat, synth, utterances)
        overhead = await run_overhead(engines.vad, config, utterances)
    return {"warm_up": warm, "streaming": ours, "naive": naive, "overhead": overhead}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--utterances", type=int, default=20)
    ap.add_argument("--stt-model", default="tiny.en")
    ap.add_argument("--json", type=Path, default=Path("bench/results/realtime.json"))
    args = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="twin-bench-"))
    os.environ["TWIN_HOME"] = str(home)
    results = asyncio.run(main_async(args, home))
    results["clone_first_audio"] = clone_first_audio(home, QUESTIONS[:5])
    s, n = results["streaming"], results["naive"]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    what = f"{args.utterances} utterances, stt {args.stt_model}, {os.cpu_count()} cores, load {load}"
    print(f"\nrealtime voice loop, {what}\n")
    print(
        table(
            [
                ("response (speech end → audio)", s["response"], n["response"], "≤ 1.2 s (stretch 0.8)"),
                ("pipeline (endpoint → audio)", s["pipeline"], n["pipeline"], "≤ 0.6 s"),
                ("barge-in (speech → interrupted)", s["barge_in"], None, "≤ 0.25 s"),
                ("overhead, instant engines", results["overhead"], None, "≤ 0.02 s"),
                ("/api/tts/clone first audio", results["clone_first_audio"], None, "≤ 0.3 s"),
            ]
        )
    )
    print("\npeer: naive sequential loop (whole transcript → whole reply → whole TTS → send); ratio = peer / ours")
    results["machine"] = {
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
    }
    results["stt_model"] = args.stt_model
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2, default=float))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
