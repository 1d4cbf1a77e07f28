"""Conformance on ../shared/corpus (skipped when absent): every WhatsApp .txt sample parses without
an exception, and the chat-miner samples give exactly the messages of their target.json."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from twin.ingest import whatsapp
from twin.ingest.record import ParsedMessage, Skipped
from twin.ingest.source import Source

pytestmark = pytest.mark.corpus

_WHATSAPP_DIRS = (
    "WhatsR",
    "whats_json",
    "whatstk/chats",
    "chat-analytics/tests/samples/whatsapp",
    "port-whatsapp-datadonation",
    "chat-miner",
)


def _samples(corpus: Path) -> list[Path]:
    found: list[Path] = []
    for d in _WHATSAPP_DIRS:
        found += sorted(p for p in (corpus / d).rglob("*.txt") if p.is_file())
    return found


def test_every_whatsapp_sample_parses(corpus: Path) -> None:
    samples = _samples(corpus)
    assert samples, "no WhatsApp samples found in the corpus"
    failures: dict[str, str] = {}
    for path in samples:
        try:
            out = list(whatsapp.parse(Source.from_path(path, "whatsapp")))
            msgs = [r for r in out if isinstance(r, ParsedMessage)]
            skipped = [r for r in out if isinstance(r, Skipped)]
            if not msgs:
                failures[path.name] = "no messages"
            elif any(m.timestamp is None for m in msgs):
                failures[path.name] = "a message without timestamp"
            elif skipped:
                failures[path.name] = f"{len(skipped)} skipped lines"
            elif not whatsapp.sniff(path.read_bytes().decode("utf-8-sig", errors="replace")[:4096]):
                failures[path.name] = "not recognized by sniff()"
        except Exception as exc:  # noqa: BLE001 - the report names every failing sample
            failures[path.name] = repr(exc)
    passed = len(samples) - len(failures)
    print(f"\nWhatsApp corpus: {passed}/{len(samples)} samples parse cleanly ({passed / len(samples):.0%})")
    assert not failures, failures


def test_chat_miner_targets(corpus: Path) -> None:
    folder = corpus / "chat-miner" / "test" / "whatsapp"
    if not folder.is_dir():
        pytest.skip("chat-miner samples are not in the corpus")
    target = {
        (datetime.fromisoformat(t["timestamp"]), t["author"], t["message"])
        for t in json.loads((folder / "target.json").read_text(encoding="utf-8"))
    }
    samples = sorted(folder.glob("*.txt"))
    matched = 0
    for path in samples:
        msgs = [r for r in whatsapp.parse(Source.from_path(path, "whatsapp")) if isinstance(r, ParsedMessage)]
        # chat-miner keeps messages with an author and joins a message's lines with a space.
        got = {(m.timestamp, m.sender, m.text.replace("\n", " ")) for m in msgs if m.kind != "system"}
        matched += got == target
        assert got == target, path.name
    print(f"\nchat-miner targets: {matched}/{len(samples)} samples match")


def test_known_kinds_in_localized_samples(corpus: Path) -> None:
    """Each whats_json iOS locale sample holds the same chat: the same kinds must come out."""
    folder = corpus / "whats_json" / "test" / "data" / "ios"
    if not folder.is_dir():
        pytest.skip("whats_json samples are not in the corpus")
    reference = None
    for path in sorted(folder.glob("WhatsApp Chat - Elon Musk (*).txt")):
        kinds = [r.kind for r in whatsapp.parse(Source.from_path(path, "whatsapp")) if isinstance(r, ParsedMessage)]
        if reference is None:
            reference = kinds
        assert kinds == reference, path.name
        assert kinds.count("deleted") == 2 and kinds.count("system") == 3, path.name


def test_zip_exports_stream_their_chat(corpus: Path) -> None:
    """The chat inside each sample .zip parses from a member stream (never extracted to disk)."""
    import zipfile

    zips = sorted(p for d in _WHATSAPP_DIRS for p in (corpus / d).rglob("*.zip"))
    if not zips:
        pytest.skip("no WhatsApp .zip samples in the corpus")
    for path in zips:
        with zipfile.ZipFile(path) as zf:
            members = [n for n in zf.namelist() if n.endswith(".txt") and not n.startswith("__MACOSX/")]
        assert members, path.name

        def opener(path: Path = path, member: str = members[0]):  # noqa: ANN202
            return zipfile.ZipFile(path).open(member)

        src = Source(name=f"{path.name}!{members[0]}", format="whatsapp", opener=opener, container=path.name)
        msgs = [r for r in whatsapp.parse(src) if isinstance(r, ParsedMessage)]
        assert msgs and all(m.timestamp for m in msgs), path.name
        assert msgs[0].conversation_id == f"whatsapp:{whatsapp.chat_title(src)}"
