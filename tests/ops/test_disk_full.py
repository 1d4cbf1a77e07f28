"""A full disk is reported as "disk full" with the space involved, by the CLI (one JSON document, no
traceback) and by the server (507 disk_full, no path), never as an internal error.

Where the tests may mount a tiny tmpfs (root, as in CI) the disk is really full; otherwise those tests
skip and the simulated ones (ENOSPC raised at the OS boundary) still run."""

from __future__ import annotations

import errno
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from twin.cli.main import app
from twin.errors import DiskFull, is_disk_full
from twin.keys import KeyStore
from twin.profiles import ProfileManager
from twin.settings import load_settings

SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs, or a skip where mounting is not allowed."""
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], capture_output=True)
    except FileNotFoundError:
        pytest.skip("no mount command")
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def _twin(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TWIN_HOME": str(home), "PYTHONPATH": str(SRC)}
    return subprocess.run([sys.executable, "-m", "twin", *args], env=env, capture_output=True, text=True, timeout=300)


def _chat(path: Path, lines: int) -> Path:
    with path.open("w", encoding="utf-8") as f:
        for i in range(lines):
            who = "Priya" if i % 2 else "Thota Rao"
            f.write(f"{1 + i % 28:02d}/02/2024, 10:{i % 60:02d} - {who}: message number {i} about the trip\n")
    return path


def test_export_onto_a_full_disk_says_disk_full(tiny_disk: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert _twin("profile", "create", "p", home=home).returncode == 0
    assert (
        _twin("ingest", str(_chat(tmp_path / "WhatsApp Chat with Priya.txt", 20_000)), "-p", "p", home=home).returncode
        == 0
    )
    done = _twin("messages", "export", "--out", str(tiny_disk / "all.jsonl"), "-p", "p", "--json", home=home)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    error = json.loads(done.stdout)["error"]
    assert error["code"] == "disk_full" and "full" in error["message"], error
    assert list(tiny_disk.iterdir()) == []  # no half-written file left behind


def test_an_import_that_does_not_fit_explains_the_reserve(tiny_disk: Path, tmp_path: Path) -> None:
    home = tiny_disk / "twin"
    assert _twin("profile", "create", "p", home=home).returncode == 0
    chat = _chat(tmp_path / "WhatsApp Chat with Priya.txt", 2_000)
    done = _twin("ingest", str(chat), "-p", "p", "--json", home=home)
    failed = [f for f in json.loads(done.stdout)["files"] if f["error"]]
    assert failed, done.stdout
    message = failed[0]["error"]
    assert "64 MB" in message and "twin always leaves free" in message and "in all" in message, message


def test_server_upload_onto_a_full_disk_is_507_disk_full(tiny_disk: Path) -> None:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from twin.api.config import ServerSettings
    from twin.api.main import build_app

    settings = load_settings(home=tiny_disk / "twin")
    ProfileManager(settings).create("p")
    keys = KeyStore(settings)
    secret = keys.create("p").secret
    keys.close()
    big = b"RIFF" + os.urandom(2 * 1024 * 1024)
    with TestClient(build_app(settings, ServerSettings(llm_backend="fake")), base_url="http://127.0.0.1") as client:
        r = client.post(
            "/api/voice/upload",
            headers={"Authorization": f"Bearer {secret}"},
            files={"file": ("me.wav", big, "audio/wav")},
        )
    assert r.status_code == 507, r.text
    error = r.json()["error"]
    assert error["code"] == "disk_full" and str(tiny_disk) not in json.dumps(error)


def _no_space(*_a: object, **_k: object) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


def test_cli_reports_a_simulated_full_disk_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "replace", _no_space)  # the rename that finishes every atomic write
    result = CliRunner().invoke(app, ["profile", "create", "p", "--json"])
    assert result.exit_code == 2 and result.exception is None or isinstance(result.exception, SystemExit)
    assert json.loads(result.stdout)["error"]["code"] == "disk_full"
    text = CliRunner().invoke(app, ["profile", "create", "q"])
    assert text.exit_code == 2 and "error:" in text.stderr and "full" in text.stderr


def test_server_reports_a_simulated_full_disk(monkeypatch: pytest.MonkeyPatch, twin_home: Path) -> None:
    pytest.importorskip("fastapi")
    import tempfile

    from fastapi.testclient import TestClient

    from twin.api.config import ServerSettings
    from twin.api.main import build_app

    settings = load_settings()
    ProfileManager(settings).create("p")
    keys = KeyStore(settings)
    secret = keys.create("p").secret
    keys.close()
    with TestClient(build_app(settings, ServerSettings(llm_backend="fake")), base_url="http://127.0.0.1") as client:
        monkeypatch.setattr(tempfile, "mkstemp", _no_space)  # where the upload is spooled to disk
        r = client.post(
            "/api/voice/upload",
            headers={"Authorization": f"Bearer {secret}"},
            files={"file": ("me.wav", b"RIFF....WAVE", "audio/wav")},
        )
    assert r.status_code == 507 and r.json()["error"]["code"] == "disk_full", r.text


def test_full_disk_is_recognised_from_sqlite_and_through_wrappers() -> None:
    full = sqlite3.OperationalError("database or disk is full")
    full.sqlite_errorcode = sqlite3.SQLITE_FULL  # type: ignore[attr-defined]
    assert is_disk_full(full)
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as inner:
            raise RuntimeError("write failed") from inner
    except RuntimeError as outer:
        assert is_disk_full(outer)
    assert not is_disk_full(OSError(errno.EACCES, "Permission denied"))


def test_the_reserve_is_named_in_the_numbers() -> None:
    err = DiskFull.for_write("a copy of the export", needed=2_000_000, free=21_000_000, reserve=64_000_000)
    assert err.code == "disk_full" and err.http_status == 507
    assert "2.0 MB plus the 64 MB twin always leaves free" in err.message and "(66 MB in all)" in err.message
    assert "21 MB are free" in err.message and "Free at least 45 MB" in err.hint
