"""Watermark benchmark: detection rate after common transformations, false positives on the same speech
without the mark, and the SNR the mark costs. No neural watermark runs offline here (AudioSeal and
WavMark download weights), so the comparison is the unmarked audio itself (what chance reaches).

Speech: N sentences from the embedded Piper voice (2-5 s each).

    .venv/bin/python bench/watermark.py [--sentences 24] [--json bench/results/watermark.json]
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from twin.backends.tts_piper import PiperTTS  # noqa: E402
from twin.voice import watermark as wm  # noqa: E402

_TEXT = (
    "the meeting moved to thursday so we have more time to finish the report honestly I think the second "
    "option is better but let us ask the team first can you send me the numbers before lunch nice one"
)
WORDS = _TEXT.split()


def mp3(x: np.ndarray, kbps: int) -> tuple[np.ndarray, int]:
    import lameenc
    import soundfile as sf

    enc = lameenc.Encoder()
    enc.set_bit_rate(kbps)
    enc.set_in_sample_rate(wm.RATE)
    enc.set_channels(1)
    enc.set_quality(5)
    data = bytes(enc.encode((np.clip(x, -1, 1) * 32767).astype("<i2").tobytes())) + bytes(enc.flush())
    audio, sr = sf.read(io.BytesIO(data), dtype="float32")
    return audio, int(sr)


def resampled(x: np.ndarray, rate: int) -> tuple[np.ndarray, int]:
    import soxr

    return soxr.resample(x, wm.RATE, rate).astype(np.float32), rate


TRANSFORMS = {
    "wav 22.05 kHz": lambda x: (x, wm.RATE),
    "mp3 64 kbit/s": lambda x: mp3(x, 64),
    "mp3 32 kbit/s": lambda x: mp3(x, 32),
    "resample 8 kHz": lambda x: resampled(x, 8000),
    "resample 16 kHz": lambda x: resampled(x, 16000),
    "resample 44.1 kHz": lambda x: resampled(x, 44100),
    "trim 0.3 s + mp3": lambda x: mp3(x[6615:], 64),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=24)
    parser.add_argument("--json", type=Path, default=Path(__file__).parent / "results" / "watermark.json")
    args = parser.parse_args()
    rng = np.random.default_rng(11)
    tts = PiperTTS()
    clips = []
    for _ in range(args.sentences):
        text = " ".join(rng.choice(WORDS, size=int(rng.integers(8, 18)))).capitalize() + "."
        clips.append(np.concatenate([c.samples for c in tts.synthesize_sync(text)]))
    marked = [wm.embed(x) for x in clips]
    snr = [10 * np.log10(np.sum(x**2) / np.sum((x - y) ** 2)) for x, y in zip(clips, marked, strict=True)]
    rows = {}
    for name, fn in TRANSFORMS.items():
        hit = [wm.detect(*fn(y)) for y in marked]
        miss = [wm.detect(*fn(x)) for x in clips]
        rows[name] = {
            "detected": sum(d.watermarked for d in hit) / len(hit),
            "false_positive": sum(d.watermarked for d in miss) / len(miss),
            "z_marked_min": round(min(d.z for d in hit), 2),
            "z_unmarked_max": round(max(d.z for d in miss), 2),
        }
    head = f"{'transform':<20} {'detected':>9} {'false pos':>10} {'min z (marked)':>15} {'max z (unmarked)':>17}"
    print(head)
    print("-" * len(head))
    for name, r in rows.items():
        print(
            f"{name:<20} {r['detected']:>9.0%} {r['false_positive']:>10.0%} {r['z_marked_min']:>15} "
            f"{r['z_unmarked_max']:>17}"
        )
    seconds = sum(len(x) for x in clips) / wm.RATE
    print(
        f"SNR cost: mean {np.mean(snr):.1f} dB (min {np.min(snr):.1f}); {len(clips)} clips, {seconds:.0f} s of speech"
    )
    print(
        f"threshold z >= {wm.DETECT_Z}, strength ±{wm.STRENGTH} in log-magnitude ({wm.LOW_HZ:.0f}-{wm.HIGH_HZ:.0f} Hz)"
    )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    out = {"clips": len(clips), "seconds": round(seconds, 1), "snr_db_mean": round(float(np.mean(snr)), 2)}
    args.json.write_text(json.dumps({**out, "snr_db_min": round(float(np.min(snr)), 2), "rows": rows}, indent=2) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
