"""TTS benchmark (not a test): speed of the embedded engines and how close the clone gets to an owner.

Latency: first-audio time (request → first 22,050 Hz chunk, via Synthesizer.stream_audio) and real-time
factor (synthesis wall time / audio seconds, cache off) for five texts under 100 characters and one of
1,000 characters, for the plain base voice (piper, the peer), the zero-shot clone and the trained clone.

Similarity: stand-in owners are espeak-ng voice variants (different pitch, formants and timbre from the
Piper base voice). Per owner: 14 sentences for training, one reference clip, 4 held-out clips; three
unseen test sentences are spoken by (a) the plain base voice, (b) the zero-shot clone from the reference
clip, (c) the trained converter, (d) the owner themself (upper bound). Score = mean cosine similarity of
resemblyzer embeddings against the held-out owner clips.

    .venv/bin/python bench/tts.py            # needs the piper and voice extras and espeak-ng

Prints tables and writes bench/results/tts.json."""

from __future__ import annotations

import asyncio
import io
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SHORT = [
    "Hi, it's me. Call me back when you can.",
    "Thanks, that sounds great!",
    "I'm running ten minutes late, sorry.",
    "Can we move the meeting to Friday?",
    "Happy birthday! Hope you have a lovely day.",
]
LONG = (
    "I wanted to give you a quick update on the project before the weekend. "
    * 3
    + "We finished the first round of interviews on Tuesday, and the feedback was mostly positive. "
    "A few people asked for a simpler sign-up flow, so I sketched two options and shared them with "
    "the design team. On Wednesday the build broke twice because of a dependency upgrade; it is fixed "
    "now, but we lost half a day. The budget is still on track. Next week I would like to review the "
    "roadmap with you, ideally on Monday or Tuesday morning. Let me know what works, and enjoy the break."
)[:1000]
TRAIN = [
    "The weather was lovely this morning, so we walked to the market.",
    "Please remember to call your mother before the weekend.",
    "I have no idea where I left the keys to the garage.",
    "Our train leaves at half past seven, so we should hurry.",
    "She painted the fence green and then regretted it.",
    "Could you pass me the salt and the pepper, please?",
    "The children played in the garden until it got dark.",
    "We ordered pizza because nobody wanted to cook tonight.",
    "He finally finished the book he started last summer.",
    "There is a small cafe around the corner from my office.",
    "My brother is moving to a new apartment next month.",
    "Don't forget to water the plants while I am away.",
    "The museum was closed, so we went to the park instead.",
    "I think the meeting went better than we expected.",
]
REFERENCE = "Hello, this is my voice. I am recording a short sample so you can learn how I sound."
HELD_OUT = [
    "Let's have lunch together on Thursday if you are free.",
    "The new printer on the second floor is already broken.",
    "I bought fresh strawberries at the farmers market today.",
    "We should leave early to avoid the traffic on the bridge.",
]
TEST = [
    "Tomorrow I will bring the documents to your office.",
    "Nobody told me the concert had been cancelled.",
    "If it rains again, we will stay at home and watch a film.",
]
OWNERS = ["en-us+f3", "en-us+m7", "en-gb+f2", "en-gb-scotland+m3"]


def espeak(text: str, voice: str) -> np.ndarray:
    import soundfile as sf

    from twin.audio.resample import resample

    out = subprocess.run(["espeak-ng", "-v", voice, "--stdout", text], capture_output=True, check=True).stdout
    audio, sr = sf.read(io.BytesIO(out), dtype="float32")
    return resample(audio, sr, 22050)


def latency(synth, engine: str, voice: str | None) -> dict[str, float]:
    async def first_audio(text: str) -> float:
        start = time.perf_counter()
        async for _ in synth.stream_audio(text, voice_id=voice, engine=engine):
            return time.perf_counter() - start
        return float("nan")

    synth.synthesize("Warm up.", voice_id=voice, engine=engine)
    short_first = [asyncio.run(first_audio(t)) for t in SHORT]
    short_rtf = [synth.synthesize(t, voice_id=voice, engine=engine).rtf for t in SHORT]
    long_first = asyncio.run(first_audio(LONG))
    long_res = synth.synthesize(LONG, voice_id=voice, engine=engine)
    return {
        "short_first_audio_s": statistics.median(short_first),
        "short_rtf": statistics.median(short_rtf),
        "long_first_audio_s": long_first,
        "long_rtf": long_res.rtf,
        "long_total_s": long_res.rtf * long_res.duration_s,
    }


