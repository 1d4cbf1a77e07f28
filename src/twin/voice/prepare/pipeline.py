"""Preparation pipeline: decode → mono → resample → clipping scan → loudness → (denoise) → VAD → breath
attenuation → segmentation → pause shortening and per-clip loudness → transcript → quality score.

`prepare_audio` works on samples (used by the library, the benchmark and voice profiles);
`prepare_library` runs it over a profile's imported recordings, one recording at a time, recording a
per-file error and going on when one fails."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from twin.audio.decode import load_audio
from twin.audio.encode import save_wav
from twin.errors import TwinError
from twin.ids import new_id
from twin.profiles import Profile
from twin.providers import registry
from twin.providers.vad import VADOptions, regions_from_probs
from twin.store.db import connect
from twin.voice import library
from twin.voice.config import PrepareConfig, VoiceConfig, load_voice_config
from twin.voice.prepare import steps
from twin.voice.prepare.segment import plan_utterances
from twin.voice.quality import ClipMetrics, QualityResult, score_clip

Region = tuple[float, float]


class Engines:
    """Backends for the steps, created lazily from the registry by the names in the config."""

    def __init__(self, cfg: PrepareConfig) -> None:
        self.cfg = cfg
        self._cache: dict[str, Any] = {}

    def get(self, capability: str, name: str, **kwargs: Any) -> Any:
        key = f"{capability}:{name}"
        if key not in self._cache:
            self._cache[key] = registry.create(capability, name, **kwargs)
        return self._cache[key]

    def vad(self) -> Any:
        return self.get("vad", self.cfg.vad.backend)

    def stt(self) -> Any:
        return self.get("stt", self.cfg.stt.backend, model=self.cfg.stt.model)

    def denoiser(self) -> Any:
        return self.get("denoise", self.cfg.denoise.backend)


@dataclass
class PreparedClip:
    audio: np.ndarray
    start_s: float
    end_s: float
    metrics: ClipMetrics
    quality: QualityResult | None = None


@dataclass
class PrepareOutput:
    sample_rate: int
    duration_s: float
    clips: list[PreparedClip] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    breaths: list[Region] = field(default_factory=list)
    speech: list[Region] = field(default_factory=list)


@contextmanager
def _timed(timings: dict[str, float], step: str) -> Iterator[None]:
    t0 = time.perf_counter()
    try:
        yield
    finally:
        timings[step] = timings.get(step, 0.0) + time.perf_counter() - t0


def _speech_db(levels: np.ndarray, regions: list[Region]) -> float:
    mask = steps.region_mask(regions, len(levels))
    sel = levels[mask]
    return float(10 * np.log10(np.mean(10 ** (sel / 10.0)) + 1e-12)) if len(sel) else -120.0


def _cut(x: np.ndarray, sr: int, group: list[Region], cfg: PrepareConfig) -> tuple[np.ndarray, float]:
    """The utterance's audio with pauses shortened, and its start in the recording."""
    start = max(0.0, group[0][0] - cfg.silence.edge_s)
    end = min(len(x) / sr, group[-1][1] + cfg.silence.edge_s)
    rel = [(s - start, e - start) for s, e in group]
    return steps.shorten_pauses(x[int(start * sr) : int(end * sr)], sr, rel, cfg.silence), start


def _make_clips(
    x: np.ndarray,
    sr: int,
    groups: list[list[Region]],
    levels: np.ndarray,
    floor: float,
    clipped: np.ndarray,
    cfg: PrepareConfig,
) -> list[PreparedClip]:
    """Cut each planned utterance, shorten its pauses, normalize it and measure it."""
    clips = []
    for g in groups:
        clip, start = _cut(x, sr, g, cfg)
        clip, _ = steps.normalize_loudness(clip, sr, cfg.loudness)
        speech_s = sum(e - s for s, e in g)
        m = ClipMetrics(
            duration_s=round(len(clip) / sr, 3),
            snr_db=round(_speech_db(levels, g) - floor, 1),
            clipped_ratio=steps.clipped_ratio(clipped, int(g[0][0] * sr), int(g[-1][1] * sr)),
            speech_ratio=round(min(1.0, speech_s / max(len(clip) / sr, 1e-6)), 3),
        )
        end = min(len(x) / sr, g[-1][1] + cfg.silence.edge_s)
        clips.append(PreparedClip(clip, start, end, m))
    return clips


