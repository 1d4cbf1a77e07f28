"""Bounded parsing: a giant line or message is skipped (or, for mail, cut) with a counted reason while
memory stays flat, the valid messages around it are stored, what was parsed before a failure is kept,
and a file that yielded nothing leaves no copy behind."""

from __future__ import annotations

import io
import sqlite3
import tarfile
import tracemalloc
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from twin.errors import UnsafeArchive
from twin.ingest.archive import SafeArchive
from twin.ingest.service import IngestReport, ingest_paths
from twin.profiles import Profile, ProfileManager
from twin.settings import IngestLimits, Settings, load_settings

MB = 1024**2
GIANT = 200 * MB  # one line this long: far beyond every limit, small enough for a test machine's disk
MANY_LINES = 12 * MB  # of short lines, twelve times the message limit (each line costs parsing time)
_BLOCK = b"x" * MB


@pytest.fixture
def settings(twin_home: Path) -> Settings:
    return load_settings()


@pytest.fixture
def profile(settings: Settings) -> Profile:
    return ProfileManager(settings).create("me")


@contextmanager
def peak_memory() -> Iterator[list[int]]:
    """Peak bytes allocated by Python inside the block (tracemalloc), reported in the list."""
    out: list[int] = []
    tracemalloc.start()
    try:
        yield out
    finally:
        out.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()