def similarity_for(owner: str, profile, encoder) -> dict[str, float]:
    from twin.audio.decode import decode_bytes
    from twin.audio.encode import save_wav
    from twin.voice.clone.training import Utterance, train_voice
    from twin.voice.synth import Synthesizer

    tag = owner.replace("+", "-").replace("_", "-").lower()
    ref = espeak(REFERENCE, owner)
    for vid in (f"zs-{tag}", f"tr-{tag}"):
        folder = profile.voice_dir / "profiles" / vid
        save_wav(folder / "reference.wav", ref, 22050)
        (folder / "voice.json").write_text(json.dumps({"id": vid, "name": vid}))
    utts = []
    for i, text in enumerate(TRAIN):
        path = save_wav(profile.voice_dir / "clean" / tag / f"{i}.wav", espeak(text, owner), 22050)
        utts.append(Utterance(f"{tag}-{i}", path, text))
    start = time.perf_counter()
    report = train_voice(profile, f"tr-{tag}", utterances=utts, components=8, hold_out=False, gate=False)
    train_s = time.perf_counter() - start
    held = [encoder.embed(espeak(t, owner), 22050) for t in HELD_OUT]

    def score(audio: np.ndarray, sr: int = 22050) -> float:
        emb = encoder.embed(audio, sr)
        return float(np.mean([emb @ h for h in held]))

    synth = Synthesizer(profile)
    rows: dict[str, list[float]] = {"base": [], "zero_shot": [], "trained": [], "owner": []}
    for text in TEST:
        rows["base"].append(score(*decode_bytes(synth.synthesize(text, engine="piper").audio)))
        rows["zero_shot"].append(score(*decode_bytes(synth.synthesize(text, voice_id=f"zs-{tag}").audio)))
        rows["trained"].append(score(*decode_bytes(synth.synthesize(text, voice_id=f"tr-{tag}").audio)))
        rows["owner"].append(score(espeak(text, owner)))
    out = {k: round(statistics.fmean(v), 4) for k, v in rows.items()}
    out.update(train_s=round(train_s, 1), trained_on=report.trained_on, frames=report.frames)
    return out


def main() -> None:
    home = Path(tempfile.mkdtemp(prefix="twin-bench-tts-"))
    os.environ["TWIN_HOME"] = str(home)
    from twin.profiles import ProfileManager
    from twin.providers import registry
    from twin.settings import load_settings
    from twin.voice.synth import Synthesizer
    from twin.voice.synth.config import TTSConfig

    profile = ProfileManager(load_settings()).create("bench")
    results: dict[str, object] = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version()}}
    have_espeak = shutil.which("espeak-ng") is not None
    sim: dict[str, dict[str, float]] = {}
    if have_espeak:
        encoder = registry.create("speaker", "resemblyzer")
        for owner in OWNERS:
            sim[owner] = similarity_for(owner, profile, encoder)
            print(f"  {owner}: {sim[owner]}", file=sys.stderr)
    results["similarity"] = sim
    nocache = Synthesizer(profile, config=TTSConfig(cache_max_mb=0))
    lat = {"piper (peer)": latency(nocache, "piper", None)}
    if have_espeak:
        tag = OWNERS[0].replace("+", "-").lower()
        lat["clone zero-shot"] = latency(nocache, "clone", f"zs-{tag}")
        lat["clone trained"] = latency(nocache, "clone", f"tr-{tag}")
    results["latency"] = lat
    print_tables(results)
    out = Path(__file__).parent / "results" / "tts.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"\nwrote {out}")
    shutil.rmtree(home, ignore_errors=True)


def print_tables(results: dict) -> None:
    print("\nLatency (median of 5 short texts; one 1,000-char text), warm engines, 2 CPU cores")
    print(
        f"{'engine':18} {'short 1st audio s':>17} {'short RTF':>10} {'1000c 1st audio s':>18} {'1000c RTF':>10}"
        f" {'RTF / piper':>12}"
    )
    peer = results["latency"]["piper (peer)"]
    for name, r in results["latency"].items():
        print(
            f"{name:18} {r['short_first_audio_s']:17.3f} {r['short_rtf']:10.3f} {r['long_first_audio_s']:18.3f}"
            f" {r['long_rtf']:10.3f} {r['long_rtf'] / peer['long_rtf']:12.2f}"
        )
    if not results["similarity"]:
        print("\n(similarity skipped: espeak-ng is not installed)")
        return
    print("\nSpeaker similarity to held-out owner clips (resemblyzer cosine; owner = espeak-ng variant)")
    print(f"{'owner':20} {'base':>7} {'zero-shot':>10} {'trained':>8} {'owner 2nd clip':>15} {'train s':>8}")
    cols = ["base", "zero_shot", "trained", "owner"]
    for owner, r in results["similarity"].items():
        print(
            f"{owner:20} {r['base']:7.3f} {r['zero_shot']:10.3f} {r['trained']:8.3f} {r['owner']:15.3f}"
            f" {r['train_s']:8.1f}"
        )
    mean = {c: statistics.fmean(r[c] for r in results["similarity"].values()) for c in cols}
    print(f"{'mean':20} {mean['base']:7.3f} {mean['zero_shot']:10.3f} {mean['trained']:8.3f} {mean['owner']:15.3f}")
    gap = mean["owner"] - mean["base"]
    for c in ("zero_shot", "trained"):
        print(
            f"  {c}: {mean[c] / mean['base']:.2f}x the base voice's similarity; closes "
            f"{(mean[c] - mean['base']) / gap * 100:.0f}% of the base→owner gap"
        )
    results["summary"] = mean


if __name__ == "__main__":
    main()
