"""WhatsApp export parsing on the project's own synthetic fixtures (tests/data/whatsapp)."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from pathlib import Path

import pytest

from twin.errors import ParseError
from twin.ingest import whatsapp
from twin.ingest.record import ParsedMessage, Skipped
from twin.ingest.source import Source

DATA = Path(__file__).resolve().parents[1] / "data" / "whatsapp"


def _parse(name: str, container: str = "") -> list[ParsedMessage | Skipped]:
    return list(whatsapp.parse(Source.from_path(DATA / name, "whatsapp", container=container)))


def _messages(name: str) -> list[ParsedMessage]:
    return [r for r in _parse(name) if isinstance(r, ParsedMessage)]


def _text_source(text: str, name: str = "chat.txt", encoding: str = "utf-8") -> Source:
    data = text.encode(encoding)
    return Source(name=name, format="whatsapp", opener=lambda: io.BytesIO(data), container=name)


def test_android_group_chat_everything_classified() -> None:
    out = _parse("WhatsApp Chat with Priya.txt")
    assert out[0] == Skipped("unparseable_line", "L1", "Exported chat notes that are not part of any message")
    msgs = {m.locator: m for m in out if isinstance(m, ParsedMessage)}
    assert {m.conversation_id for m in msgs.values()} == {"whatsapp:Priya"}
    assert msgs["L2"].kind == "system" and msgs["L2"].sender is None
    # A quoted group name with ": " inside is still a system line, not a sender "Thota Rao created…".
    assert msgs["L3"].kind == "system" and msgs["L3"].text == 'Thota Rao created group "Trip: Goa 2023"'
    assert msgs["L4"].kind == "system"
    assert (msgs["L5"].sender, msgs["L5"].text, msgs["L5"].timestamp) == (
        "Priya",
        "Hi everyone!",
        datetime(2023, 3, 14, 9, 2),
    )
    # Multi-line message keeps its newlines, blank line included; the next message is at L10.
    assert msgs["L6"].text == "Plan for Saturday:\n1. pack\n\n2. leave at 6"
    assert msgs["L10"].sender == "+49 151 12345678" and msgs["L10"].sender_address == "+4915112345678"
    assert msgs["L11"].kind == "media" and msgs["L11"].text == "<Media omitted>"
    assert msgs["L12"].kind == "media" and msgs["L12"].text == "The beach"
    assert msgs["L12"].extra["attachment"] == "IMG-20230314-WA0001.jpg"
    assert msgs["L14"].kind == "deleted" and msgs["L14"].sender == "Thota Rao"
    assert msgs["L15"].text == "See you at 6" and msgs["L15"].extra == {"edited": True}
    assert msgs["L16"].kind == "media" and msgs["L16"].extra["location"].startswith("https://maps.google.com/")
    for loc in ("L17", "L18", "L19", "L20", "L21"):
        assert msgs[loc].kind == "system" and msgs[loc].sender is None, loc
    assert msgs["L22"].sender == "Thota Rao" and msgs["L22"].text == "Key: value, and a colon: inside"


def test_ios_12h_narrow_nbsp_marks_crlf_bom() -> None:
    msgs = {m.locator: m for m in _messages("WhatsApp Chat - Priya.txt")}
    assert msgs["L1"].kind == "system" and msgs["L1"].sender is None  # encryption notice "from" Priya
    assert msgs["L2"].timestamp == datetime(2023, 3, 14, 9, 1, 10) and msgs["L2"].text == "Good morning"
    assert msgs["L3"].kind == "media" and msgs["L3"].timestamp == datetime(2023, 3, 14, 12, 15)
    assert msgs["L4"].extra["attachment"] == "00000012-PHOTO-2023-03-14-12-16-00.jpg"
    assert msgs["L5"].kind == "media" and msgs["L5"].extra["attachment"] == "Itinerary.pdf"
    assert msgs["L6"].kind == "deleted" and msgs["L6"].timestamp == datetime(2023, 3, 14, 0, 0, 30)
    assert msgs["L7"].kind == "system" and msgs["L7"].timestamp == datetime(2023, 3, 14, 23, 59, 59)
    assert msgs["L8"].sender == "+1 (555) 010-2030" and msgs["L8"].sender_address == "+15550102030"
    assert msgs["L8"].text == "Late night,\nisn't it?"
    assert msgs["L10"].kind == "system"
    for m in msgs.values():
        assert not any(ch in m.text for ch in "\u200e\u200f\ufeff\u202a\u202c\r")


def test_german_localized() -> None:
    msgs = _messages("WhatsApp-Chat mit Priya.txt")
    assert [m.kind for m in msgs] == ["system", "system", "text", "media", "deleted", "media", "text"]
    assert msgs[0].timestamp == datetime(2018, 1, 29, 12, 24)
    assert msgs[5].extra["attachment"] == "PTT-20180130-WA0001.opus"
    assert msgs[6].text == "Bis später" and msgs[6].extra["edited"] is True
    assert {m.conversation_id for m in msgs} == {"whatsapp:Priya"}


def test_spanish_12h_with_spaces_inside_am_pm() -> None:
    msgs = _messages("Chat de WhatsApp con Priya.txt")
    assert [m.timestamp for m in msgs] == [
        datetime(2023, 3, 14, 21, 5),
        datetime(2023, 3, 14, 0, 5),
        datetime(2023, 3, 14, 12, 30),
        datetime(2023, 3, 14, 0, 31),
        datetime(2023, 3, 20, 10, 0),
    ]
    assert [m.kind for m in msgs] == ["text", "text", "deleted", "media", "text"]
    assert msgs[0].conversation_id == "whatsapp:Priya"


@pytest.mark.parametrize(
    ("name", "first", "second"),
    [
        ("ymd.txt", datetime(2023, 3, 14, 21, 5), datetime(2023, 3, 15, 7, 0)),
        ("iOS dotted times.txt", datetime(2023, 3, 14, 21, 5, 12), datetime(2023, 3, 14, 21, 6)),
        ("time first.txt", datetime(2023, 3, 14, 21, 5, 12), datetime(2023, 3, 15, 21, 6)),
        ("utf16.txt", datetime(2022, 12, 31, 23, 59), datetime(2023, 1, 1, 0, 0)),
    ],
)
def test_layouts_and_orders(name: str, first: datetime, second: datetime) -> None:
    msgs = _messages(name)
    assert [msgs[0].timestamp, msgs[1].timestamp] == [first, second]
    assert msgs[0].sender == "Priya" and msgs[1].sender == "Thota Rao"


def test_dotted_localized_media_and_deleted() -> None:
    assert [m.kind for m in _messages("iOS dotted times.txt")] == ["text", "media", "deleted"]


def test_date_order_inferred_from_all_lines() -> None:
    """Only the last line tells d/m from m/d; the first lines are ambiguous."""
    lines = [f"0{d}/0{d + 1}/21, 10:0{d} - A: line {d}" for d in range(1, 8)]
    src = _text_source("\n".join([*lines, "01/25/21, 10:00 - B: the 25th"]) + "\n")
    msgs = list(whatsapp.parse(src))
    assert msgs[0].timestamp == datetime(2021, 1, 2, 10, 1)  # m/d/y
    assert msgs[-1].timestamp == datetime(2021, 1, 25, 10, 0)
    src = _text_source("\n".join([*lines, "25/01/21, 10:00 - B: the 25th"]) + "\n")
    assert list(whatsapp.parse(src))[0].timestamp == datetime(2021, 2, 1, 10, 1)  # d/m/y


def test_ambiguous_order_prefers_chronology() -> None:
    # No field above 12. As m/d: 5 Jan, 3 Feb, 1 Mar (forward); as d/m: 1 May, 2 Mar, 3 Jan (back).
    text = "01/05/21, 10:00 - A: a\n02/03/21, 10:00 - A: b\n03/01/21, 10:00 - A: c\n"
    msgs = list(whatsapp.parse(_text_source(text)))
    assert [m.timestamp.month for m in msgs] == [1, 2, 3]
    # Reversed, d/m is the forward reading; and with no evidence at all d/m/y is the default.
    text = "05/01/21, 10:00 - A: a\n03/02/21, 10:00 - A: b\n01/03/21, 10:00 - A: c\n"
    assert [m.timestamp.month for m in whatsapp.parse(_text_source(text))] == [1, 2, 3]
    assert next(iter(whatsapp.parse(_text_source("01/02/21, 10:00 - A: a\n")))).timestamp.month == 2


def test_zip_member_streamed_twice() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("_chat.txt", (DATA / "WhatsApp Chat with Priya.txt").read_bytes())
    opened = []

    def opener() -> io.BufferedIOBase:
        opened.append(1)
        return zipfile.ZipFile(io.BytesIO(buf.getvalue())).open("_chat.txt")

    src = Source(
        name="WhatsApp Chat - Priya.zip!_chat.txt",
        format="whatsapp",
        opener=opener,
        container="WhatsApp Chat - Priya.zip",
    )
    msgs = [m for m in whatsapp.parse(src) if isinstance(m, ParsedMessage)]
    assert len(msgs) == 17 and msgs[0].conversation_id == "whatsapp:Priya"
    assert len(opened) == 2


def test_no_header_raises_parse_error() -> None:
    with pytest.raises(ParseError) as err:
        list(whatsapp.parse(_text_source("just some notes\nnothing else\n")))
    assert "notes" not in err.value.message and err.value.hint


def test_empty_message_and_self_destruct_line() -> None:
    text = "1/2/21, 10:00 - Carol:\n1/2/21, 10:01 - John Doe:.\n"
    msgs = list(whatsapp.parse(_text_source(text)))
    assert (msgs[0].sender, msgs[0].text) == ("Carol", "")
    assert msgs[1].kind == "system"


def test_windows_1252_export() -> None:
    text = "14/03/2023, 09:02 - Priya: Café au lait à Noël, très bien, dit la fée à l’été.\n"
    msgs = list(whatsapp.parse(_text_source(text, encoding="cp1252")))
    assert msgs[0].text == "Café au lait à Noël, très bien, dit la fée à l’été."


@pytest.mark.parametrize(
    ("container", "title"),
    [
        ("WhatsApp Chat with Priya.txt", "Priya"),
        ("WhatsApp Chat - Priya.zip", "Priya"),
        ("WhatsApp-Chat mit Priya.txt", "Priya"),
        ("Chat de WhatsApp con Priya.txt", "Priya"),
        ("Chat WhatsApp s\u00a0uživatelem Dmitry S.txt", "Dmitry S"),
        ("Чат WhatsApp с контактом Дима.txt", "Дима"),
        ("_chat.txt", "_chat"),
        ("family.txt", "family"),
    ],
)
def test_chat_title(container: str, title: str) -> None:
    src = Source(name="x", format="whatsapp", opener=lambda: io.BytesIO(b""), container=container)
    assert whatsapp.chat_title(src) == title


def test_sniff() -> None:
    for path in DATA.glob("*.txt"):
        raw = path.read_bytes()
        enc = "utf-16" if raw.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8-sig"
        assert whatsapp.sniff(raw.decode(enc)[:4096]), path.name
    assert not whatsapp.sniff("1\n00:00:01,000 --> 00:00:02,000\nHello\n\n2\n00:00:03,000 --> 00:00:04,000\nHi\n")
    assert not whatsapp.sniff("From: a@example.com\nTo: b@example.com\nSubject: hi\n\nbody\n")
    assert not whatsapp.sniff("")
