"""The same chat imported under another file name is recognised and merged, and `twin messages forget`
undoes an import (or drops a conversation) completely, through the real CLI."""

from __future__ import annotations

import sqlite3
import zipfile
from pathlib import Path

from support.ingest_cli import CHAT, twin, twin_json, write_chat
from twin.profiles import ProfileManager
from twin.settings import load_settings
from twin.store.db import connect


def _zip(path: Path, text: str = CHAT) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("_chat.txt", text)
    return path


def _db(home: Path) -> sqlite3.Connection:
    return sqlite3.connect(home / "profiles" / "me" / "twin.db")


def _conversations(home: Path) -> dict[str, int]:
    with _db(home) as conn:
        return dict(conn.execute("SELECT conversation_id, count(*) FROM messages GROUP BY 1").fetchall())


def _fts_hits(home: Path, word: str) -> int:
    with _db(home) as conn:
        conn.execute("INSERT INTO writing_fts (writing_fts) VALUES ('integrity-check')")
        return conn.execute("SELECT count(*) FROM writing_fts WHERE writing_fts MATCH ?", (word,)).fetchone()[0]


def _copies(home: Path) -> list[str]:
    return sorted(p.name for p in (home / "profiles" / "me" / "exports").rglob("*") if p.is_file())


def test_extracted_chat_after_its_zip_is_not_doubled(tmp_path: Path, twin_home: Path) -> None:
    zipped = _zip(tmp_path / "WhatsApp Chat - Priya.zip")
    (tmp_path / "unzipped").mkdir()
    extracted = write_chat(tmp_path / "unzipped", "_chat.txt")
    first = twin_json("ingest", str(zipped), "-p", "me", home=twin_home)
    second = twin_json("ingest", str(extracted), "-p", "me", home=twin_home)
    assert first["files"][0]["new"] == 6
    assert second["files"][0]["messages"] == 6 and second["files"][0]["new"] == 0
    assert second["files"][0]["merged_into"] == ["whatsapp:Priya"]
    listed = twin_json("messages", "conversations", "-p", "me", home=twin_home)
    assert [(c["conversation"], c["messages"]) for c in listed] == [("whatsapp:Priya", 6)]
    # A longer re-export under yet another name adds only the new message, to the same chat.
    later = CHAT + "14/01/2024, 07:50 - Thota Rao: No worries, see you soon\n"
    longer = write_chat(tmp_path, "WhatsApp Chat with Priya Sharma.txt", later)
    third = twin_json("ingest", str(longer), "-p", "me", home=twin_home)
    assert third["files"][0]["new"] == 1 and third["files"][0]["merged_into"] == ["whatsapp:Priya"]
    assert _conversations(twin_home) == {"whatsapp:Priya": 7}


def test_zip_after_its_extracted_chat_joins_the_first_import(tmp_path: Path, twin_home: Path) -> None:
    extracted = write_chat(tmp_path, "_chat.txt")
    twin_json("ingest", str(extracted), "-p", "me", home=twin_home)
    report = twin_json("ingest", str(_zip(tmp_path / "WhatsApp Chat - Priya.zip")), "-p", "me", home=twin_home)
    assert report["files"][0]["new"] == 0 and report["files"][0]["merged_into"] == ["whatsapp:_chat"]
    assert _conversations(twin_home) == {"whatsapp:_chat": 6}


def test_a_different_chat_at_the_same_times_stays_apart(tmp_path: Path, twin_home: Path) -> None:
    twin_json("ingest", str(write_chat(tmp_path)), "-p", "me", home=twin_home)
    other = CHAT.replace("Priya", "Sam").replace("Saturday", "Sunday").replace("station", "harbour")
    other = other.replace("5 minutes", "ten minutes").replace("north entrance", "ferry gate")
    report = twin_json(
        "ingest", str(write_chat(tmp_path, "WhatsApp Chat with Sam.txt", other)), "-p", "me", home=twin_home
    )
    assert "merged_into" not in report["files"][0]
    assert _conversations(twin_home) == {"whatsapp:Priya": 6, "whatsapp:Sam": 6}


def test_forget_source_removes_only_what_no_other_import_holds(tmp_path: Path, twin_home: Path) -> None:
    zipped = _zip(tmp_path / "WhatsApp Chat - Priya.zip")
    later = CHAT + "14/01/2024, 07:50 - Thota Rao: Heading to the harbour now\n"
    longer = write_chat(tmp_path, "WhatsApp Chat with Priya.txt", later)
    twin_json("ingest", str(zipped), "-p", "me", home=twin_home)
    twin_json("ingest", str(longer), "-p", "me", home=twin_home)
    assert _fts_hits(twin_home, "harbour") == 1 and _fts_hits(twin_home, "station") == 1
    assert len(_copies(twin_home)) == 2

    out = twin_json("messages", "forget", "--source", longer.name, "--yes", "-p", "me", home=twin_home)
    assert out["messages"] == 1 and out["kept"] == 6 and out["copies_removed"] == 1
    assert [i["source"] for i in out["imports"]] == [longer.name]
    assert _conversations(twin_home) == {"whatsapp:Priya": 6}
    assert _fts_hits(twin_home, "harbour") == 0 and _fts_hits(twin_home, "station") == 1
    assert _copies(twin_home) == ["WhatsApp Chat - Priya.zip"]
    assert [i["source"] for i in twin_json("messages", "imports", "-p", "me", home=twin_home)] == [zipped.name]

    digest = twin_json("messages", "imports", "-p", "me", home=twin_home)[0]["sha256"][:12]
    out = twin_json("messages", "forget", "--source", digest, "--yes", "-p", "me", home=twin_home)
    assert out["messages"] == 6 and out["kept"] == 0
    assert _conversations(twin_home) == {} and _copies(twin_home) == []
    assert _fts_hits(twin_home, "station") == 0
    with _db(twin_home) as conn:
        assert conn.execute("SELECT count(*) FROM message_sources").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM imports").fetchone()[0] == 0
    # Forgotten means gone: importing the file again brings everything back.
    again = twin_json("ingest", str(longer), "-p", "me", home=twin_home)
    assert again["files"][0]["new"] == 7


