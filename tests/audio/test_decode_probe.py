"""Audio decoding and header validation: every supported format, and bad input failing per file with a
clear TwinError before any decoding."""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from tests.voice.conftest import tone

from twin.audio import decode, deps
from twin.audio.decode import load_audio
from twin.audio.encode import save_wav
from twin.audio.probe import AudioLimits, probe
from twin.errors import InvalidInput, MissingDependency, NotFound, ParseError, TooLarge, TwinError, UnsupportedFormat


def _wav(path: Path, seconds: float = 1.0, sr: int = 16000, channels: int = 1) -> Path:
    x = tone(seconds, sr=sr)
    sf.write(path, np.stack([x] * channels, axis=1) if channels > 1 else x, sr, subtype="PCM_16")
    return path


@pytest.mark.parametrize(
    "fmt,ext,subtype",
    [
        ("WAV", "wav", "PCM_24"),
        ("FLAC", "flac", "PCM_16"),
        ("OGG", "ogg", "VORBIS"),
        ("MP3", "mp3", "MPEG_LAYER_III"),
        ("OGG", "opus", "OPUS"),
    ],
)
def test_formats_decode_to_float32(tmp_path: Path, fmt: str, ext: str, subtype: str) -> None:
    sr = 48000 if ext == "opus" else 22050
    path = tmp_path / f"a.{ext}"
    sf.write(path, tone(1.0, sr=sr), sr, format=fmt, subtype=subtype)
    info = probe(path)
    assert info.sample_rate == sr and info.channels == 1
    audio, rate = load_audio(path)
    assert audio.dtype == np.float32 and rate == sr
    assert abs(len(audio) / sr - 1.0) < 0.1
    assert 0.15 < float(np.sqrt(np.mean(audio**2))) < 0.25  # a 0.3-amplitude sine has RMS 0.21


def test_stereo_to_mono_and_resample(tmp_path: Path) -> None:
    path = _wav(tmp_path / "s.wav", seconds=2.0, sr=44100, channels=2)
    audio, sr = load_audio(path, sr=22050)
    assert audio.ndim == 1 and sr == 22050 and len(audio) == 44100
    both, _ = load_audio(path, mono=False)
    assert both.shape == (88200, 2)


def test_bytes_input_and_save_wav_roundtrip(tmp_path: Path) -> None:
    x = tone(0.5)
    out = save_wav(tmp_path / "o.wav", x, 22050)
    info = probe(out.read_bytes())
    assert info.format == "wav" and info.frames == len(x)
    y, _ = load_audio(out.read_bytes())
    assert np.max(np.abs(y - x)) < 1e-3


def _patch(data: bytes, offset: int, fmt: str, value: int) -> bytes:
    b = bytearray(data)
    struct.pack_into(fmt, b, offset, value)
    return bytes(b)