def _write_giant(f: io.BufferedWriter, size: int, line: bytes = b"") -> None:
    """`size` bytes of one line (no newline), or of many copies of `line` when given."""
    block = (line * (MB // len(line))) if line else _BLOCK
    for _ in range(size // len(block)):
        f.write(block)


def _chat_line(i: int, who: str = "Priya") -> bytes:
    return f"01/03/2024, {10 + i // 60:02d}:{i % 60:02d} - {who}: message number {i}\n".encode()


def _stored(profile: Profile) -> int:
    with sqlite3.connect(profile.db_path) as conn:
        return conn.execute("SELECT count(*) FROM messages").fetchone()[0]


def _kept_copies(profile: Profile) -> list[Path]:
    return [p for p in profile.exports_dir.rglob("*") if p.is_file()] if profile.exports_dir.exists() else []


def _run(profile: Profile, settings: Settings, *paths: Path) -> tuple[IngestReport, int]:
    with peak_memory() as peak:
        report = ingest_paths(profile, list(paths), settings)
    return report, peak[0]


def test_giant_whatsapp_line_is_skipped_and_the_chat_around_it_is_stored(
    tmp_path: Path, profile: Profile, settings: Settings
) -> None:
    path = tmp_path / "WhatsApp Chat with Priya.txt"
    with path.open("wb") as f:
        for i in range(100):
            f.write(_chat_line(i))
        f.write(b"01/03/2024, 12:00 - Priya: ")
        _write_giant(f, GIANT)
        f.write(b"\n")
        for i in range(130, 140):
            f.write(_chat_line(i))
    report, peak = _run(profile, settings, path)
    entry = report.files[0]
    assert entry.error is None
    assert entry.messages == 110 and _stored(profile) == 110
    assert entry.skipped == {"line_too_long": 1}
    assert peak < 16 * MB, f"peak {peak / MB:.0f} MB for a {GIANT / MB:.0f} MB line"
    assert len(_kept_copies(profile)) == 1


def test_giant_chat_message_of_many_lines_is_skipped(tmp_path: Path, profile: Profile, settings: Settings) -> None:
    path = tmp_path / "WhatsApp Chat with Priya.txt"
    with path.open("wb") as f:
        f.write(_chat_line(0))
        f.write(b"01/03/2024, 11:00 - Priya: a pasted log follows\n")
        _write_giant(f, MANY_LINES, b"log line without a timestamp\n")
        f.write(_chat_line(90))
    report, peak = _run(profile, settings, path)
    entry = report.files[0]
    assert entry.messages == 2 and entry.skipped == {"message_too_large": 1}
    assert peak < 16 * MB, f"peak {peak / MB:.0f} MB"


def _mail(i: int, body: bytes = b"short note\n") -> bytes:
    return (
        b"From a@example.com Mon Jan  1 00:00:00 2024\n"
        + f"From: A <a@example.com>\nTo: b@example.com\nSubject: note {i}\nMessage-ID: <m{i}@example.com>\n".encode()
        + b"Content-Type: text/plain\n\n"
        + body
        + b"\n"
    )


def test_giant_mail_keeps_its_text_and_the_mailbox_around_it(
    tmp_path: Path, profile: Profile, settings: Settings
) -> None:
    path = tmp_path / "Inbox.mbox"
    with path.open("wb") as f:
        for i in range(100):
            f.write(_mail(i))
        f.write(
            b"From a@example.com Mon Jan  1 00:00:00 2024\nFrom: A <a@example.com>\nTo: b@example.com\n"
            b"Subject: the big one\nMessage-ID: <big@example.com>\n"
            b'Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\n'
            b"Here is the video from the weekend.\n--b\nContent-Type: video/mp4\n"
            b"Content-Transfer-Encoding: base64\n\n"
        )
        _write_giant(f, GIANT, b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAx")
        f.write(b"\n")
        f.write(b"--b--\n\n")
        for i in range(100, 110):
            f.write(_mail(i))
    report, peak = _run(profile, settings, path)
    entry = report.files[0]
    assert entry.error is None
    assert entry.messages == 111 and _stored(profile) == 111
    assert entry.skipped == {"message_truncated": 1}
    with sqlite3.connect(profile.db_path) as conn:
        text, extra = conn.execute("SELECT text, extra FROM messages WHERE subject = 'the big one'").fetchone()
    assert text == "Here is the video from the weekend." and '"truncated"' in extra
    limit = settings.ingest.max_message_bytes
    assert peak < 10 * limit, f"peak {peak / MB:.0f} MB with a {limit / MB:.0f} MB message limit"


def test_mail_limit_is_a_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, profile: Profile) -> None:
    monkeypatch.setenv("TWIN_INGEST_MAX_MESSAGE_BYTES", str(64 * 1024))
    settings = load_settings()
    path = tmp_path / "note.eml"
    head = b"From: A <a@example.com>\nTo: b@example.com\nSubject: notes\nMessage-ID: <n@example.com>\n\n"
    path.write_bytes(head + b"see the log below\n\n" + b"zzzzzzzz\n" * 30_000)
    report = ingest_paths(profile, [path], settings)
    assert report.files[0].messages == 1 and report.files[0].skipped == {"message_truncated": 1}
    with sqlite3.connect(profile.db_path) as conn:
        (text,) = conn.execute("SELECT text FROM messages").fetchone()
    assert text.startswith("see the log below") and len(text) < 64 * 1024


def test_mailbox_that_yields_nothing_fails_and_keeps_no_copy(
    tmp_path: Path, profile: Profile, settings: Settings
) -> None:
    path = tmp_path / "junk.mbox"
    with path.open("wb") as f:
        f.write(b"From nobody\n")
        _write_giant(f, GIANT)
    report, peak = _run(profile, settings, path)
    entry = report.files[0]
    assert entry.messages == 0 and entry.error and "Nothing could be imported" in entry.error
    assert not report.readable
    assert _kept_copies(profile) == [] and _stored(profile) == 0
    assert list(profile.exports_dir.iterdir()) == []  # no staging folder left either
    assert peak < 10 * settings.ingest.max_message_bytes


def test_what_was_parsed_before_a_failure_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A Takeout mailbox member that expands beyond the member limit fails part-way: every message read
    before the failure is stored, not only the full write batches, and the copy is kept."""
    limit = 2 * MB
    monkeypatch.setenv("TWIN_INGEST_MAX_MEMBER_BYTES", str(limit))
    settings = load_settings()
    profile = ProfileManager(settings).create("me")
    mails = [_mail(i, b"words " * 50 + b"\n") for i in range(10_000)]
    complete_before_limit = sum(1 for end in _ends(mails) if end <= limit)
    path = tmp_path / "takeout.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("Takeout/Mail/All mail.mbox", b"".join(mails))
    report = ingest_paths(profile, [path], settings)
    entry = report.files[0]
    assert entry.error and "expands beyond the allowed size" in entry.error
    assert complete_before_limit % 2000, "the test needs a partial write batch"
    assert complete_before_limit - 2 <= entry.messages <= complete_before_limit
    assert _stored(profile) == entry.messages
    assert len(_kept_copies(profile)) == 1


def _ends(chunks: list[bytes]) -> Iterator[int]:
    end = 0
    for c in chunks:
        end += len(c)
        yield end


def test_tar_with_a_giant_extended_header_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "export.tar"
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tf:
        info = tarfile.TarInfo("_chat.txt")
        info.pax_headers = {"comment": "y" * (3 * MB)}
        data = _chat_line(1)
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    limits = IngestLimits(max_archive_index_bytes=MB)
    with peak_memory() as peak, pytest.raises(UnsafeArchive, match="extended header"):
        SafeArchive(path, limits)
    assert peak[0] < MB
    with SafeArchive(path, IngestLimits()) as archive:  # the default limit lets a real one through
        assert [m.name for m in archive.members] == ["_chat.txt"]


def test_zip_whose_index_is_too_large_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "many.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for i in range(3000):
            zf.writestr(f"chat-{i:05d}-{'n' * 200}.txt", b"")
    with pytest.raises(UnsafeArchive, match="index"):
        SafeArchive(path, IngestLimits(max_archive_index_bytes=256 * 1024))
    with pytest.raises(UnsafeArchive, match="3000 members"):
        SafeArchive(path, IngestLimits(max_archive_members=1000))


def test_giant_subtitle_cue_is_skipped(tmp_path: Path, profile: Profile, settings: Settings) -> None:
    path = tmp_path / "film.srt"
    with path.open("wb") as f:
        f.write(b"1\n00:00:01,000 --> 00:00:02,000\nHello there.\n\n2\n00:00:03,000 --> 00:00:04,000\n")
        _write_giant(f, GIANT)
        f.write(b"\n\n3\n00:00:05,000 --> 00:00:06,000\nGoodbye.\n")
    report, peak = _run(profile, settings, path)
    entry = report.files[0]
    assert entry.messages == 2 and entry.skipped == {"line_too_long": 1}
    assert peak < 16 * MB, f"peak {peak / MB:.0f} MB"
