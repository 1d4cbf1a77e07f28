"""Broadcast mail is flagged and kept out of the dataset: what the owner sent to a hidden audience
(bcc), group mail the owner is not named in (list), and mail the owner got only as a hidden
recipient (bcc_only)."""

from __future__ import annotations

import json
from pathlib import Path

from support.ingest_cli import twin, twin_json
from twin.dataset.builder import build_dataset
from twin.dataset.config import EXCLUDED_FLAGS, DatasetConfig
from twin.profiles import ProfileManager
from twin.settings import load_settings

DATA = Path(__file__).resolve().parents[1] / "data"
BROADCAST = DATA / "email" / "broadcast"


def _flags_by_subject(home: Path, tmp_path: Path) -> dict[str, list[str]]:
    out = tmp_path / "messages.jsonl"
    twin("messages", "export", "-p", "me", "--out", str(out), home=home)
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    return {r["subject"]: r["flags"] for r in records if r["format"] != "whatsapp"}


def test_broadcast_mail_is_flagged(tmp_path: Path, twin_home: Path) -> None:
    report = twin_json("ingest", str(BROADCAST), "-p", "me", "--me", "thota@example.com", home=twin_home)
    assert all(f["error"] is None for f in report["files"])
    assert _flags_by_subject(twin_home, tmp_path) == {
        "We're moving! New address from 1 April": ["bcc"],  # To: the owner, Bcc: friends and family
        "Housewarming on Saturday 13 April": ["bcc"],  # To: undisclosed-recipients:;
        "Re: Housewarming on Saturday 13 April": [],  # a reply to one person is personal mail
        "Office closed on Friday 29 March": ["list"],  # to all-staff@, the owner not named
        "Intro: Dana, meet the new climbing group": ["bcc_only"],  # the owner only in Bcc
    }


def test_flags_follow_a_change_of_identity(tmp_path: Path, twin_home: Path) -> None:
    twin_json("ingest", str(BROADCAST), str(DATA / "email" / "list.eml"), "-p", "me", home=twin_home)
    # Inferred from the Sent folder: the owner is thota@example.com.
    flags = _flags_by_subject(twin_home, tmp_path)
    assert flags["We're moving! New address from 1 April"] == ["bcc"]
    assert flags["[news] Weekly digest"] == ["list"]  # from its list headers, whoever the owner is
    # Someone else as the owner: the owner-dependent flags follow, the parsed list flag stays.
    twin_json("profile", "set-me", "dana@example.org", "-p", "me", home=twin_home)
    flags = _flags_by_subject(twin_home, tmp_path)
    assert flags["We're moving! New address from 1 April"] == ["bcc_only"]  # Dana was one of the Bcc
    assert flags["Intro: Dana, meet the new climbing group"] == []  # Dana is named in To now
    assert flags["Office closed on Friday 29 March"] == ["list"]  # group mail Dana is not named in either
    assert flags["Re: Housewarming on Saturday 13 April"] == []  # to Priya, not to Dana: not Dana's to judge
    assert flags["[news] Weekly digest"] == ["list"]


def test_broadcast_mail_stays_out_of_the_dataset(twin_home: Path) -> None:
    from twin.ingest.service import ingest_paths

    assert {"bcc", "list", "bcc_only"} <= set(EXCLUDED_FLAGS)
    settings = load_settings()
    profile = ProfileManager(settings).create("me")
    chat = DATA / "whatsapp" / "WhatsApp Chat with Priya.txt"
    ingest_paths(profile, [BROADCAST, chat], settings, aliases=["Thota Rao", "thota@example.com"])
    built = build_dataset(profile, "broadcast", DatasetConfig(refuse_below=1, languages=[], min_chars=2), force=True)
    dropped = built["messages"]["dropped"]
    assert dropped.get("flag_bcc") == 2 and dropped.get("flag_list") == 1 and dropped.get("flag_bcc_only") == 1
    out = profile.dataset_dir("broadcast")
    text = (out / "train.jsonl").read_text(encoding="utf-8") + (out / "val.jsonl").read_text(encoding="utf-8")
    assert text.strip(), "the chat still gives samples"
    for broadcast in ("Lindenstraße", "Bring nothing but yourselves", "office will be closed", "north wall"):
        assert broadcast not in text
