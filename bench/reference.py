"""Reference-clip benchmark: what a long one-off reference costs, twin's bounded path against the naive one.

The input is made here: espeak-ng speech once a minute and 30 s of continuous speech at 60 % of the way
through, under faint noise, written block by block as a 44.1 kHz stereo WAV (decoding, down-mixing and
resampling are all exercised). Two ways to turn it into a 22,050 Hz reference clip, in the same process:

- twin: `twin.voice.reference.load_reference` (header check, block-wise scan at 16 kHz with the VAD,
  only the 30 s window with the most speech decoded at 22,050 Hz);
- peer: the naive path twin used before, which is also what soundfile + soxr give you in two lines:
  `soundfile.read` the whole file, down-mix, `soxr.resample` to 22,050 Hz, keep it all.

Reported per side: wall seconds (best of the repeats, alternating ABBA on a shared machine) and the peak
of Python-tracked memory (numpy buffers included). Pinned to 2 cores where the OS allows.

    .venv/bin/python bench/reference.py [--minutes 10] [--vad silero|energy] [--json bench/results/reference.json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "2")
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, set(sorted(os.sched_getaffinity(0))[:2]))

import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402
import soxr  # noqa: E402

from twin.voice.config import VoiceConfig  # noqa: E402
from twin.voice.reference import load_reference  # noqa: E402

RATE = 44100
TEXT = (
    "The quick brown fox jumps over the lazy dog near the river bank. "
    "She sells sea shells by the sea shore every single morning."
)


def make_input(path: Path, minutes: float) -> float:
    """Write the test recording; returns where its dense 30 s of speech starts."""
    raw = path.with_suffix(".speech.wav")
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(raw), TEXT], check=True, capture_output=True)
    speech, sr = sf.read(raw, dtype="float32")
    speech = soxr.resample(speech, sr, RATE).astype(np.float32) * 0.5
    total, dense = minutes * 60, round(minutes * 60 * 0.6)
    rng = np.random.default_rng(0)
    with sf.SoundFile(path, "w", RATE, 2, "PCM_16") as f:
        for t in range(0, int(total), 5):
            block = rng.standard_normal((5 * RATE, 2)).astype(np.float32) * 3e-4
            if dense <= t < dense + 30:
                piece = np.resize(np.roll(speech, -((t - dense) * RATE) % len(speech)), 5 * RATE)
                block += piece[:, None]
            elif t % 60 == 0:
                block[: len(speech) // 4] += speech[: len(speech) // 4, None]
            f.write(block)
    return float(dense)


def naive(path: Path) -> np.ndarray:
    audio, sr = sf.read(path, dtype="float32", always_2d=True)
    return soxr.resample(audio.mean(axis=1), sr, 22050).astype(np.float32)


def measure(fn: Callable[[], object]) -> tuple[float, float]:
    tracemalloc.start()
    started = time.perf_counter()
    fn()
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return seconds, peak / 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--vad", default="silero", choices=["silero", "energy"])
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--json", type=Path, default=Path("bench/results/reference.json"))
    args = ap.parse_args()
    config = VoiceConfig()
    config.prepare.vad.backend = args.vad
    config.reference.max_input_s = args.minutes * 60 + 1
    with tempfile.TemporaryDirectory(prefix="twin-bench-ref-") as tmp:
        path = Path(tmp) / "long.wav"
        dense = make_input(path, args.minutes)
        clip = load_reference(path, config)  # warm the VAD model once
        runs: dict[str, list[tuple[float, float]]] = {"twin": [], "naive": []}
        for i in range(args.repeats):
            order = ["twin", "naive"] if i % 2 == 0 else ["naive", "twin"]
            for side in order:
                fn = (lambda: load_reference(path, config)) if side == "twin" else (lambda: naive(path))
                runs[side].append(measure(fn))
        size_mb = path.stat().st_size / 1e6
    best = {side: (min(s for s, _ in r), min(p for _, p in r)) for side, r in runs.items()}
    result = {
        "minutes": args.minutes,
        "file_mb": round(size_mb, 1),
        "vad": args.vad,
        "window_start_s": round(clip.start_s, 2),
        "dense_speech_at_s": dense,
        "clip_s": round(clip.duration_s, 2),
        **{f"{side}_seconds": round(s, 3) for side, (s, _) in best.items()},
        **{f"{side}_peak_mb": round(p, 1) for side, (_, p) in best.items()},
        "time_ratio_twin_over_naive": round(best["twin"][0] / best["naive"][0], 2),
        "memory_ratio_twin_over_naive": round(best["twin"][1] / best["naive"][1], 3),
    }
    print(f"{args.minutes:g} min 44.1 kHz stereo ({size_mb:.0f} MB), VAD {args.vad}")
    print(f"{'':8} {'seconds':>9} {'peak MB':>9}  kept")
    print(
        f"{'twin':8} {best['twin'][0]:9.2f} {best['twin'][1]:9.1f}  {clip.duration_s:.0f} s from {clip.start_s:.1f} s"
    )
    print(f"{'naive':8} {best['naive'][0]:9.2f} {best['naive'][1]:9.1f}  {args.minutes * 60:.0f} s (everything)")
    print(
        f"ratio twin/naive: time {result['time_ratio_twin_over_naive']}, "
        f"memory {result['memory_ratio_twin_over_naive']}"
    )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
