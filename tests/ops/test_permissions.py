"""Everything twin writes is user-only: folders 0700, files 0600 (read-only copies 0400), whatever the
umask of the shell that started it."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from twin.keys import KeyStore
from twin.ops.audit import AuditEvent, AuditLog
from twin.profiles import ProfileManager
from twin.settings import load_settings
from twin.store.db import connect

TESTS = Path(__file__).resolve().parents[1]
SRC = TESTS.parent / "src"
CHAT = TESTS / "data" / "whatsapp"


def _shared(root: Path) -> list[str]:
    """Paths under `root` (root included) that anyone but the owner can read, write or enter."""
    found = []
    for dirpath, _dirs, files in os.walk(root):
        for p in [Path(dirpath), *(Path(dirpath) / f for f in files)]:
            if stat.S_IMODE(p.lstat().st_mode) & 0o077:
                found.append(f"{oct(stat.S_IMODE(p.lstat().st_mode))} {p.relative_to(root)}")
    return sorted(set(found))


@pytest.fixture
def loose_umask() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_cli_writes_nothing_others_can_read(tmp_path: Path) -> None:
    home = tmp_path / "twin-home"
    env = {**os.environ, "TWIN_HOME": str(home), "PYTHONPATH": str(SRC)}
    chat = sorted(p for p in CHAT.iterdir() if p.suffix == ".txt")[0]
    for args in (["profile", "create", "p"], ["ingest", str(chat), "-p", "p"], ["keys", "create", "-p", "p"]):
        done = subprocess.run(
            [sys.executable, "-m", "twin", *args, "--json"], env=env, capture_output=True, text=True, umask=0o022
        )
        assert done.returncode == 0, done.stderr
    assert (home / "keys.db").is_file() and any((home / "profiles" / "p" / "exports").iterdir())
    assert _shared(home) == []


def test_databases_and_folders_are_private_even_under_a_loose_umask(twin_home: Path, loose_umask: None) -> None:
    settings = load_settings()
    profile = ProfileManager(settings).create("q")
    connect(profile).close()
    KeyStore(settings).create("q")
    AuditLog(settings).record(None, AuditEvent(None, "127.0.0.1", "GET", "/api/voice", 401), 1.0)
    assert (twin_home / "audit.db").is_file() and profile.db_path.is_file()
    assert _shared(twin_home) == []
