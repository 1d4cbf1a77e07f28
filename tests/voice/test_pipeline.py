"""The whole preparation pipeline on made-up recordings: clip bounds, rate, loudness, pauses, breaths,
transcripts and quality scores."""

from __future__ import annotations

import numpy as np
import pytest
from tests.voice.conftest import SENTENCES, SR, build_recording

from twin.voice.prepare import Engines, prepare_audio, steps


def _longest_quiet_run(x: np.ndarray, sr: int, thresh_db: float = -50) -> float:
    levels = steps.frame_db(x, sr)
    best = run = 0
    for q in levels < thresh_db:
        run = run + 1 if q else 0
        best = max(best, run)
    return best * steps.FRAME_S


def test_prepare_recording_end_to_end(say, fast_config) -> None:
    cfg = fast_config.prepare
    rec = build_recording(say, SENTENCES, pause_s=2.5, gain=0.3)
    audio_44k = np.repeat(rec.audio, 2)  # pretend it was recorded at 44.1 kHz
    out = prepare_audio(audio_44k, 44100, cfg, Engines(cfg))
    assert out.sample_rate == 22050
    assert len(out.clips) >= 2
    spoken = sum(e - s for s, e in rec.speech)
    assert sum(c.metrics.duration_s for c in out.clips) < rec.audio.size / SR  # silences removed
    assert sum(c.metrics.duration_s for c in out.clips) > 0.8 * spoken  # speech kept
    for c in out.clips:
        assert 2.0 <= len(c.audio) / SR <= 15.0
        assert abs(steps.measure_loudness(c.audio, SR) - cfg.loudness.target_lufs) <= 1.0
        # 1.9-2.5 s pauses are gone; what is left is max_pause plus VAD padding and the VAD's release
        # lag (the exact cut is checked in test_steps)
        assert _longest_quiet_run(c.audio, SR) <= cfg.silence.max_pause_s + 0.3
        assert c.quality is not None and c.quality.score >= 0.6 and not c.quality.excluded
        assert c.metrics.snr_db > 25
    # the breaths before each phrase were found where they were put
    assert len(out.breaths) >= len(rec.breaths) - 1
    for bs, be in rec.breaths:
        assert any(abs(s - bs) < 0.15 and abs(e - be) < 0.15 for s, e in out.breaths)
    words = " ".join((c.metrics.transcript or "").lower() for c in out.clips)
    assert sum(w in words for w in ("fox", "shells", "stella", "rainbow", "beach", "bicycle")) >= 4


def test_noisy_and_clipped_recordings_are_scored_down(say, fast_config) -> None:
    cfg = fast_config.prepare
    clean = build_recording(say, SENTENCES[:3], pause_s=1.0, with_breaths=False, noise=0.0)
    rng = np.random.default_rng(3)
    noisy = clean.audio + rng.standard_normal(len(clean.audio)).astype(np.float32) * 0.08
    out = prepare_audio(noisy, SR, cfg, Engines(cfg), transcribe=False)
    for c in out.clips:
        assert c.metrics.snr_db < 20
        assert any("noisy" in r for r in c.quality.reasons)
    clipped = np.clip(clean.audio * 6, -1, 1)
    out = prepare_audio(clipped, SR, cfg, Engines(cfg), transcribe=False)
    assert out.clips
    for c in out.clips:
        assert c.metrics.clipped_ratio > cfg.clipping.max_ratio
        assert any("clipped" in r for r in c.quality.reasons)
        assert c.quality.excluded and c.quality.score < 0.6


def test_noise_only_recording_yields_no_usable_clips(fast_config) -> None:
    cfg = fast_config.prepare
    noise = np.random.default_rng(1).standard_normal(SR * 20).astype(np.float32) * 0.05
    out = prepare_audio(noise, SR, cfg, Engines(cfg), transcribe=False)
    assert out.duration_s == pytest.approx(20.0)
    assert out.speech == []  # the VAD hears no speech in noise, even after loudness normalization lifted it
    assert out.clips == [] and out.breaths == []  # so nothing is cut, kept or attenuated


def test_low_rate_source_warns(say, fast_config) -> None:
    from twin.audio.resample import resample

    cfg = fast_config.prepare
    x = resample(say(SENTENCES[0]), SR, 8000)
    out = prepare_audio(x, 8000, cfg, Engines(cfg), transcribe=False)
    assert any("8000 Hz" in w for w in out.warnings)


@pytest.mark.parametrize("enabled", [True])
def test_denoise_step_runs_and_reduces_noise(say, fast_config, enabled: bool) -> None:
    cfg = fast_config.prepare
    cfg.denoise.enabled = enabled
    rec = build_recording(say, SENTENCES[:2], pause_s=1.5, with_breaths=False, noise=0.01)
    out = prepare_audio(rec.audio, SR, cfg, Engines(cfg), transcribe=False)
    assert "denoise" in out.timings and out.clips
    assert min(c.metrics.snr_db for c in out.clips) > 25
