"""Google Takeout archives and Apple Mail folders through the real CLI, identity inferred from Sent mail."""

from __future__ import annotations

import shutil
import tarfile
import zipfile
from pathlib import Path

import pytest

from support.ingest_cli import CHAT, twin_json

DATA = Path(__file__).resolve().parents[1] / "data"
TAKEOUT_MBOX = DATA / "email" / "takeout.mbox"


@pytest.mark.parametrize("kind", ["tgz", "zip"])
def test_takeout_archive_is_read_in_place_and_infers_the_owner(tmp_path: Path, twin_home: Path, kind: str) -> None:
    member = "Takeout/Mail/All mail Including Spam and Trash.mbox"
    if kind == "tgz":
        archive = tmp_path / "takeout-20240301T000000Z-001.tgz"
        with tarfile.open(archive, "w:gz") as tf:
            tf.add(TAKEOUT_MBOX, arcname=member)
            tf.add(DATA / "email" / "gmail_alternative.eml", arcname="Takeout/archive_browser.html.eml")
    else:
        archive = tmp_path / "takeout-20240301T000000Z-001.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.write(TAKEOUT_MBOX, member)
            zf.writestr("Takeout/archive_browser.html", "<html></html>")
    before = sorted(p.name for p in tmp_path.iterdir())
    report = twin_json("ingest", str(archive), "--profile", "me", home=twin_home)
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing extracted beside the archive
    mbox = next(f for f in report["files"] if f["format"] == "mbox")
    assert mbox["path"].endswith("!" + member) and mbox["error"] is None and mbox["messages"] >= 2
    assert report["identity"]["addresses"] == ["thota@example.com"]
    assert "Sent mail" in report["identity_basis"]
    assert mbox["mine"] >= 1


def test_apple_mail_mbox_folder(tmp_path: Path, twin_home: Path) -> None:
    folder = tmp_path / "Sent Messages.mbox"
    folder.mkdir()
    shutil.copy(DATA / "email" / "apple_sent.mbox", folder / "mbox")
    (folder / "table_of_contents").write_bytes(b"\0\1binary index")
    report = twin_json("ingest", str(folder), "--profile", "me", home=twin_home)
    assert [f["format"] for f in report["files"]] == ["mbox"]
    assert report["files"][0]["messages"] >= 1 and report["identity"] is not None


def test_whatsapp_and_takeout_in_one_run_do_not_mix_identities(tmp_path: Path, twin_home: Path) -> None:
    chat = tmp_path / "WhatsApp Chat with Priya.txt"
    chat.write_text(CHAT, encoding="utf-8")
    report = twin_json(
        "ingest",
        str(chat),
        str(TAKEOUT_MBOX),
        "--profile",
        "me",
        "--me",
        "Thota Rao",
        "--me",
        "thota@example.com",
        home=twin_home,
    )
    by_format = {f["format"]: f for f in report["files"]}
    assert by_format["whatsapp"]["mine"] == 2 and by_format["mbox"]["mine"] >= 1


def test_maildir_in_a_tgz_is_read_in_one_pass(tmp_path: Path, twin_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A maildir of many messages inside a .tgz: the archive is opened (and, being compressed, scanned)
    a fixed number of times, not once per message."""
    import io

    from twin.ingest import archive as archive_module
    from twin.ingest.service import ingest_paths
    from twin.profiles import ProfileManager
    from twin.settings import load_settings

    path = tmp_path / "mail-backup.tgz"
    with tarfile.open(path, "w:gz") as tf:
        for i in range(300):
            data = (
                f"From: Priya <priya@example.org>\nTo: thota@example.com\nSubject: note {i}\n"
                f"Message-ID: <n{i}@example.org>\nDate: Mon, 1 Jan 2024 10:00:00 +0000\n\nnote number {i}\n"
            ).encode()
            info = tarfile.TarInfo(f"Mail/INBOX/cur/{1704103200 + i}.M{i}.host:2,S")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    opened = []
    real_init = archive_module.SafeArchive.__init__

    def counting_init(self: archive_module.SafeArchive, *args: object, **kwargs: object) -> None:
        opened.append(1)
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(archive_module.SafeArchive, "__init__", counting_init)
    settings = load_settings()
    report = ingest_paths(ProfileManager(settings).create("me"), [path], settings)
    assert [(f.format, f.messages, f.error) for f in report.files] == [("maildir", 300, None)]
    assert len(opened) <= 3
