"""The ingest service end to end through the real CLI: detection, store, identity, idempotency."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

from support.ingest_cli import CHAT, EML, cli_env, twin, twin_json, write_chat

EXPORT_KEYS = {
    "id",
    "source",
    "locator",
    "format",
    "conversation_id",
    "sender",
    "sender_is_me",
    "timestamp",
    "text",
    "kind",
    "flags",
    "subject",
    "recipients",
}


def _export(home: Path, tmp_path: Path) -> list[dict]:
    out = tmp_path / "out.jsonl"
    twin("messages", "export", "--profile", "me", "--out", str(out), home=home)
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def test_whatsapp_zip_and_eml_into_one_store(tmp_path: Path, twin_home: Path) -> None:
    z = tmp_path / "WhatsApp Chat - Priya.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("_chat.txt", CHAT)
        zf.writestr("__MACOSX/._chat.txt", b"\0\0junk")
        zf.writestr("IMG-001.jpg", b"\xff\xd8\xff")
    eml = tmp_path / "budget.eml"
    eml.write_text(EML, encoding="utf-8")
    report = twin_json(
        "ingest", str(z), str(eml), "--profile", "me", "--me", "Thota Rao", "--me", "thota@example.com", home=twin_home
    )
    assert [f["format"] for f in report["files"]] == ["whatsapp", "eml"]
    assert all(f["error"] is None for f in report["files"])
    assert report["messages"] == 7 and report["mine"] == 3
    records = _export(twin_home, tmp_path)
    assert all(set(r) == EXPORT_KEYS for r in records)
    chat = [r for r in records if r["format"] == "whatsapp"]
    assert {r["conversation_id"] for r in chat} == {"whatsapp:Priya"}
    assert [r["kind"] for r in chat] == ["system", "text", "text", "media", "deleted", "text"]
    multi = next(r for r in chat if r["text"].startswith("Yes!"))
    assert multi["text"] == "Yes! Let's meet at the station at 10.\nIt's the north entrance this time."
    assert multi["sender_is_me"] is True and multi["timestamp"] == "2024-01-12T09:17:00"
    mail = next(r for r in records if r["format"] == "eml")
    assert mail["sender_is_me"] is True and mail["subject"] == "Q1 budget review"
    assert mail["recipients"] == ["dana@example.org"] and mail["timestamp"] == "2024-01-15T10:00:00+01:00"
    # The originals are kept read-only inside the profile.
    kept = list((twin_home / "profiles" / "me" / "exports").rglob("*.zip"))
    assert len(kept) == 1 and not os.access(kept[0], os.W_OK) or os.geteuid() == 0
    assert kept[0].stat().st_mode & 0o222 == 0


def test_reingest_adds_nothing_and_longer_reexport_adds_only_new(tmp_path: Path, twin_home: Path) -> None:
    chat = write_chat(tmp_path)
    first = twin_json("ingest", str(chat), "--profile", "me", home=twin_home)
    again = twin_json("ingest", str(chat), "--profile", "me", home=twin_home)
    assert first["files"][0]["new"] == 6 and again["files"][0]["new"] == 0
    longer = write_chat(
        tmp_path / "later" if (tmp_path / "later").mkdir() is None else tmp_path,
        text=CHAT + "14/01/2024, 07:50 - Thota Rao: No worries, see you soon\n",
    )
    third = twin_json("ingest", str(longer), "--profile", "me", home=twin_home)
    assert third["files"][0]["new"] == 1
    stats = twin_json("messages", "stats", "--profile", "me", home=twin_home)
    assert stats["messages"] == 7


def test_identity_is_inferred_stored_and_changeable(tmp_path: Path, twin_home: Path) -> None:
    chat = write_chat(tmp_path)
    other = write_chat(tmp_path, "WhatsApp Chat with Sam.txt", CHAT.replace("Priya", "Sam"))
    report = twin_json("ingest", str(chat), str(other), "--profile", "me", home=twin_home)
    assert report["identity"]["names"] == ["Thota Rao"] and report["identity"]["inferred"] is True
    assert report["mine"] == 4  # two messages per chat, the deleted ones included
    shown = twin_json("profile", "show", "--profile", "me", home=twin_home)
    assert shown["identity"]["names"] == ["Thota Rao"]
    changed = twin_json("profile", "set-me", "Priya", "--profile", "me", home=twin_home)
    assert changed["mine"] == 3
    records = _export(twin_home, tmp_path)
    assert {r["sender"] for r in records if r["sender_is_me"]} == {"Priya"}


def test_bad_files_are_reported_and_the_batch_continues(tmp_path: Path, twin_home: Path) -> None:
    good = write_chat(tmp_path)
    junk = tmp_path / "notes.txt"
    junk.write_text("just some notes\nnothing to see\n", encoding="utf-8")
    missing = tmp_path / "nope.mbox"
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    proc = twin("ingest", str(good), str(junk), str(missing), str(broken), "--profile", "me", "--json", home=twin_home)
    report = json.loads(proc.stdout)
    errors = {Path(f["path"]).name: f["error"] for f in report["files"]}
    assert errors["WhatsApp Chat with Priya.txt"] is None
    assert "not a format twin can import" in errors["notes.txt"]
    assert "does not exist" in errors["nope.mbox"]
    assert errors["broken.zip"]
    assert report["messages"] == 6
    strict = twin("ingest", str(good), str(junk), "--profile", "me", "--strict", home=twin_home, check=False)
    assert strict.returncode == 1
    nothing = twin("ingest", str(junk), "--profile", "me", home=twin_home, check=False)
    assert nothing.returncode == 1 and "not a format twin can import" in nothing.stdout + nothing.stderr


def test_folder_with_mixed_exports(tmp_path: Path, twin_home: Path) -> None:
    folder = tmp_path / "exports"
    (folder / "mail" / "cur").mkdir(parents=True)
    (folder / "mail" / "new").mkdir()
    (folder / "mail" / "tmp").mkdir()
    (folder / "mail" / "cur" / "1705309200.M1.host:2,S").write_text(EML, encoding="utf-8")
    write_chat(folder)
    (folder / "photo.jpg").write_bytes(b"\xff\xd8")
    report = twin_json("ingest", str(folder), "--profile", "me", "--me", "thota@example.com", home=twin_home)
    formats = sorted(f["format"] for f in report["files"])
    assert formats == ["maildir", "whatsapp"]
    maildir = next(f for f in report["files"] if f["format"] == "maildir")
    assert maildir["messages"] == 1 and maildir["mine"] == 1


def _big_chat(path: Path, lines: int) -> None:
    with path.open("w", encoding="utf-8") as f:
        for i in range(lines):
            day, minute = 1 + (i // 1440) % 28, i % 1440
            who = "Thota Rao" if i % 3 else "Priya"
            f.write(f"{day:02d}/02/2024, {minute // 60:02d}:{minute % 60:02d} - {who}: message number {i}\n")


def _count_rows(db: Path) -> int | None:
    if not db.exists():
        return None
    try:
        with sqlite3.connect(db, timeout=1) as conn:
            return conn.execute("SELECT count(*) FROM messages").fetchone()[0]
    except sqlite3.OperationalError:  # the importer holds the write lock or the table is not there yet
        return None


def test_interrupted_import_completes_without_duplicates(tmp_path: Path, twin_home: Path) -> None:
    total = 40_000
    chat = tmp_path / "WhatsApp Chat with Priya.txt"
    _big_chat(chat, total)
    env = cli_env(twin_home)
    proc = subprocess.Popen(
        [sys.executable, "-m", "twin", "ingest", str(chat), "--profile", "me", "--create", "--json"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    db = twin_home / "profiles" / "me" / "twin.db"
    at_kill = None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        rows = _count_rows(db)
        if rows is not None and rows >= 4000:
            proc.send_signal(signal.SIGKILL)
            at_kill = rows
            break
        time.sleep(0.05)
    else:
        proc.kill()
    assert proc.wait() == -signal.SIGKILL, "the import ended by itself before it could be interrupted"
    assert at_kill is not None
    stored = _count_rows(db)
    assert stored is not None and at_kill <= stored < total, "the import was not interrupted mid-way"
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM imports WHERE complete = 1").fetchone()[0] == 0
    report = twin_json("ingest", str(chat), "--profile", "me", home=twin_home)
    assert report["files"][0]["messages"] == total
    assert report["files"][0]["new"] == total - stored
    exports = twin_home / "profiles" / "me" / "exports"
    assert not list(exports.glob(".staging-*")), "the killed import's staged copy was left behind"
    assert len([p for p in exports.rglob("*") if p.is_file()]) == 1
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM messages").fetchone()[0] == total
        assert conn.execute("SELECT count(DISTINCT text) FROM messages").fetchone()[0] == total
        assert conn.execute("SELECT count(*) FROM imports WHERE complete = 1").fetchone()[0] == 1


def test_overview_and_profile_commands(twin_home: Path) -> None:
    assert "twin ingest" in twin(home=twin_home).stdout
    assert twin_json("profile", "create", "work", home=twin_home)["name"] == "work"
    dup = twin("profile", "create", "work", home=twin_home, check=False)
    assert dup.returncode == 2 and "already exists" in dup.stderr
    bad = twin("profile", "create", "../etc", home=twin_home, check=False)
    assert bad.returncode == 2 and "not a valid profile name" in bad.stderr
    assert [p["name"] for p in twin_json("profile", "list", home=twin_home)] == ["work"]
    twin("profile", "delete", "work", "--yes", home=twin_home)
    assert twin_json("profile", "list", home=twin_home) == []
    missing = twin_json("messages", "stats", "--profile", "ghost", home=twin_home, check=False)
    assert missing["error"]["code"] == "not_found" and "twin profile create ghost" in missing["error"]["hint"]
