"""Email parsing: headers, charsets, transfer encodings, thread ids, flags, sent hints (own fixtures)."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from twin.ingest.email import eml, looks_like_eml, looks_like_mbox, mbox
from twin.ingest.email.headers import is_sent_folder, normalize_subject
from twin.ingest.email.message import parse_bytes
from twin.ingest.record import ParsedMessage, Skipped
from twin.ingest.source import Source

DATA = Path(__file__).resolve().parents[1] / "data" / "email"


def _one(name: str, **hints: object) -> ParsedMessage:
    out = list(eml.parse(Source.from_path(DATA / name, "eml", **hints)))
    assert len(out) == 1 and isinstance(out[0], ParsedMessage), out
    return out[0]


def _mbox(name: str, **hints: object) -> list[ParsedMessage | Skipped]:
    return list(mbox.parse(Source.from_path(DATA / name, "mbox", **hints)))


def _stream_source(data: bytes, fmt: str, **hints: object) -> Source:
    """An archive-member-like source: no path, only a stream opener."""
    return Source(name="archive.zip!member", format=fmt, opener=lambda: io.BytesIO(data), hints=dict(hints))


def test_takeout_mbox_threads_labels_and_unescaped_from_line() -> None:
    msgs = _mbox("takeout.mbox")
    assert all(isinstance(m, ParsedMessage) for m in msgs)
    assert len(msgs) == 3  # the "From what I remember" body line did not split message 1
    first, second, third = msgs
    assert "From what I remember you liked the Thai place." in first.text
    assert "From the menu: green curry." in first.text  # mboxrd '>From' unescaped
    assert first.locator == "@0" and second.locator.startswith("@") and int(second.locator[1:]) > 0
    assert first.sent_hint and not second.sent_hint
    assert first.extra["labels"] == ["Sent", "Opened", "Category Personal"]
    assert first.sender == "Thota Rao" and first.sender_address == "thota@example.com"
    assert first.conversation_id == second.conversation_id == third.conversation_id == "email:<dinner-1@example.com>"
    assert second.text == "Yes! 8 works."  # "On … wrote:" wrapped over two lines + '>' block removed
    assert third.text == "See you there."  # CRLF message, "Sent from my iPhone" removed
    assert second.timestamp == datetime(2024, 3, 5, 11, 2, tzinfo=timezone(timedelta(hours=1)))
    assert second.extra["in_reply_to"] == "<dinner-1@example.com>"
    assert third.extra["references"] == ["<dinner-1@example.com>", "<dinner-2@example.org>"]
    assert second.recipients == ["thota@example.com"]


def test_mbox_offsets_point_at_from_lines() -> None:
    data = (DATA / "takeout.mbox").read_bytes()
    for m in _mbox("takeout.mbox"):
        assert data[int(m.locator[1:]) :].startswith(b"From ")


def test_apple_mail_rfc2047_base64_2231_and_outlook_german_block() -> None:
    first, second = _mbox("apple_sent.mbox", folder="Sent Messages")
    assert isinstance(first, ParsedMessage) and isinstance(second, ParsedMessage)
    assert first.sender == "Thota Räo"
    assert first.subject == "AW: Treffen nächste Woche"
    assert first.extra["to"] == ["juergen@example.de"] and first.extra["cc"] == ["team@example.de"]
    assert first.recipients == ["juergen@example.de", "team@example.de"]
    assert first.text == "Grüße aus München! Das Treffen passt mir."  # '-- ' signature gone, pdf ignored
    assert first.sent_hint and second.sent_hint  # Apple's "Sent Messages" folder
    assert first.conversation_id == "email:<treffen-1@example.de>"
    assert second.conversation_id == "email:<budget-0@example.de>"
    assert second.text == "Das Budget ist freigegeben, schön!"  # quoted-printable latin-1, Ursprüngliche Nachricht


def test_html_only_outlook_reply_with_unknown_charset() -> None:
    m = _one("outlook_html.eml")
    assert m.text == "Looks good to me — let's ship it.\n\nThota"
    assert m.locator == "<plan-3@example.com>"
    assert m.timestamp is not None and m.timestamp.utcoffset() == timedelta(hours=-4)


def test_alternative_prefers_plain_and_flags_forward() -> None:
    m = _one("gmail_alternative.eml")
    assert m.text == "Here are the tickets for Sunday."
    assert "forwarded" in m.flags


def test_auto_reply_with_bad_date_is_kept() -> None:
    m = _one("auto_reply.eml")
    assert m.flags == ["auto_reply"]
    assert m.timestamp is None
    assert m.message_id is None
    assert m.conversation_id == "email-subject:project plan"
    assert m.locator == "auto_reply.eml"


def test_list_and_bounce_flags() -> None:
    lst = _one("list.eml")
    assert "list" in lst.flags and lst.extra["list_id"] == "Weekly News <news.list.example>"
    bounce = _one("bounce.eml")
    assert "bounce" in bounce.flags
    assert bounce.text == "Your message could not be delivered."  # delivery-status part not in the text


def test_raw_8bit_headers_decode_with_the_body_charset() -> None:
    m = _one("raw8bit.eml")
    assert m.sender == "Jürgen Müller" and m.subject == "Schöne Grüße"
    assert m.text == "Schöne Grüße aus Köln."


def test_many_recipients_is_a_list_mail_and_bcc_is_reported() -> None:
    to = ", ".join(f"p{i}@example.com" for i in range(12))
    raw = (f"From: a@example.com\nTo: {to}\nBcc: Thota@Example.com\nSubject: hi\nMessage-ID: <x@y>\n\nhello\n").encode()
    m = parse_bytes(raw, "L1")
    assert isinstance(m, ParsedMessage)
    assert "list" in m.flags and m.extra["bcc"] == ["thota@example.com"]


@pytest.mark.parametrize(
    "subject", ["Out of Office: Re: plan", "Abwesenheitsnotiz: Treffen", "Réponse automatique : x"]
)
def test_auto_reply_subjects(subject: str) -> None:
    m = parse_bytes(f"From: a@b.c\nSubject: {subject}\n\nbody\n".encode(), "L1")
    assert isinstance(m, ParsedMessage) and "auto_reply" in m.flags


def test_auto_submitted_no_is_not_auto_reply() -> None:
    m = parse_bytes(b"From: a@b.c\nAuto-Submitted: no\nSubject: x\n\nbody\n", "L1")
    assert isinstance(m, ParsedMessage) and m.flags == []


def test_undecodable_pieces_never_raise() -> None:
    raw = (
        b"From: =?bogus-charset?q?N=E4me?= <a@b.c>\nSubject: =?utf-8?B?###?=\n"
        b"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n%%%not base64\xff\n"
    )
    m = parse_bytes(raw, "L1")
    assert isinstance(m, ParsedMessage) and m.sender_address == "a@b.c"


def test_no_header_block_is_skipped_with_reason() -> None:
    assert isinstance(parse_bytes(b"just some text\n", "L1"), Skipped)
    out = list(
        mbox.parse(_stream_source(b"garbage before\n\nFrom a@b Mon Jan 1 00:00:00 2024\nFrom: x@y\n\nhi\n", "mbox"))
    )
    assert isinstance(out[0], Skipped) and out[0].reason == "not_a_message"
    assert isinstance(out[1], ParsedMessage) and out[1].text == "hi"


def test_streamed_source_and_maildir_hint() -> None:
    data = (DATA / "raw8bit.eml").read_bytes()
    out = list(eml.parse(_stream_source(data, "maildir", folder=".Sent")))
    assert isinstance(out[0], ParsedMessage) and out[0].sent_hint


def test_sniffers() -> None:
    assert looks_like_mbox((DATA / "takeout.mbox").read_bytes()[:4096])
    assert not looks_like_mbox((DATA / "list.eml").read_bytes()[:4096])
    assert looks_like_eml((DATA / "list.eml").read_bytes()[:4096])
    assert not looks_like_eml((DATA / "takeout.mbox").read_bytes()[:4096])
    assert not looks_like_eml(b"[12/01/2024, 10:00:00] Priya: hi\n")
    assert not looks_like_mbox(b"From here on we go\nto the park\n")


@pytest.mark.parametrize(
    ("subject", "norm"),
    [
        ("Re: RE: Fwd: Plan", "plan"),
        ("AW: WG: Treffen", "treffen"),
        ("SV: Fw: [team] Hello  World", "hello world"),
    ],
)
def test_normalize_subject(subject: str, norm: str) -> None:
    assert normalize_subject(subject) == norm


@pytest.mark.parametrize(
    "folder",
    [
        "Sent",
        "Sent Items",
        "[Gmail]/Sent Mail",
        "Gesendet",
        "Enviados",
        "Envoyés",
        "INBOX.Sent",
        "Sent Messages.mbox",
        ".Sent",
    ],
)
def test_sent_folders(folder: str) -> None:
    assert is_sent_folder(folder)


def test_inbox_is_not_sent() -> None:
    assert not is_sent_folder("INBOX") and not is_sent_folder("Sentimental")
