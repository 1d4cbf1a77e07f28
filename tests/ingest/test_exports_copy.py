"""The staged copy of an export: kept only on commit, never left behind by a killed import, never
taken from an import that is still running."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from support.ingest_cli import SOURCES
from twin.ingest.exports_copy import clean_stale_staging, stage_copy
from twin.profiles import Profile, ProfileManager
from twin.settings import load_settings


def _profile() -> Profile:
    return ProfileManager(load_settings()).create("me")


def _staging(profile: Profile) -> list[Path]:
    return sorted(profile.exports_dir.glob(".staging-*"))


def test_commit_keeps_a_read_only_copy_and_discard_keeps_nothing(tmp_path: Path, twin_home: Path) -> None:
    profile = _profile()
    origin = tmp_path / "chat.txt"
    origin.write_text("hello\n", encoding="utf-8")
    kept = stage_copy(profile, origin).commit()
    assert kept.read_text(encoding="utf-8") == "hello\n" and kept.stat().st_mode & 0o222 == 0
    dropped = stage_copy(profile, tmp_path / "chat.txt")
    dropped.discard()
    assert _staging(profile) == [] and [p.name for p in profile.exports_dir.rglob("*") if p.is_file()] == ["chat.txt"]


def test_only_leftovers_of_killed_imports_are_cleaned(tmp_path: Path, twin_home: Path) -> None:
    profile = _profile()
    origin = tmp_path / "chat.txt"
    origin.write_text("hello\n", encoding="utf-8")
    running = stage_copy(profile, origin)  # this process is still importing
    script = (
        "import os, sys\nfrom pathlib import Path\nfrom twin.ingest.exports_copy import stage_copy\n"
        "from twin.profiles import ProfileManager\nfrom twin.settings import load_settings\n"
        "stage_copy(ProfileManager(load_settings()).get('me'), Path(sys.argv[1]))\nos._exit(0)  # dies mid-import\n"
    )
    env = {"TWIN_HOME": str(twin_home), "PYTHONPATH": SOURCES, "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-c", script, str(origin)], env=env, check=True, timeout=120)
    assert len(_staging(profile)) == 2
    assert clean_stale_staging(profile) == 1
    assert _staging(profile) == [running._staging]
    assert running.commit().is_file() and _staging(profile) == []
