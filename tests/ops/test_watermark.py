"""The watermark: inaudible (perfect reconstruction without it, ~21 dB SNR with it), streaming equals
one-shot, and twin's own speech is detected after MP3 and resampling while unmarked speech is not."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from twin.cli.main import app
from twin.voice import watermark as wm

runner = CliRunner()
SENTENCES = [
    "Thanks for flagging this, I will take a look tomorrow morning before the call.",
    "The meeting moved to Thursday, so we have a bit more time to finish the report.",
    "Honestly, I think the second option is better, but let's ask the team first.",
]


@pytest.fixture(scope="module")
def speech() -> list[np.ndarray]:
    """Real speech from the embedded Piper voice, without any mark (straight from the engine)."""
    pytest.importorskip("piper")
    from twin.backends.tts_piper import PiperTTS

    tts = PiperTTS()
    return [np.concatenate([c.samples for c in tts.synthesize_sync(s)]) for s in SENTENCES]


def _mp3(x: np.ndarray, kbps: int) -> tuple[np.ndarray, int]:
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


def _resampled(x: np.ndarray, rate: int) -> np.ndarray:
    import soxr

    return soxr.resample(x, wm.RATE, rate).astype(np.float32)


def test_without_strength_the_filter_bank_is_transparent() -> None:
    x = np.random.default_rng(0).standard_normal(50_000).astype(np.float32) * 0.1
    y = wm.embed(x, strength=0.0)
    assert len(y) == len(x)
    assert np.max(np.abs(y - x)) < 1e-5


def test_streaming_equals_one_shot_for_any_chunking() -> None:
    x = np.random.default_rng(1).standard_normal(40_000).astype(np.float32) * 0.1
    whole = wm.embed(x)
    rng = np.random.default_rng(2)
    marker, parts, i = wm.Watermarker(), [], 0
    while i < len(x):
        n = int(rng.integers(1, 3000))
        parts.append(marker.feed(x[i : i + n]))
        i += n
    parts.append(marker.flush())
    streamed = np.concatenate(parts)
    assert len(streamed) == len(x)
    assert np.max(np.abs(streamed - whole)) < 1e-6


def test_mark_costs_about_21_db_snr(speech: list[np.ndarray]) -> None:
    for x in speech:
        y = wm.embed(x)
        snr = 10 * np.log10(np.sum(x**2) / np.sum((x - y) ** 2))
        assert 18.0 < snr < 26.0, snr


def test_detected_after_mp3_resampling_and_trimming(speech: list[np.ndarray]) -> None:
    for x in speech:
        y = wm.embed(x)
        assert wm.detect(y).watermarked
        for kbps in (64, 32):
            audio, sr = _mp3(y, kbps)
            assert wm.detect(audio, sr).watermarked, f"mp3 {kbps}k"
        for rate in (8000, 16000, 44100, 48000):
            found = wm.detect(_resampled(y, rate), rate)
            assert found.watermarked, f"{rate} Hz: z={found.z:.1f}"
        assert wm.detect(y[3001:]).watermarked  # cut mid-block


def test_unmarked_audio_is_not_flagged(speech: list[np.ndarray]) -> None:
    from twin.api.demo import demo_dir
    from twin.audio.decode import load_audio

    recorded, sr = load_audio(demo_dir() / "voice" / "sample.wav")
    noise = np.random.default_rng(3).standard_normal(wm.RATE * 4).astype(np.float32) * 0.05
    for x, rate in [*((s, wm.RATE) for s in speech), (recorded, sr), (noise, wm.RATE)]:
        found = wm.detect(x, rate)
        assert not found.watermarked and found.z < wm.DETECT_Z, found
        audio, mp3_rate = _mp3(x if rate == wm.RATE else _resampled(x, wm.RATE), 64)
        assert not wm.detect(audio, mp3_rate).watermarked


def test_silence_and_short_clips_are_inconclusive() -> None:
    assert not wm.detect(np.zeros(wm.RATE * 3, dtype=np.float32)).conclusive
    short = wm.detect(np.random.default_rng(4).standard_normal(2000).astype(np.float32))
    assert not short.conclusive and not short.watermarked


def test_synthesizer_output_is_marked_and_cli_detects_it(tmp_path: Path) -> None:
    pytest.importorskip("piper")
    assert runner.invoke(app, ["profile", "create", "me"]).exit_code == 0
    out = tmp_path / "hello.mp3"
    res = runner.invoke(app, ["speak", SENTENCES[0], "--profile", "me", "--format", "mp3", "--out", str(out)])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["voice", "detect", str(out), "--json"])
    assert res.exit_code == 0, res.output
    [found] = json.loads(res.stdout)["results"]
    assert found["watermarked"] is True and found["conclusive"] is True


def test_cli_detect_reports_a_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "notes.wav"
    bad.write_bytes(b"not audio at all")
    res = runner.invoke(app, ["voice", "detect", str(bad), "--json"])
    assert res.exit_code == 2
    assert json.loads(res.stdout)["error"]["code"] in ("unsupported_format", "parse_error")
