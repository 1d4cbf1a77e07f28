"""Backups: the online copy of the database, the profile's files and a manifest; restore into a new
profile verified file by file; encrypted when the profile is; damaged or hostile archives refused."""

from __future__ import annotations

import io
import json
import sqlite3
import tarfile
import threading
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from twin.cli.main import app
from twin.ops import backup
from twin.ops.backup import BackupCorrupt, create_backup, restore_backup
from twin.ops.crypto import Unlock, WrongKey
from twin.profiles import Profile, ProfileManager
from twin.settings import load_settings
from twin.store.db import connect
from twin.voice import encryption
from twin.voice.storage import VoiceStorage, forget_keys

runner = CliRunner()
PASS = Unlock(passphrase="backup pass")


@pytest.fixture
def profile() -> Profile:
    p = ProfileManager(load_settings()).create("me")
    conn = connect(p)
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.executemany("INSERT INTO notes (body) VALUES (?)", [(f"note {i}",) for i in range(500)])
    conn.commit()
    conn.close()
    store = VoiceStorage(p)
    store.save_wav(p.voice_dir / "clean" / "neutral" / "c1.wav", np.zeros(16000, np.float32) + 0.1, 16000)
    (p.datasets_dir / "default").mkdir(parents=True)
    (p.datasets_dir / "default" / "train.jsonl").write_text('{"messages": []}\n')
    (p.voice_dir / "cache" / "tts").mkdir(parents=True)
    (p.voice_dir / "cache" / "tts" / "junk.wav").write_bytes(b"cache is not backed up")
    return p


def _tree(root: Path) -> dict[str, bytes]:
    skip = ("twin.db", "profile.json")
    return {
        str(f.relative_to(root)): f.read_bytes()
        for f in sorted(root.rglob("*"))
        if f.is_file() and not f.name.startswith(skip)
    }


def test_backup_and_restore_into_a_new_profile(profile: Profile, tmp_path: Path) -> None:
    settings = load_settings()
    out = tmp_path / "me.twinbak"
    made = create_backup(settings, profile, out)
    assert made.tables["notes"] == 500 and not made.encrypted
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    restored = restore_backup(settings, out, "me2")
    new = ProfileManager(settings).get("me2")
    assert restored.files == made.files
    expected = {k: v for k, v in _tree(profile.root).items() if not k.startswith("voice/cache")}
    assert _tree(new.root) == expected
    conn = connect(new)
    assert conn.execute("SELECT COUNT(*) FROM notes").fetchone()[0] == 500
    conn.close()
    config = new.load_config()
    assert config.name == "me2" and config.id != profile.load_config().id  # a new profile: old keys don't open it
    with pytest.raises(Exception, match="already exists"):
        restore_backup(settings, out, "me2")
    with pytest.raises(Exception, match="already exists"):
        create_backup(settings, profile, out)  # never overwritten


def test_backup_while_the_database_is_being_written(profile: Profile, tmp_path: Path) -> None:
    """The online backup API copies a consistent snapshot while another connection keeps writing."""
    stop = threading.Event()

    def writer() -> None:
        conn = connect(profile)
        i = 0
        while not stop.is_set():
            conn.execute("INSERT INTO notes (body) VALUES (?)", (f"live {i}",))
            conn.commit()
            i += 1
        conn.close()

    t = threading.Thread(target=writer)
    t.start()
    try:
        made = create_backup(load_settings(), profile, tmp_path / "live.twinbak")
    finally:
        stop.set()
        t.join()
    restore_backup(load_settings(), tmp_path / "live.twinbak", "live")
    conn = connect(ProfileManager(load_settings()).get("live"))
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT COUNT(*) FROM notes").fetchone()[0] == made.tables["notes"] >= 500
    conn.close()


