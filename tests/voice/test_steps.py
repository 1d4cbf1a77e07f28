"""Each preparation step checked numerically on audio made here."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.voice.conftest import SR, breath, tone

from twin.voice.config import (
    BreathConfig,
    ClippingConfig,
    LoudnessConfig,
    PrepareConfig,
    SegmentConfig,
    SilenceConfig,
)
from twin.voice.prepare import steps
from twin.voice.prepare.segment import _eff_len, plan_utterances


def _rms_db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(x.astype(np.float64) ** 2) + 1e-12))


@pytest.mark.parametrize("level", [0.02, 0.1, 0.5])
@pytest.mark.parametrize("target", [-23.0, -18.0])
def test_loudness_reaches_target_within_1_lu(say, level: float, target: float) -> None:
    speech = say("Loudness normalization brings every recording to the same level.")
    x = speech / np.max(np.abs(speech)) * level
    y, gain = steps.normalize_loudness(x, SR, LoudnessConfig(target_lufs=target, peak_dbfs=-0.5))
    assert abs(steps.measure_loudness(y, SR) - target) <= 1.0
    assert np.max(np.abs(y)) <= 10 ** (-0.5 / 20) + 1e-4
    assert gain == pytest.approx(20 * np.log10(np.max(np.abs(y)) / np.max(np.abs(x))), abs=0.01)


def test_peak_limit_wins_over_loudness_target() -> None:
    x = np.zeros(SR * 2, dtype=np.float32)
    x[::2000] = 0.9  # very peaky: reaching -10 LUFS would clip
    y, _ = steps.normalize_loudness(x, SR, LoudnessConfig(target_lufs=-10.0, peak_dbfs=-1.0))
    assert np.max(np.abs(y)) == pytest.approx(10 ** (-1 / 20), rel=1e-3)


def test_mono_and_resample_to_22050() -> None:
    stereo = np.stack([tone(1.0, sr=48000), tone(1.0, sr=48000) * 0.5], axis=1)
    mono = steps.to_mono(stereo)
    assert mono.ndim == 1 and np.allclose(mono, stereo.mean(axis=1))
    out = steps.resample_to(mono, 48000, 22050)
    assert len(out) == 22050 and out.dtype == np.float32
    spec = np.abs(np.fft.rfft(out))
    assert np.argmax(spec) == pytest.approx(220, abs=2)  # the 220 Hz tone survives


def test_pauses_shortened_and_edges_trimmed() -> None:
    cfg = SilenceConfig(max_pause_s=0.5, edge_s=0.15)
    parts = [
        np.zeros(SR * 2),
        tone(1.0),
        np.zeros(SR * 3),
        tone(1.0),
        np.zeros(int(SR * 0.3)),
        tone(1.0),
        np.zeros(SR * 2),
    ]
    x = np.concatenate(parts).astype(np.float32)
    speech = [(2.0, 3.0), (6.0, 7.0), (7.3, 8.3)]
    y = steps.shorten_pauses(x, SR, speech, cfg)
    # 0.15 edge + 1 s + 0.5 s (was 3 s) + 1 s + 0.3 s (kept, short) + 1 s + 0.15 edge
    assert len(y) / SR == pytest.approx(4.1, abs=0.02)
    quiet = np.abs(y) < 1e-3
    runs, n = [], 0
    for q in quiet:
        n = n + 1 if q else (runs.append(n) or 0)
    runs.append(n)
    assert max(runs) / SR <= 0.5 + 0.02
    assert _rms_db(y) > _rms_db(x) + 3  # less silence, same speech


def test_breaths_detected_and_attenuated(say) -> None:
    speech = say("Breathing between phrases should be quiet.")
    b = breath(0.4, level=0.05)
    gap = np.zeros(int(0.4 * SR), dtype=np.float32)
    x = np.concatenate([speech, gap, b, gap, speech]).astype(np.float32)
    x += np.random.default_rng(0).standard_normal(len(x)).astype(np.float32) * 2e-4
    s1 = len(speech) / SR
    b0 = s1 + 0.4
    regions = [(0.0, s1), (b0 + 0.8, b0 + 0.8 + s1)]
    levels = steps.frame_db(x, SR)
    floor = steps.noise_floor_db(levels, steps.region_mask(regions, len(levels)))
    found = steps.detect_breaths(x, SR, regions, floor, BreathConfig(), speech_db=-10.0)
    assert len(found) == 1
    assert found[0][0] == pytest.approx(b0, abs=0.1) and found[0][1] == pytest.approx(b0 + 0.4, abs=0.1)
    y = steps.apply_gain_regions(x, SR, found, BreathConfig().attenuation_db)
    seg = slice(int((b0 + 0.1) * SR), int((b0 + 0.3) * SR))
    assert _rms_db(y[seg]) <= _rms_db(x[seg]) - 20
    assert np.array_equal(y[: int(s1 * SR)], x[: int(s1 * SR)])  # speech untouched


def test_tones_are_not_breaths() -> None:
    x = np.concatenate([np.zeros(SR), tone(0.4, level=0.05), np.zeros(SR)]).astype(np.float32)
    x += np.random.default_rng(0).standard_normal(len(x)).astype(np.float32) * 1e-4
    assert steps.spectral_flatness(tone(0.4), SR) < 0.01
    assert steps.spectral_flatness(breath(0.4), SR) > 0.1
    assert steps.detect_breaths(x, SR, [], -80.0, BreathConfig(), speech_db=0.0) == []


def test_clipping_detection() -> None:
    x = tone(1.0, level=1.5)
    x = np.clip(x, -1.0, 1.0)
    pos = steps.clipped_positions(x, ClippingConfig())
    ratio = steps.clipped_ratio(pos, 0, len(x))
    assert 0.2 < ratio < 0.6
    assert steps.clipped_ratio(steps.clipped_positions(tone(1.0, level=0.5), ClippingConfig()), 0, SR) == 0.0


regions_strategy = st.lists(st.tuples(st.floats(0.05, 4.0), st.floats(0.2, 25.0)), min_size=1, max_size=40)


@settings(max_examples=150, deadline=None)
@given(regions_strategy)
def test_segments_always_within_bounds(spec: list[tuple[float, float]]) -> None:
    seg, sil = SegmentConfig(), SilenceConfig()
    regions, t = [], 0.5
    for gap, length in spec:
        t += gap
        regions.append((t, t + length))
        t += length
    levels = np.random.default_rng(0).uniform(-60, -20, int(t / steps.FRAME_S) + 10).astype(np.float32)
    groups = plan_utterances(regions, levels, steps.FRAME_S, seg, sil)
    for g in groups:
        assert seg.min_s - 1e-6 <= _eff_len(g, sil.max_pause_s, sil.edge_s) <= seg.max_s + 1e-6
        assert all(a[1] <= b[0] + 1e-9 for a, b in zip(g, g[1:], strict=False))
    total_speech = sum(e - s for s, e in regions)
    kept = sum(e - s for g in groups for s, e in g)
    if total_speech >= 30:
        assert kept >= 0.6 * total_speech  # short leftovers only are dropped


def test_segmentation_cuts_at_pauses() -> None:
    cfg = PrepareConfig()
    # twelve 1.5 s phrases with 0.4 s pauses: ~22.6 s of speech must split into 2-15 s utterances at pauses
    regions = [(i * 1.9, i * 1.9 + 1.5) for i in range(12)]
    groups = plan_utterances(regions, np.zeros(2000, dtype=np.float32), steps.FRAME_S, cfg.segment, cfg.silence)
    assert len(groups) >= 2
    flat = [r for g in groups for r in g]
    assert flat == regions  # nothing cut mid-phrase, nothing lost
