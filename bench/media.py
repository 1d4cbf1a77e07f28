"""Movie → character benchmark on a synthetic 10-minute film with known truth.

The film: four voices (espeak-ng variants and Piper's joe) in a generated dialogue with overlaps every
sixth line, background music and noise, muxed into an mkv; subtitles with an offset of 2.5 s and
25/23.976 frame-rate drift. Measured, in one run:
- diarization error rate (pyannote.metrics' DiarizationErrorRate, collar 0.25 s, overlap scored) of
  twin's segment stage and of the peer: k-means on MFCC means per VAD segment, given the true speaker
  count (same VAD regions), the classic simple baseline;
- purity of the exported clips (the character's solo speech over all speech inside them: another
  voice or an overlap is the impurity) and recall (share of the character's solo speech that ends up
  in kept clips), per character;
- alignment error after correcting offset and drift (|aligned cue start - true start|);
- real-time factor (stage seconds / audio seconds) and peak RSS per stage, without ASR
  (--asr also times speech recognition).

    .venv/bin/python bench/media.py [--minutes 10] [--asr] [--json bench/results/media.json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import psutil  # noqa: E402
from tests.media import scene as sc  # noqa: E402

SUBJECTS = [
    "the map",
    "the car",
    "the storm",
    "the bridge",
    "the radio",
    "the cabin",
    "the boat",
    "the keys",
    "dinner",
    "the road",
]
VERBS = ["moved", "fixed", "forgot", "found", "checked", "lost", "packed", "broke", "cleaned", "painted"]
TAILS = [
    "before anyone woke up",
    "while you were asleep",
    "because nobody else would",
    "and I am still angry about it",
    "last night after the rain",
    "without telling a single person",
]


def dialogue(n_lines: int, seed: int = 11) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    who = ["Ann", "Bob", "Carl", "Dave"]
    out, last = [], None
    for i in range(n_lines):
        speaker = rng.choice([w for w in who if w != last])
        last = speaker
        s, v, t = rng.choice(SUBJECTS), rng.choice(VERBS), rng.choice(TAILS)
        form = i % 4
        text = (
            f"Did you know that somebody {v} {s} {t}?"
            if form == 0
            else f"I {v} {s} {t}, so stop asking me."
            if form == 1
            else f"Honestly, {s} was {v} {t}, and that is all I know."
            if form == 2
            else f"We should talk about {s}. Someone {v} it {t}."
        )
        out.append((speaker, text))
    return out


class Peak:
    """Peak RSS of this process while a block runs (sampled every 20 ms)."""

    def __init__(self) -> None:
        self.proc = psutil.Process()

    @contextmanager
    def measure(self, into: dict[str, Any]) -> Iterator[None]:
        stop = threading.Event()
        peak = [self.proc.memory_info().rss]

        def sample() -> None:
            while not stop.wait(0.02):
                peak[0] = max(peak[0], self.proc.memory_info().rss)

        t = threading.Thread(target=sample, daemon=True)
        t.start()
        start = time.perf_counter()
        try:
            yield
        finally:
            into["seconds"] = round(time.perf_counter() - start, 2)
            stop.set()
            t.join()
            into["peak_rss_mb"] = round(peak[0] / 2**20, 1)


def annotation(rows: list[tuple[float, float, str]]) -> Any:
    from pyannote.core import Annotation, Segment

    ann = Annotation()
    for s, e, who in rows:
        ann[Segment(s, e)] = who
    return ann


def der(truth: list[tuple[float, float, str]], hyp: list[tuple[float, float, str]]) -> float:
    from pyannote.metrics.diarization import DiarizationErrorRate

    return float(DiarizationErrorRate(collar=0.25)(annotation(truth), annotation(hyp)))


def mfcc_kmeans(audio_path: Path, regions: list[tuple[float, float]], k: int) -> list[tuple[float, float, str]]:
    """The peer: one MFCC mean vector per VAD region, k-means with the true k."""
    import librosa
    from sklearn.cluster import KMeans

    from twin.media.audio import AudioFile

    audio = AudioFile(audio_path)
    feats, spans = [], []
    for s, e in regions:
        x = audio.read(s, e)
        if len(x) < 0.2 * audio.sample_rate:
            continue
        m = librosa.feature.mfcc(y=x, sr=audio.sample_rate, n_mfcc=20)
        feats.append(np.concatenate([m.mean(axis=1), m.std(axis=1)]))
        spans.append((s, e))
    x = np.stack(feats)
    x = (x - x.mean(axis=0)) / (x.std(axis=0) + 1e-9)
    labels = KMeans(n_clusters=k, n_init=10, random_state=0).fit_predict(x)
    return [(s, e, f"K{lab}") for (s, e), lab in zip(spans, labels, strict=True)]


def clip_scores(scene: sc.Scene, clips: list[dict[str, Any]], who: str) -> dict[str, float]:
    """purity: the character's solo speech / all speech inside the clips (another voice or an overlap is
    the impurity; pauses are neither); recall: share of the character's solo speech inside kept clips;
    solo_share: solo speech / clip time (pauses count against it)."""
    solo = scene.solo_regions(who)
    others = [(ln.start, ln.end) for ln in scene.lines if ln.speaker != who]
    own = other = total = 0.0
    for c in clips:
        total += c["end"] - c["start"]
        own += sum(max(0.0, min(c["end"], e) - max(c["start"], s)) for s, e in solo)
        other += sum(max(0.0, min(c["end"], e) - max(c["start"], s)) for s, e in others)
    solo_s = sum(e - s for s, e in solo)
    return {
        "purity": own / (own + other) if own + other else 0.0,
        "recall": own / solo_s if solo_s else 0.0,
        "solo_share": own / total if total else 0.0,
        "seconds": total,
    }


def timed(stats: dict[str, dict[str, Any]], name: str, fn: Callable[[], Any], peak: Peak) -> Any:
    stats[name] = {}
    with peak.measure(stats[name]):
        return fn()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--asr", action="store_true", help="also time speech recognition (faster-whisper)")
    ap.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "media.json")
    args = ap.parse_args()

    from twin.media import characters, stages
    from twin.media.export import export_clips
    from twin.media.segments import load_segments, read_rttm
    from twin.profiles import Profile

    work = Path(tempfile.mkdtemp(prefix="twin-bench-media-"))
    os.environ["TWIN_HOME"] = str(work / "home")
    t0 = time.perf_counter()
    voices = sc.Voices(work)
    lines = dialogue(int(args.minutes * 60 / 3.6))
    scene = sc.build_scene(voices, lines, overlap_every=6)
    wav = sc.write_wav(scene, work / "scene.wav")
    srt = work / "drift.srt"
    sc.write_srt(scene, srt, drift=25 / 23.976, offset=2.5)
    film = sc.mux_video(wav, work / "film.mkv")
    truth = [(ln.start, ln.end, ln.speaker) for ln in scene.lines]
    sc.write_rttm(scene, work / "truth.rttm")
    print(
        f"film: {scene.duration_s / 60:.1f} min, {len(lines)} lines, built in {time.perf_counter() - t0:.0f} s",
        file=sys.stderr,
    )

    (work / "p").mkdir()
    (work / "p" / "profile.json").write_text('{"name": "bench", "created": "2026-01-01T00:00:00+00:00"}')
    profile = Profile("bench", work / "p")
    peak = Peak()
    stats: dict[str, dict[str, Any]] = {}
    project, _ = timed(stats, "transcribe", lambda: stages.transcribe(profile, film, srt, asr=False), peak)
    if args.asr:
        from twin.media.speech import recognize
        from twin.providers import registry

        timed(stats, "asr", lambda: recognize(project, registry.create("stt", "faster_whisper"), "en"), peak)
    fit = timed(stats, "align", lambda: stages.align(project), peak)
    timed(stats, "segment", lambda: stages.segment(project), peak)
    for who in scene.speakers():  # name each cluster by one of the character's lines (as --sample-at does)
        ln = max((x for x in scene.lines if x.speaker == who), key=lambda x: x.end - x.start)
        try:
            characters.name_by_sample(project, who, (ln.start + ln.end) / 2)
        except Exception as exc:  # noqa: BLE001 - a failed naming is part of the result
            print(f"naming {who}: {exc}", file=sys.stderr)
    enc = stages.open_speaker("resemblyzer")
    per_char: dict[str, Any] = {}
    stats["export"] = {}
    with peak.measure(stats["export"]):
        for who in scene.speakers():
            try:
                clips, _ = export_clips(project, who, enc)
            except Exception as exc:  # noqa: BLE001
                per_char[who] = {"error": str(exc)}
                continue
            kept = [c.to_dict() for c in clips if c.kept]
            score = clip_scores(scene, kept, who)
            per_char[who] = {"clips": len(kept), **{k: round(v, 4) for k, v in score.items()}}
    duration = scene.duration_s
    for v in stats.values():
        v["rtf"] = round(v["seconds"] / duration, 4)
    hyp = read_rttm(project.path("diarization.rttm"))
    speech = [(float(s), float(e)) for s, e in project.read_json("speech.json")["regions"]]
    peer_start = time.perf_counter()
    peer = mfcc_kmeans(project.audio, speech, len(scene.speakers()))
    peer_s = time.perf_counter() - peer_start
    ours_der, peer_der = der(truth, hyp), der(truth, peer)
    cues = stages.load_cues(project)
    err = np.array([abs(c.start - ln.start) for c, ln in zip(cues, scene.lines, strict=True)])
    segs = load_segments(project)
    pipeline_rtf = sum(v["rtf"] for k, v in stats.items() if k != "asr")
    result = {
        "audio_s": duration,
        "speakers_true": len(scene.speakers()),
        "speakers_found": int(project.load().stage("segment").report["speakers"]),
        "der": {
            "twin": round(ours_der, 4),
            "mfcc_kmeans_true_k": round(peer_der, 4),
            "ratio": round(ours_der / peer_der, 3) if peer_der else None,
        },
        "peer_seconds": round(peer_s, 2),
        "alignment": {
            "fit": fit,
            "median_error_s": round(float(np.median(err)), 3),
            "p90_error_s": round(float(np.percentile(err, 90)), 3),
        },
        "characters": per_char,
        "overlap_segments": sum(s.overlap for s in segs),
        "stages": stats,
        "pipeline_rtf_without_asr": round(pipeline_rtf, 4),
        "cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
    }
    print_table(result)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {args.json}")


def print_table(r: dict[str, Any]) -> None:
    d = r["der"]
    head = f"\nDiarization on {r['audio_s'] / 60:.1f} min, {r['speakers_true']} speakers"
    print(f"{head} (found {r['speakers_found']}); DER collar 0.25 s")
    print(f"{'system':<34}{'DER':>8}")
    print(f"{'twin (resemblyzer + auto k)':<34}{d['twin']:>8.3f}")
    print(f"{'peer: MFCC k-means, true k':<34}{d['mfcc_kmeans_true_k']:>8.3f}")
    print(f"{'ratio twin / peer':<34}{d['ratio']:>8.3f}")
    a = r["alignment"]
    print(
        f"\nAlignment: drift {a['fit']['drift']:.5f} (true 1.04271), "
        f"offset {a['fit']['offset_s']:+.2f} s (true +2.50); "
        f"cue start error median {a['median_error_s']:.3f} s, p90 {a['p90_error_s']:.3f} s"
    )
    print(f"\n{'character':<10}{'clips':>7}{'seconds':>9}{'purity':>9}{'recall':>9}{'solo/clip':>11}")
    for who, c in r["characters"].items():
        if "error" in c:
            print(f"{who:<10}  {c['error'][:70]}")
        else:
            row = f"{who:<10}{c['clips']:>7}{c['seconds']:>9.1f}{c['purity']:>9.4f}{c['recall']:>9.3f}"
            print(f"{row}{c['solo_share']:>11.3f}")
    print(f"\n{'stage':<12}{'seconds':>9}{'RTF':>8}{'peak RSS MB':>13}")
    for name, s in r["stages"].items():
        print(f"{name:<12}{s['seconds']:>9.1f}{s['rtf']:>8.3f}{s['peak_rss_mb']:>13.0f}")
    print(f"{'total (no ASR)':<12}{'':>9}{r['pipeline_rtf_without_asr']:>8.3f}")


if __name__ == "__main__":
    main()