def test_forget_a_message_kept_by_a_remaining_import_points_at_it(tmp_path: Path, twin_home: Path) -> None:
    first = write_chat(tmp_path, "WhatsApp Chat with Priya.txt")
    (tmp_path / "later").mkdir()
    second = write_chat(tmp_path / "later", "_chat.txt", CHAT + "14/01/2024, 08:00 - Priya: Here now\n")
    twin_json("ingest", str(first), "-p", "me", home=twin_home)
    twin_json("ingest", str(second), "-p", "me", home=twin_home)
    out = twin_json("messages", "forget", "--source", first.name, "--yes", "-p", "me", home=twin_home)
    assert out["messages"] == 0 and out["kept"] == 6
    with _db(twin_home) as conn:
        sources = conn.execute("SELECT DISTINCT source FROM messages").fetchall()
        dangling = conn.execute(
            "SELECT count(*) FROM messages WHERE source_sha256 NOT IN (SELECT source_sha256 FROM imports)"
        ).fetchone()[0]
    assert sources == [("_chat.txt",)] and dangling == 0
    assert _conversations(twin_home) == {"whatsapp:Priya": 7}


def test_the_same_bytes_under_two_names_are_one_import(tmp_path: Path, twin_home: Path) -> None:
    first = write_chat(tmp_path, "WhatsApp Chat with Priya.txt")
    (tmp_path / "copy").mkdir()
    second = write_chat(tmp_path / "copy", "_chat.txt")
    twin_json("ingest", str(first), "-p", "me", home=twin_home)
    twin_json("ingest", str(second), "-p", "me", home=twin_home)
    assert [i["source"] for i in twin_json("messages", "imports", "-p", "me", home=twin_home)] == [first.name]
    assert _copies(twin_home) == ["WhatsApp Chat with Priya.txt", "_chat.txt"]
    out = twin_json("messages", "forget", "--source", "_chat.txt", "--yes", "-p", "me", home=twin_home)
    assert out["messages"] == 6 and out["copies_removed"] == 1
    assert _conversations(twin_home) == {} and _copies(twin_home) == []


def test_forget_conversation(tmp_path: Path, twin_home: Path) -> None:
    twin_json("ingest", str(write_chat(tmp_path)), "-p", "me", home=twin_home)
    other = write_chat(tmp_path, "WhatsApp Chat with Sam.txt", CHAT.replace("Priya", "Sam").replace("Saturday", "Sun"))
    twin_json("ingest", str(other), "-p", "me", home=twin_home)
    out = twin_json("messages", "forget", "--conversation", "whatsapp:Priya", "--yes", "-p", "me", home=twin_home)
    assert out["messages"] == 6 and out["copies_removed"] == 1
    assert _conversations(twin_home) == {"whatsapp:Sam": 6}
    assert _copies(twin_home) == ["WhatsApp Chat with Sam.txt"]


def test_forget_needs_confirmation_and_a_known_target(tmp_path: Path, twin_home: Path) -> None:
    chat = write_chat(tmp_path)
    twin_json("ingest", str(chat), "-p", "me", home=twin_home)
    refused = twin_json("messages", "forget", "--source", chat.name, "-p", "me", home=twin_home, check=False)
    assert refused["error"]["code"] == "invalid_input" and "--yes" in refused["error"]["hint"]
    assert "6 message(s)" in refused["error"]["message"]
    plain = twin("messages", "forget", "--source", chat.name, "-p", "me", home=twin_home, check=False)
    assert plain.returncode == 2 and "--yes" in plain.stderr
    assert _conversations(twin_home) == {"whatsapp:Priya": 6} and len(_copies(twin_home)) == 1
    typo = twin_json(
        "messages",
        "forget",
        "--source",
        "WhatsApp Chat with Pria.txt",
        "--yes",
        "-p",
        "me",
        home=twin_home,
        check=False,
    )
    assert typo["error"]["code"] == "not_found" and chat.name in typo["error"]["hint"]
    both = twin_json(
        "messages",
        "forget",
        "--source",
        chat.name,
        "--conversation",
        "whatsapp:Priya",
        "--yes",
        "-p",
        "me",
        home=twin_home,
        check=False,
    )
    assert both["error"]["code"] == "invalid_input"
    assert _conversations(twin_home) == {"whatsapp:Priya": 6}


def test_migration_links_messages_stored_before_it(tmp_path: Path, twin_home: Path) -> None:
    """A store from before message_sources existed gets every message linked to its import."""
    twin_json("ingest", str(write_chat(tmp_path)), "-p", "me", home=twin_home)
    with _db(twin_home) as conn:
        conn.executescript(
            "DROP TRIGGER message_sources_insert; DROP TABLE message_sources; DROP INDEX messages_whatsapp_time; "
            "DELETE FROM schema_migrations WHERE version = 6;"
        )
    profile = ProfileManager(load_settings()).get("me")
    conn = connect(profile)
    try:
        assert conn.execute("SELECT count(*) FROM message_sources").fetchone()[0] == 6
    finally:
        conn.close()
    out = twin_json(
        "messages", "forget", "--source", "WhatsApp Chat with Priya.txt", "--yes", "-p", "me", home=twin_home
    )
    assert out["messages"] == 6
