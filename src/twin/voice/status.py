"""Library status: clean minutes per emotion against the targets, readiness, weakest clips, and plots
(a waveform + spectrogram PNG per clip, cached by clip id, and one summary chart)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from twin.audio.decode import load_audio
from twin.errors import MissingDependency
from twin.profiles import Profile
from twin.voice import library
from twin.voice.config import VoiceConfig, load_voice_config


def plots_dir(profile: Profile) -> Path:
    return profile.voice_dir / "plots"


def readiness(total_min: float, per_emotion: dict[str, float], config: VoiceConfig) -> str:
    """empty → reference-only (< 1 min) → partial → ready (target total met and ≥ 6 emotions at target)."""
    if total_min <= 0:
        return "empty"
    if total_min < 1:
        return "reference-only"
    at_target = sum(m >= config.target_minutes_per_emotion for m in per_emotion.values())
    if total_min >= config.target_minutes and at_target >= min(6, len(config.emotions)):
        return "ready"
    return "partial"


def library_status(profile: Profile, config: VoiceConfig | None = None, weakest: int = 10) -> dict[str, Any]:
    config = config or load_voice_config(profile)
    clips = library.list_clips(profile)
    sources = library.list_sources(profile)
    emotions: dict[str, dict[str, Any]] = {}
    for e in sorted({c.emotion for c in clips} | {s.emotion for s in sources}):
        mine = [c for c in clips if c.emotion == e]
        good = [c for c in mine if not c.excluded]
        clean_min = sum(c.duration_s for c in good) / 60
        emotions[e] = {
            "clean_minutes": round(clean_min, 2),
            "target_minutes": config.target_minutes_per_emotion,
            "progress": round(min(1.0, clean_min / config.target_minutes_per_emotion), 3),
            "clips": len(mine),
            "excluded": len(mine) - len(good),
            "raw_minutes": round(sum(s.duration_s for s in sources if s.emotion == e) / 60, 2),
            "mean_quality": round(float(np.mean([c.quality for c in good])), 3) if good else None,
        }
    total = sum(v["clean_minutes"] for v in emotions.values())
    weak = sorted(clips, key=lambda c: c.quality)[:weakest]
    return {
        "profile": profile.name,
        "clean_minutes": round(total, 2),
        "target_minutes": config.target_minutes,
        "progress": round(min(1.0, total / config.target_minutes), 3),
        "readiness": readiness(total, {k: v["clean_minutes"] for k, v in emotions.items()}, config),
        "emotions": emotions,
        "missing_emotions": [e for e in config.emotions if e not in emotions],
        "sources": {
            "total": len(sources),
            "pending": sum(s.prepared_at is None for s in sources),
            "failed": [{"name": s.original_name, "error": s.prepare_error} for s in sources if s.prepare_error],
        },
        "weakest": [
            {
                "id": c.id,
                "emotion": c.emotion,
                "quality": c.quality,
                "duration_s": c.duration_s,
                "reasons": c.reasons,
                "path": str(c.abspath(profile)),
            }
            for c in weak
        ],
    }


def _pyplot():  # noqa: ANN202 - module object
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise MissingDependency.for_extra("Plots", "voice", "matplotlib") from None
    return plt


def plot_clip(audio: np.ndarray, sr: int, out: Path, title: str) -> Path:
    """Waveform above a log-magnitude spectrogram."""
    plt = _pyplot()
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(8, 4), sharex=True)
    t = np.arange(len(audio)) / sr
    step = max(1, len(audio) // 4000)
    ax1.plot(t[::step], audio[::step], linewidth=0.5)
    ax1.set_ylim(-1, 1)
    ax1.set_title(title, fontsize=9)
    with np.errstate(divide="ignore"):
        ax2.specgram(audio + 1e-7, NFFT=512, Fs=sr, noverlap=256, cmap="magma")
    ax2.set_xlabel("seconds")
    ax2.set_ylabel("Hz")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=80)
    plt.close(fig)
    return out


def plot_summary(status: dict[str, Any], out: Path) -> Path:
    """Clean minutes per emotion against the per-emotion target, and the quality histogram."""
    plt = _pyplot()
    emos = list(status["emotions"])
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    mins = [status["emotions"][e]["clean_minutes"] for e in emos]
    ax1.bar(emos, mins, color="tab:blue")
    if emos:
        ax1.axhline(status["emotions"][emos[0]]["target_minutes"], color="tab:red", linestyle="--", label="target")
        ax1.legend()
    ax1.set_ylabel("clean minutes")
    ax1.set_title(f"{status['clean_minutes']:.1f} of {status['target_minutes']:.0f} min — {status['readiness']}")
    ax1.tick_params(axis="x", rotation=45)
    ax2.hist(status.get("_qualities", []), bins=20, range=(0, 1), color="tab:green")
    ax2.set_xlabel("clip quality")
    ax2.set_ylabel("clips")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=80)
    plt.close(fig)
    return out


def write_plots(profile: Profile, status: dict[str, Any], config: VoiceConfig | None = None) -> dict[str, Any]:
    """A PNG per clip (only those not drawn yet) and the summary; returns where they are."""
    config = config or load_voice_config(profile)
    clips = library.list_clips(profile)
    base = plots_dir(profile)
    drawn = 0
    for c in clips:
        png = base / "clips" / f"{c.id}.png"
        if png.is_file():
            continue
        audio, sr = load_audio(c.abspath(profile), limits=config.limits, name=f"library clip {c.id}")
        plot_clip(audio, sr, png, f"{c.emotion} · q={c.quality:.2f} · {c.duration_s:.1f}s · {c.id[:8]}")
        drawn += 1
    known = {f"{c.id}.png" for c in clips}
    for stale in (base / "clips").glob("*.png") if (base / "clips").is_dir() else []:
        if stale.name not in known:
            stale.unlink()
    summary = plot_summary({**status, "_qualities": [c.quality for c in clips]}, base / "summary.png")
    return {"summary": str(summary), "clips_dir": str(base / "clips"), "new_clip_plots": drawn}