def prepare_audio(
    audio: np.ndarray, sr: int, cfg: PrepareConfig, engines: Engines, transcribe: bool | None = None
) -> PrepareOutput:
    """Run every step on one recording's samples ((n,) or (n, channels) float32 at `sr`)."""
    out = PrepareOutput(sample_rate=cfg.sample_rate, duration_s=len(audio) / sr)
    t = out.timings
    with _timed(t, "mono"):
        x = steps.to_mono(audio)
    if sr < cfg.min_source_rate:
        out.warnings.append(f"source is {sr} Hz, below {cfg.min_source_rate} Hz: upsampling cannot restore detail")
    with _timed(t, "clipping"):
        clipped = (steps.clipped_positions(x, cfg.clipping) * (cfg.sample_rate / sr)).astype(np.int64)
    with _timed(t, "resample"):
        x = steps.resample_to(x, sr, cfg.sample_rate)
    sr = cfg.sample_rate
    with _timed(t, "loudness"):
        x, _gain = steps.normalize_loudness(x, sr, cfg.loudness)
    if cfg.denoise.enabled:
        with _timed(t, "denoise"):
            x = engines.denoiser().denoise(x, sr)
    with _timed(t, "vad"):
        probs, hop = engines.vad().speech_probs(x, sr)
        v = cfg.vad
        opts = VADOptions(
            threshold=v.threshold, min_speech_s=v.min_speech_s, min_silence_s=v.min_silence_s, pad_s=v.pad_s
        )
        out.speech = regions_from_probs(probs, hop, opts, len(x) / sr)
        levels = steps.frame_db(x, sr)
        floor = steps.noise_floor_db(levels, steps.region_mask(out.speech, len(levels)))
    with _timed(t, "breath"):
        speech_db = _speech_db(levels, out.speech)
        out.breaths = steps.detect_breaths(x, sr, out.speech, floor, cfg.breath, speech_db)
        x = steps.apply_gain_regions(x, sr, out.breaths, cfg.breath.attenuation_db)
    with _timed(t, "segment"):
        groups = plan_utterances(out.speech, levels, steps.FRAME_S, cfg.segment, cfg.silence)
        out.clips = _make_clips(x, sr, groups, levels, floor, clipped, cfg)
    if transcribe if transcribe is not None else cfg.stt.enabled:
        with _timed(t, "transcribe"):
            _transcribe(out.clips, sr, cfg, engines)
    with _timed(t, "quality"):
        for c in out.clips:
            c.metrics.loudness_lufs = round(steps.measure_loudness(c.audio, sr), 2)
            c.quality = score_clip(c.metrics, cfg.quality, cfg.segment, cfg.clipping)
    return out


def _transcribe(clips: list[PreparedClip], sr: int, cfg: PrepareConfig, engines: Engines) -> None:
    from twin.providers.stt import STTOptions

    stt = engines.stt()
    opts = STTOptions(language=cfg.stt.language)
    for c in clips:
        tr = stt.transcribe(c.audio, sr, opts)
        c.metrics.transcript = tr.text
        c.metrics.transcript_confidence = tr.confidence


def _clip_row(profile: Profile, emotion: str, c: PreparedClip, sr: int) -> dict[str, Any]:
    cid = new_id()
    rel = library.clip_relpath(emotion, cid)
    save_wav(profile.voice_dir / rel, c.audio, sr)
    q = c.quality
    assert q is not None
    metrics = {k: v for k, v in vars(c.metrics).items() if k not in ("transcript",)}
    metrics["components"] = q.components
    return {
        "id": cid,
        "emotion": emotion,
        "path": rel,
        "start_s": round(c.start_s, 3),
        "end_s": round(c.end_s, 3),
        "duration_s": c.metrics.duration_s,
        "transcript": c.metrics.transcript,
        "confidence": c.metrics.transcript_confidence,
        "quality": q.score,
        "reasons": q.reasons,
        "metrics": metrics,
        "excluded": q.excluded,
    }


def prepare_library(
    profile: Profile,
    force: bool = False,
    config: VoiceConfig | None = None,
    transcribe: bool | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> list[dict[str, Any]]:
    """Prepare every imported recording not yet prepared (all of them with force=True)."""
    config = config or load_voice_config(profile)
    engines = Engines(config.prepare)
    sources = library.list_sources(profile, pending_only=not force)
    conn = connect(profile)
    report: list[dict[str, Any]] = []
    try:
        for i, src in enumerate(sources):
            if progress:
                progress(src.original_name, i, len(sources))
            report.append(_prepare_source(conn, profile, src, config, engines, transcribe))
    finally:
        conn.close()
    return report


def _prepare_source(
    conn: Any, profile: Profile, src: library.Source, config: VoiceConfig, engines: Engines, transcribe: bool | None
) -> dict[str, Any]:
    entry: dict[str, Any] = {"source_id": src.id, "name": src.original_name, "emotion": src.emotion}
    written: list[str] = []
    try:
        path = library.source_path(profile, src)
        audio, sr = load_audio(path, mono=False, limits=config.limits, name=src.original_name)
        out = prepare_audio(audio, sr, config.prepare, engines, transcribe)
        rows = []
        for c in out.clips:
            rows.append(_clip_row(profile, src.emotion, c, out.sample_rate))
            written.append(rows[-1]["path"])
        library.replace_clips(conn, profile, src.id, rows)
        entry.update(
            status="ok",
            clips=len(rows),
            included=sum(not r["excluded"] for r in rows),
            clean_s=round(sum(r["duration_s"] for r in rows if not r["excluded"]), 1),
            breaths=len(out.breaths),
            warnings=out.warnings,
            timings={k: round(v, 3) for k, v in out.timings.items()},
        )
    except TwinError as exc:
        for rel in written:
            (profile.voice_dir / rel).unlink(missing_ok=True)
        library.mark_failed(conn, src.id, exc.to_dict())
        entry.update(status="error", error=exc.to_dict())
    return entry
