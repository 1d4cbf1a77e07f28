"""`twin voice import|prepare|status|create|list|show|delete` through the real CLI, on a profile under a
temporary TWIN_HOME."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from tests.voice.conftest import SENTENCES, SR, build_recording
from typer.testing import CliRunner

from twin.cli.main import app
from twin.voice.config import save_voice_config

runner = CliRunner()


def _run(*args: str) -> tuple[int, object]:
    res = runner.invoke(app, [*args, "--json"])
    try:
        return res.exit_code, json.loads(res.stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"not JSON (exit {res.exit_code}): {res.stdout}\n{res.stderr}") from None


@pytest.fixture
def recordings(tmp_path: Path, say) -> Path:
    """happy/ and sad/ folders with a recording each, a file at the top level, and bad files."""
    root = tmp_path / "rec"
    (root / "happy").mkdir(parents=True)
    (root / "sad").mkdir()
    sf.write(root / "happy" / "take1.wav", build_recording(say, SENTENCES[:4], pause_s=1.2).audio, SR)
    sf.write(root / "sad" / "take2.flac", build_recording(say, SENTENCES[2:], pause_s=1.2).audio, SR)
    sf.write(root / "loose.wav", build_recording(say, SENTENCES[:2], pause_s=1.0).audio, SR)
    (root / "empty.wav").write_bytes(b"")
    (root / "notes.mp3").write_bytes(b"this is not audio at all" * 4)
    good = (root / "loose.wav").read_bytes()
    (root / "cut.wav").write_bytes(good[: len(good) // 3])
    return root


def test_import_prepare_status_and_voices(profile, fast_config, recordings: Path) -> None:
    save_voice_config(profile, fast_config)
    code, out = _run("voice", "import", str(recordings), "--profile", profile.name)
    assert code == 0
    by_name = {Path(r["path"]).name: r for r in out["results"]}
    assert {by_name[n]["status"] for n in ("take1.wav", "take2.flac", "loose.wav")} == {"imported"}
    assert by_name["take1.wav"]["emotion"] == "happy" and by_name["take2.flac"]["emotion"] == "sad"
    assert by_name["loose.wav"]["emotion"] == "neutral" and by_name["loose.wav"]["warnings"]
    assert by_name["empty.wav"]["error"]["code"] == "invalid_input"
    assert by_name["notes.mp3"]["error"]["code"] == "unsupported_format"
    assert "truncated" in by_name["cut.wav"]["error"]["message"]
    assert out["imported"] == 3 and out["failed"] == 3

    raws = list((profile.voice_dir / "raw").rglob("*.*"))
    assert len(raws) == 3
    for r in raws:
        assert not os.stat(r).st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    assert any(r.read_bytes() == (recordings / "loose.wav").read_bytes() for r in raws)

    code, again = _run("voice", "import", str(recordings / "loose.wav"), "-p", profile.name, "--emotion", "Tired")
    assert code == 0 and again["results"][0]["status"] == "duplicate"
    code, _ = _run("voice", "import", str(recordings / "empty.wav"), "-p", profile.name, "--strict")
    assert code == 1

    code, prep = _run("voice", "prepare", "-p", profile.name)
    assert code == 0 and len(prep["sources"]) == 3
    assert all(s["status"] == "ok" and s["clips"] >= 1 for s in prep["sources"])
    for wav in (profile.voice_dir / "clean").rglob("*.wav"):
        info = sf.info(wav)
        assert info.samplerate == 22050 and info.channels == 1 and 2.0 <= info.duration <= 15.0
    code, prep2 = _run("voice", "prepare", "-p", profile.name)
    assert prep2["sources"] == []  # nothing pending

    code, st = _run("voice", "status", "-p", profile.name)
    assert code == 0
    assert set(st["emotions"]) == {"happy", "sad", "neutral"}
    assert st["readiness"] in ("reference-only", "partial") and 0 < st["clean_minutes"] < 5
    assert "angry" in st["missing_emotions"]
    assert Path(st["plots"]["summary"]).read_bytes()[:4] == b"\x89PNG"
    pngs = list(Path(st["plots"]["clips_dir"]).glob("*.png"))
    assert len(pngs) == sum(v["clips"] for v in st["emotions"].values())
    assert st["weakest"] and all("quality" in w for w in st["weakest"])

    _voices(profile, recordings)


def _voices(profile, recordings: Path) -> None:
    code, v = _run("voice", "create", "-p", profile.name, "--from-library", "--name", "Me")
    assert code == 0, v
    vdir = profile.voice_dir / "profiles" / v["id"]
    assert v["source"] == "library" and set(v["references"]) == {"happy", "sad", "neutral"}
    emb = np.load(vdir / "embedding.npy", allow_pickle=False)
    assert emb.shape == (256,) and abs(float(np.linalg.norm(emb)) - 1) < 1e-3
    ref = sf.info(vdir / "reference.wav")
    assert ref.samplerate == 22050 and 2.0 <= ref.duration <= 30.5
    assert (vdir / "references" / "neutral.wav").is_file()

    code, r = _run(
        "voice", "create", "-p", profile.name, "--reference", str(recordings / "sad" / "take2.flac"), "--emotion", "sad"
    )
    assert code == 0 and r["source"] == "reference" and list(r["references"]) == ["sad"]

    code, listed = _run("voice", "list", "-p", profile.name)
    assert [x["id"] for x in listed] == [v["id"], r["id"]]
    code, shown = _run("voice", "show", v["id"], "-p", profile.name)
    assert shown["name"] == "Me"
    code, bad = _run("voice", "show", "../../etc", "-p", profile.name)
    assert code == 2 and bad["error"]["code"] == "invalid_input"
    code, both = _run("voice", "create", "-p", profile.name)
    assert code == 2 and "exactly one" in both["error"]["message"]
    code, _ = _run("voice", "delete", r["id"], "-p", profile.name)
    assert code == 0 and not (profile.voice_dir / "profiles" / r["id"]).exists()
    code, gone = _run("voice", "show", r["id"], "-p", profile.name)
    assert code == 2 and gone["error"]["code"] == "not_found"


def test_reference_upload_bytes_and_bad_reference(profile, say) -> None:
    from twin.audio.encode import save_wav
    from twin.errors import InvalidInput
    from twin.voice.profiles import create_voice, get_voice, list_voices, load_embedding, update_voice_meta

    path = save_wav(profile.root / "up.wav", build_recording(say, SENTENCES[:3], pause_s=1.0).audio, SR)
    voice = create_voice(profile, name="Upload", reference=path.read_bytes())
    assert get_voice(profile, voice.id).name == "Upload"
    assert load_embedding(profile, voice.id).dtype == np.float32
    update_voice_meta(profile, voice.id, eval={"similarity": 0.8})
    assert get_voice(profile, voice.id).eval == {"similarity": 0.8}
    silent = save_wav(profile.root / "silent.wav", np.zeros(SR * 5, dtype=np.float32), SR)
    with pytest.raises(InvalidInput, match="no detectable speech"):
        create_voice(profile, reference=silent)
    assert [x.id for x in list_voices(profile)] == [voice.id]  # the failed attempt left nothing behind


def test_prepare_failure_is_per_file(profile, fast_config, recordings: Path, monkeypatch) -> None:
    from twin.voice import library
    from twin.voice.prepare import prepare_library

    fast_config.prepare.stt.enabled = False
    results = library.import_files(profile, [recordings / "happy", recordings / "sad"], config=fast_config)
    assert all(r.status == "imported" for r in results)
    victim = next(s for s in library.list_sources(profile) if s.emotion == "sad")
    p = library.source_path(profile, victim)
    os.chmod(p, 0o644)
    p.write_bytes(p.read_bytes()[:200])  # damaged on disk after import
    report = prepare_library(profile, config=fast_config)
    status = {r["emotion"]: r["status"] for r in report}
    assert status == {"happy": "ok", "sad": "error"}
    assert library.list_clips(profile, emotion="happy")
    error = json.loads(library.list_sources(profile, pending_only=True)[0].prepare_error or "{}")
    assert error["message"].startswith("take2.flac: ")  # the user's name for it, not the stored copy's