def test_encrypted_profile_gives_an_encrypted_backup(profile: Profile, tmp_path: Path) -> None:
    settings = load_settings()
    encryption.encrypt_profile(profile, "passphrase", PASS)
    out = tmp_path / "sealed.twinbak"
    made = create_backup(settings, profile, out, PASS)
    raw = out.read_bytes()
    assert made.encrypted and raw.startswith(backup.SEALED_MAGIC)
    assert b"note 1" not in raw and b"CREATE TABLE" not in raw
    forget_keys(profile)
    with pytest.raises(WrongKey):
        restore_backup(settings, out, "thief", Unlock(passphrase="guess"))
    assert not ProfileManager(settings).exists("thief")
    restore_backup(settings, out, "me3", PASS)
    new = ProfileManager(settings).get("me3")
    clip = new.voice_dir / "clean" / "neutral" / "c1.wav"
    assert VoiceStorage(new, PASS).read_bytes(clip)[:4] == b"RIFF"


def test_tampered_backup_is_refused(profile: Profile, tmp_path: Path) -> None:
    settings = load_settings()
    out = tmp_path / "me.twinbak"
    create_backup(settings, profile, out)
    with tarfile.open(out, "r:gz") as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar.getmembers()]  # type: ignore[union-attr]
    bad = tmp_path / "bad.twinbak"
    with tarfile.open(bad, "w:gz") as tar:
        for m, data in members:
            if m.name.endswith("train.jsonl"):
                data = b'{"messages": ["changed"]}\n'
                m.size = len(data)
            tar.addfile(m, io.BytesIO(data))
    with pytest.raises(BackupCorrupt, match="manifest"):
        restore_backup(settings, bad, "me4")
    assert not (settings.profiles_dir / "me4").exists()
    assert not list(settings.profiles_dir.glob(".restore-*"))
    truncated = tmp_path / "cut.twinbak"
    truncated.write_bytes(out.read_bytes()[: out.stat().st_size // 2])
    with pytest.raises(BackupCorrupt):
        restore_backup(settings, truncated, "me5")


@pytest.mark.parametrize("name", ["../evil", "/etc/evil", "voice/../../evil", "a/./b"])
def test_zip_slip_entries_are_refused(name: str, tmp_path: Path) -> None:
    bad = tmp_path / "slip.twinbak"
    with tarfile.open(bad, "w:gz") as tar:
        info = tarfile.TarInfo(name)
        info.size = 4
        tar.addfile(info, io.BytesIO(b"evil"))
    with pytest.raises(BackupCorrupt, match="unsafe"):
        restore_backup(load_settings(), bad, "victim")
    assert not (tmp_path.parent / "evil").exists()


def test_symlink_entries_are_refused(tmp_path: Path) -> None:
    bad = tmp_path / "link.twinbak"
    with tarfile.open(bad, "w:gz") as tar:
        info = tarfile.TarInfo("voice/x.wav")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(info)
    with pytest.raises(BackupCorrupt, match="unsafe"):
        restore_backup(load_settings(), bad, "victim")


def test_cli_backup_create_and_restore(profile: Profile, tmp_path: Path) -> None:
    out = tmp_path / "cli.twinbak"
    res = runner.invoke(app, ["backup", "create", "--profile", "me", "--out", str(out), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["tables"]["notes"] == 500
    res = runner.invoke(app, ["backup", "restore", str(out), "--profile", "again", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["profile"] == "again"
    res = runner.invoke(app, ["backup", "restore", str(tmp_path / "none.twinbak"), "--profile", "x", "--json"])
    assert res.exit_code == 2 and json.loads(res.stdout)["error"]["code"] == "not_found"


def test_database_file_is_not_corrupt_after_restore(profile: Profile, tmp_path: Path) -> None:
    out = tmp_path / "b.twinbak"
    create_backup(load_settings(), profile, out)
    restore_backup(load_settings(), out, "fresh")
    db = ProfileManager(load_settings()).get("fresh").db_path
    assert sqlite3.connect(db).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
