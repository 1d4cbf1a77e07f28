"""Voice-library preparation benchmark: real-time factor per step on 10 minutes of synthetic audio.

The input is made here: espeak-ng sentences from four voices (a multi-speaker stand-in), pauses of
0.2-2.5 s, breath-like noise bursts before phrases, a hum and broadband background noise, written as a
44.1 kHz stereo WAV so that decoding, down-mixing and resampling are exercised. Each step of
twin.voice.prepare is timed on it (RTF = step seconds / audio seconds), with transcription reported
separately. Pinned to 2 cores where the OS allows. The peer is silero-vad's own Python wrapper
(torch) for the VAD step, run on the same audio in the same process.

    .venv/bin/python bench/voice_prepare.py [--minutes 10] [--stt-model auto|tiny.en|base|none]
                                            [--json bench/results/voice_prepare.json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "2")
if hasattr(os, "sched_setaffinity"):
    cpus = sorted(os.sched_getaffinity(0))[:2]
    os.sched_setaffinity(0, set(cpus))

import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402

from twin.audio.decode import load_audio  # noqa: E402
from twin.audio.resample import resample  # noqa: E402
from twin.voice.config import PrepareConfig  # noqa: E402
from twin.voice.prepare import Engines, prepare_audio  # noqa: E402

SR = 22050
VOICES = ["en-us", "en-us+f3", "en-gb", "en-us+m4"]
WORDS = [
    "time",
    "person",
    "year",
    "way",
    "day",
    "thing",
    "man",
    "world",
    "life",
    "hand",
    "part",
    "child",
    "eye",
    "woman",
    "place",
    "work",
    "week",
    "case",
    "point",
    "government",
    "company",
    "number",
    "group",
    "problem",
    "fact",
    "morning",
    "river",
    "garden",
    "window",
    "music",
    "story",
    "city",
    "market",
    "doctor",
    "teacher",
    "letter",
    "train",
    "coffee",
    "mountain",
    "friend",
    "evening",
    "summer",
    "winter",
    "table",
    "paper",
    "kitchen",
]
VERBS = [
    "found",
    "saw",
    "made",
    "took",
    "gave",
    "told",
    "asked",
    "left",
    "kept",
    "brought",
    "carried",
    "opened",
    "watched",
    "painted",
    "cleaned",
]


def sentence(rng: random.Random) -> str:
    n = rng.randint(6, 14)
    words = [rng.choice(WORDS) if i % 3 else rng.choice(VERBS) for i in range(n)]
    return "The " + " ".join(words) + "."


def espeak(text: str, voice: str, tmp: Path) -> np.ndarray:
    out = tmp / "s.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", "155", "-w", str(out), text], check=True, capture_output=True)
    x, sr = sf.read(out, dtype="float32")
    return resample(x, sr, SR)


def make_audio(minutes: float, tmp: Path, seed: int = 0) -> np.ndarray:
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    parts: list[np.ndarray] = []
    total = 0
    while total < minutes * 60 * SR:
        voice = rng.choice(VOICES)
        s = espeak(sentence(rng), voice, tmp) * rng.uniform(0.2, 0.6)
        pause = np.zeros(int(rng.uniform(0.2, 2.5) * SR), dtype=np.float32)
        n = int(0.35 * SR)
        b = nrng.standard_normal(n).astype(np.float32) * 0.01 * np.hanning(n).astype(np.float32)
        parts += [pause, b, np.zeros(int(0.15 * SR), dtype=np.float32), s]
        total += len(pause) + n + int(0.15 * SR) + len(s)
    x = np.concatenate(parts)[: int(minutes * 60 * SR)]
    t = np.arange(len(x)) / SR
    x = (
        x
        + 0.002 * np.sin(2 * np.pi * 50 * t).astype(np.float32)
        + nrng.standard_normal(len(x)).astype(np.float32) * 0.002
    )
    return x.astype(np.float32)


def vad_vs_peer(x: np.ndarray, rounds: int = 2) -> tuple[float, float]:
    """Speech regions from the same 16 kHz signal: ours (twin's silero backend, ONNX without torch) and
    the peer (silero-vad's own get_speech_timestamps with its torch OnnxWrapper); best of `rounds`
    alternating runs each, in seconds."""
    import torch
    from silero_vad import get_speech_timestamps, load_silero_vad

    from twin.providers.registry import create

    x16 = resample(x, SR, 16000)
    ours_vad = create("vad", "silero")
    peer_model = load_silero_vad(onnx=True)
    ours, peer = [], []
    for _ in range(rounds):
        t0 = time.perf_counter()
        ours_vad.speech_regions(x16, 16000)
        ours.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        get_speech_timestamps(torch.from_numpy(x16), peer_model, sampling_rate=16000)
        peer.append(time.perf_counter() - t0)
    return min(ours), min(peer)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--stt-model", default="auto", help="auto, base, tiny.en, a model folder, or none")
    ap.add_argument("--json", type=Path, default=Path("bench/results/voice_prepare.json"))
    args = ap.parse_args()
    if shutil.which("espeak-ng") is None:
        print("espeak-ng is needed to make the benchmark audio (apt-get install espeak-ng)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        os.environ.setdefault("TWIN_HOME", str(tmp / "home"))
        mono = make_audio(args.minutes, tmp)
        path = tmp / "bench.wav"
        # 44.1 kHz stereo source: upsample once here (not timed) so decode/mono/resample do real work
        src = resample(np.stack([mono, mono * 0.9], axis=1), SR, 44100)
        sf.write(path, src, 44100, subtype="PCM_16")
        audio_s = len(mono) / SR

        cfg = PrepareConfig()
        if args.stt_model != "none":
            cfg.stt.model = args.stt_model
        engines = Engines(cfg)
        engines.vad().load()  # model loading and first-call imports are not preparation work
        prepare_audio(audio_warm := np.zeros((SR * 5, 2), dtype=np.float32), SR, cfg, engines, transcribe=False)
        del audio_warm
        t0 = time.perf_counter()
        audio, sr = load_audio(path, mono=False)
        decode_s = time.perf_counter() - t0
        out = prepare_audio(audio, sr, cfg, engines, transcribe=False)
        cfg.denoise.enabled = True
        den = prepare_audio(audio, sr, cfg, engines, transcribe=False).timings.get("denoise", 0.0)
        cfg.denoise.enabled = False
        stt_s = None
        if args.stt_model != "none":
            stt = engines.stt()
            stt.load()
            t0 = time.perf_counter()
            from twin.voice.prepare.pipeline import _transcribe

            _transcribe(out.clips, out.sample_rate, cfg, engines)
            stt_s = time.perf_counter() - t0
        ours_vad, peer = vad_vs_peer(steps_input(audio, sr))

    rows = [("decode", decode_s)] + [(k, v) for k, v in out.timings.items()]
    core = sum(v for _, v in rows)
    clip_s = sum(c.metrics.duration_s for c in out.clips)
    result = {
        "audio_s": round(audio_s, 1),
        "clips": len(out.clips),
        "clip_s": round(clip_s, 1),
        "breaths": len(out.breaths),
        "cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "steps": {k: {"s": round(v, 3), "rtf": round(v / audio_s, 5)} for k, v in rows},
        "total_excluding_transcription": {"s": round(core, 3), "rtf": round(core / audio_s, 5)},
        "denoise_optional": {"s": round(den, 3), "rtf": round(den / audio_s, 5)},
        "transcription": None
        if stt_s is None
        else {
            "model": args.stt_model,
            "s": round(stt_s, 2),
            "rtf": round(stt_s / audio_s, 4),
            "rtf_per_clip_second": round(stt_s / max(clip_s, 1e-9), 4),
        },
        "vad_vs_peer": {
            "ours_s": round(ours_vad, 3),
            "peer_silero_vad_wrapper_s": round(peer, 3),
            "ratio_ours_over_peer": round(ours_vad / peer, 3),
        },
    }
    print(
        f"{audio_s / 60:.1f} min of audio → {len(out.clips)} clips ({clip_s / 60:.1f} min), "
        f"{len(out.breaths)} breaths attenuated"
    )
    print(f"{'step':<28}{'seconds':>10}{'RTF':>10}")
    for k, v in rows:
        print(f"{k:<28}{v:>10.3f}{v / audio_s:>10.4f}")
    print(f"{'total (no transcription)':<28}{core:>10.3f}{core / audio_s:>10.4f}   goal <= 0.1")
    print(f"{'denoise (optional, off)':<28}{den:>10.3f}{den / audio_s:>10.4f}")
    if stt_s is not None:
        print(f"{'transcription (' + args.stt_model + ')':<28}{stt_s:>10.3f}{stt_s / audio_s:>10.4f}")
    print(
        f"VAD alone, same 16 kHz input: ours {ours_vad:.3f} s, peer silero-vad get_speech_timestamps "
        f"{peer:.3f} s; ours/peer = {ours_vad / peer:.2f}"
    )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


def steps_input(audio: np.ndarray, sr: int) -> np.ndarray:
    """The mono 22,050 Hz signal the VAD step sees (for the peer run)."""
    return resample(audio.mean(axis=1).astype(np.float32), sr, SR)


if __name__ == "__main__":
    sys.exit(main())
