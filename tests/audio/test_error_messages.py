"""Every audio error names the user's file (the display name passed in, else the file's own name) and never
shows server internals: folders, temporary files, decoder stderr or object reprs."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from twin.audio import deps
from twin.audio.decode import decode_bytes, load_audio
from twin.audio.probe import AudioLimits, probe
from twin.errors import TwinError

NAME = "Kitchen take 3.wav"
INTERNALS = re.compile(r"0x[0-9a-f]{4,}|BytesIO|<_io|/tmp|/var/|\.audio\b|upload-|Traceback|Error opening")


def _clean(exc: TwinError, tmp_path: Path, name: str) -> None:
    text = f"{exc.message} {exc.hint}"
    assert name in exc.message, exc.message
    assert str(tmp_path) not in text and not INTERNALS.search(text), text
    assert exc.hint


def _tone(seconds: float = 1.0, sr: int = 16000) -> np.ndarray:
    return (0.3 * np.sin(2 * np.pi * 220 * np.arange(int(seconds * sr)) / sr)).astype(np.float32)


def _good_wav(tmp_path: Path) -> bytes:
    path = tmp_path / "good.wav"
    sf.write(path, _tone(), 16000, subtype="PCM_16")
    return path.read_bytes()


def _cases(tmp_path: Path) -> dict[str, tuple[bytes, AudioLimits | None]]:
    good = _good_wav(tmp_path)
    flac = tmp_path / "x.flac"
    sf.write(flac, _tone(), 16000, format="FLAC")
    return {
        "empty": (b"", None),
        "not audio": (b"shopping list: milk, eggs" * 8, None),
        "truncated wav": (good[: len(good) // 2], None),
        "no fmt": (good[:20], None),
        "too big": (good, AudioLimits(max_bytes=100)),
        "too long": (good, AudioLimits(max_duration_s=0.5)),
        "bad rate": (good, AudioLimits(min_sample_rate=22050)),
        "corrupt flac header": (b"fLaC" + b"\x00" * 100, None),
        "corrupt flac frames": (flac.read_bytes()[:60] + b"\x5a" * 4000, None),
    }


@pytest.mark.parametrize("as_bytes", [True, False])
def test_probe_and_decode_errors_name_the_users_file(tmp_path: Path, as_bytes: bool) -> None:
    server = tmp_path / "srv" / "voice" / "tmp"
    server.mkdir(parents=True)
    seen = 0
    for case, (data, limits) in _cases(tmp_path).items():
        path = server / f"upload-{case.replace(' ', '_')}.bin"
        path.write_bytes(data)
        src: bytes | Path = data if as_bytes else path
        try:
            load_audio(src, limits=limits or AudioLimits(), name=NAME)
        except TwinError as exc:
            _clean(exc, tmp_path, NAME)
            seen += 1
        else:
            pytest.fail(f"{case}: decoded without an error")
    assert seen == len(_cases(tmp_path))


def test_default_names_are_the_file_name_or_the_upload(tmp_path: Path) -> None:
    folder = tmp_path / "private" / "dir"
    folder.mkdir(parents=True)
    with pytest.raises(TwinError) as err:
        probe(folder / "missing.wav")
    assert err.value.message.startswith("missing.wav:")
    _clean(err.value, tmp_path, "missing.wav")
    with pytest.raises(TwinError) as err:
        probe(folder)
    _clean(err.value, tmp_path, "dir")
    with pytest.raises(TwinError) as err:
        probe(b"fLaC" + b"\x00" * 64)
    _clean(err.value, tmp_path, "the uploaded audio")


def test_missing_ffmpeg_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "clip.m4a"
    path.write_bytes(b"\x00\x00\x00\x20ftypM4A \x00\x00\x02\x00" + b"\x00" * 200)
    monkeypatch.setattr(deps.shutil, "which", lambda _name: None)
    with pytest.raises(TwinError) as err:
        probe(path, name="voice memo.m4a")
    _clean(err.value, tmp_path, "voice memo.m4a")
    assert "ffmpeg" in err.value.message


@pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffmpeg is not installed")
def test_ffprobe_and_ffmpeg_failures_hide_their_stderr(tmp_path: Path) -> None:
    broken = b"\x00\x00\x00\x20ftypM4A \x00\x00\x02\x00" + b"\x13" * 500
    for src in (broken, tmp_path / "broken.m4a"):
        if isinstance(src, Path):
            src.write_bytes(broken)
        with pytest.raises(TwinError) as err:
            load_audio(src, name="voice memo.m4a")
        _clean(err.value, tmp_path, "voice memo.m4a")
    wav = tmp_path / "src.wav"
    sf.write(wav, _tone(2.0, 48000), 48000)
    good = tmp_path / "good.m4a"
    proc = subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(wav), str(good)], capture_output=True)
    if proc.returncode != 0:
        pytest.skip("this ffmpeg cannot encode AAC")
    data = good.read_bytes()
    cut = tmp_path / "cut.m4a"
    cut.write_bytes(data[: len(data) // 3])  # header intact, media data missing
    try:
        audio, _ = load_audio(cut, name="voice memo.m4a")
    except TwinError as exc:
        _clean(exc, tmp_path, "voice memo.m4a")
    else:
        assert len(audio) > 0  # ffmpeg decoded what was there


def test_engine_reply_errors_name_the_engine() -> None:
    with pytest.raises(TwinError) as err:
        decode_bytes(b"<html>502 Bad Gateway</html>", name="The xtts engine's reply")
    assert err.value.message.startswith("The xtts engine's reply could not be decoded")
    assert not INTERNALS.search(err.value.message)
    streamed = b"RIFF\xff\xff\xff\xffWAVE"
    with pytest.raises(TwinError, match="without fmt/data"):
        decode_bytes(streamed)