def test_bad_inputs_give_clear_errors(tmp_path: Path) -> None:
    good = _wav(tmp_path / "g.wav").read_bytes()  # 44-byte header: rate at 24, block align at 32, data size at 40
    cases = {
        "empty": (b"", InvalidInput, "empty"),
        "text": (b"just some notes, not audio" * 10, UnsupportedFormat, "not a recognised audio file"),
        "truncated": (good[: len(good) // 2], ParseError, "truncated"),
        "header only": (good[:20], ParseError, "fmt"),
        "rate zero": (_patch(good, 24, "<I", 0), InvalidInput, "sample rate is 0"),
        "huge data": (_patch(good, 40, "<I", 0xFFFFFFF0), TooLarge, "declares"),
        "block align": (_patch(good, 32, "<H", 7), ParseError, "inconsistent"),
        "no channels": (_patch(good, 22, "<H", 0), ParseError, "0 channels"),
        "corrupt flac": (b"fLaC" + b"\x00" * 100, ParseError, "FLAC"),
    }
    for name, (data, exc, words) in cases.items():
        path = tmp_path / f"{name}.wav"
        path.write_bytes(data)
        with pytest.raises(exc) as err:
            load_audio(path)
        assert words in err.value.message, name
        assert err.value.hint, name
        assert path.name in err.value.message, name


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        probe(tmp_path / "nope.wav")
    with pytest.raises(InvalidInput):
        probe(tmp_path)


def test_limits_checked_from_header_before_decoding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _wav(tmp_path / "long.wav", seconds=3.0)

    def no_decode(*_a: object, **_k: object) -> None:
        raise AssertionError("decoded despite the header being over the limits")

    monkeypatch.setattr(decode, "_native_blocks", no_decode)
    with pytest.raises(TooLarge, match="longer than"):
        load_audio(path, limits=AudioLimits(max_duration_s=2.0))
    with pytest.raises(TooLarge, match="bytes"):
        load_audio(path, limits=AudioLimits(max_bytes=1000))
    with pytest.raises(InvalidInput, match="channels"):
        load_audio(_wav(tmp_path / "c.wav", channels=3), limits=AudioLimits(max_channels=2))
    with pytest.raises(InvalidInput, match="outside"):
        load_audio(_wav(tmp_path / "r.wav", sr=8000), limits=AudioLimits(min_sample_rate=11025))


def test_m4a_without_ffmpeg_names_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "a.m4a"
    path.write_bytes(b"\x00\x00\x00\x20ftypM4A \x00\x00\x02\x00" + b"\x00" * 200)
    monkeypatch.setattr(deps.shutil, "which", lambda _name: None)
    with pytest.raises(MissingDependency) as err:
        probe(path)
    assert "ffmpeg" in err.value.message and "install" in err.value.hint.lower()


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed")
@pytest.mark.parametrize("ext,codec", [("m4a", "aac"), ("webm", "libopus")])
def test_ffmpeg_formats(tmp_path: Path, ext: str, codec: str) -> None:
    src = _wav(tmp_path / "src.wav", seconds=1.5, sr=48000)
    out = tmp_path / f"a.{ext}"
    proc = subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(src), "-c:a", codec, str(out)], capture_output=True)
    if proc.returncode != 0:
        pytest.skip(f"this ffmpeg cannot encode {codec}")
    info = probe(out)
    assert info.format == ext and info.sample_rate == 48000
    audio, sr = load_audio(out, sr=22050)
    assert sr == 22050 and abs(len(audio) / sr - 1.5) < 0.1
    assert float(np.sqrt(np.mean(audio[2000:-2000] ** 2))) > 0.15


@pytest.mark.corpus
def test_scipy_corpus_wavs_decode_or_fail_cleanly(corpus: Path) -> None:
    folder = corpus / "scipy" / "scipy" / "io" / "tests" / "data"
    if not folder.is_dir():
        pytest.skip("scipy corpus missing")
    must_fail = {
        "test-44100Hz-le-1ch-4bytes-early-eof.wav",
        "test-44100Hz-le-1ch-4bytes-early-eof-no-data.wav",
        "test-44100Hz-le-1ch-4bytes-incomplete-chunk.wav",
        "test-8000Hz-le-3ch-5S-24bit-inconsistent.wav",
    }
    must_load = {
        "test-44100Hz-le-1ch-4bytes.wav",
        "test-44100Hz-2ch-32bit-float-le.wav",
        "test-44100Hz-le-1ch-4bytes-rf64.wav",
        "test-44100Hz-be-1ch-4bytes.wav",
    }
    seen = 0
    for path in sorted(folder.glob("*.wav")):
        seen += 1
        try:
            audio, sr = load_audio(path)
        except TwinError as exc:
            assert path.name not in must_load, f"{path.name}: {exc}"
            assert exc.message and exc.hint
            continue
        assert path.name not in must_fail, path.name
        assert audio.dtype == np.float32 and len(audio) > 0 and sr > 0 and np.all(np.isfinite(audio))
    assert seen >= 10
