"""Leftovers of crashed runs are removed at the next start or run, and only when no live twin process can
still be writing them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from twin.cli.main import app
from twin.ids import new_id
from twin.ops import cleanup
from twin.profiles import Profile, ProfileManager
from twin.settings import load_settings

SRC = Path(__file__).resolve().parents[2] / "src"
LONG_AGO = time.time() - 3600  # before this test process started


def _age(path: Path, when: float = LONG_AGO) -> Path:
    for dirpath, _dirs, files in os.walk(path) if path.is_dir() else [(str(path.parent), [], [path.name])]:
        for f in files:
            os.utime(Path(dirpath) / f, (when, when))
        os.utime(dirpath, (when, when))
    os.utime(path, (when, when))
    return path


def _leftovers(p: Profile) -> list[Path]:
    """One of each kind a crash can leave."""
    (p.voice_dir / "tmp").mkdir(parents=True, exist_ok=True)
    upload = p.voice_dir / "tmp" / "upload-q5rahx2n.bin"
    upload.write_bytes(b"\0" * 1000)
    voice = p.voice_dir / "profiles" / f".{new_id()}.tmp"
    voice.mkdir(parents=True)
    (voice / "reference.wav").write_bytes(b"RIFF")
    staging = p.exports_dir / ".staging-abc123"
    (staging / "chat").mkdir(parents=True)
    (staging / "chat" / "msgstore.txt").write_text("x")
    os.chmod(staging / "chat" / "msgstore.txt", 0o400)
    os.chmod(staging / "chat", 0o500)
    atomic = p.root / ".profile.json.k3j4h5.tmp"
    atomic.write_text("{")
    nested = p.datasets_dir / "mine" / ".report.json.x9y8.tmp"
    nested.parent.mkdir(parents=True)
    nested.write_text("{")
    return [_age(x) for x in (upload, voice, staging, atomic, nested)]


def _keepers(p: Profile) -> list[Path]:
    """Finished data that merely looks similar."""
    copy = p.exports_dir / "0123456789abcdef" / ".hidden.tmp"  # inside a finished read-only copy
    copy.parent.mkdir(parents=True)
    copy.write_text("original export content")
    voice = p.voice_dir / "profiles" / new_id() / "voice.json"
    voice.parent.mkdir(parents=True)
    voice.write_text("{}")
    return [_age(x) for x in (copy, voice, p.config_path)]


@pytest.fixture
def profile(twin_home: Path) -> Profile:
    return ProfileManager(load_settings()).create("p")


def test_every_kind_of_leftover_is_removed_and_nothing_else(profile: Profile) -> None:
    junk, keep = _leftovers(profile), _keepers(profile)
    report = cleanup.clean_leftovers(load_settings())
    assert sorted(report.removed) == sorted(junk)
    assert report.bytes_freed >= 1000
    assert not any(p.exists() for p in junk) and all(p.exists() for p in keep)


def test_a_leftover_newer_than_this_process_is_kept(profile: Profile) -> None:
    fresh = profile.voice_dir / "tmp" / "upload-fresh.bin"
    fresh.parent.mkdir(parents=True)
    fresh.write_bytes(b"being written")
    report = cleanup.clean_leftovers(load_settings())
    assert fresh.exists() and report.removed == [] and report.kept_in_use == 1


def _python(code: str, home: Path, **kw: object) -> subprocess.Popen[str]:
    env = {**os.environ, "TWIN_HOME": str(home), "PYTHONPATH": str(SRC)}
    return subprocess.Popen([sys.executable, "-c", code], env=env, text=True, stdout=subprocess.PIPE, **kw)  # type: ignore[call-overload]


def _clean_in_new_process(home: Path) -> list[str]:
    code = (
        "import json; from twin.ops.cleanup import clean_leftovers; from twin.settings import load_settings\n"
        "print(json.dumps([p.name for p in clean_leftovers(load_settings()).removed]))"
    )
    out, _ = _python(code, home).communicate(timeout=120)
    return json.loads(out)


def test_a_file_a_live_process_may_be_writing_survives_until_that_process_dies(
    profile: Profile, twin_home: Path
) -> None:
    writer = _python(
        "import time; from twin.ops.cleanup import register_process; from twin.settings import load_settings\n"
        "register_process(load_settings()); print('ready', flush=True); time.sleep(600)",
        twin_home,
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        upload = profile.voice_dir / "tmp" / "upload-inflight.bin"
        upload.parent.mkdir(parents=True)
        upload.write_bytes(b"half an upload")  # after the writer started: it may be the writer's
        assert _clean_in_new_process(twin_home) == []
        assert upload.exists()
    finally:
        writer.kill()  # a crash: no clean shutdown
        writer.wait(timeout=30)
    assert _clean_in_new_process(twin_home) == ["upload-inflight.bin"]
    assert not upload.exists()
    assert [p.name for p in (twin_home / "run").iterdir()] == []  # the dead writer's lock file is gone too


def test_cli_commands_clean_the_profile_they_open(profile: Profile) -> None:
    junk = _leftovers(profile)
    result = CliRunner().invoke(app, ["profile", "show", "--profile", "p", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["name"] == "p"
    assert "Removed 5 leftover temporary file(s)" in result.stderr
    assert not any(p.exists() for p in junk)


def test_the_server_cleans_all_profiles_at_startup(profile: Profile) -> None:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from twin.api.config import ServerSettings
    from twin.api.main import build_app

    other = ProfileManager(load_settings()).create("q")
    junk = _leftovers(profile) + _leftovers(other)
    with TestClient(build_app(load_settings(), ServerSettings(llm_backend="fake")), base_url="http://127.0.0.1"):
        assert not any(p.exists() for p in junk)
