"""Subtitle parsing on the project's own fixtures (tests/data/subtitles) and generated encodings."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twin.errors import UnsupportedFormat
from twin.ingest import subtitles
from twin.ingest.record import ParsedMessage, Skipped
from twin.ingest.source import Source
from twin.ingest.subtitles import Cue, read_cues

DATA = Path(__file__).resolve().parents[1] / "data" / "subtitles"


def test_srt_traps() -> None:
    cues = read_cues((DATA / "basic.srt").read_bytes(), "srt")
    assert cues[0] == Cue(1, 1000, 2500, "Hello there", None)  # <i>, <font> removed
    assert cues[1] == Cue(2, 3000, 4000, "Up here.", "JOHN")  # {\an8} removed, NAME: label
    assert cues[2] == Cue(3, 5000, 6000, "No index on this one.", "Mary")  # no index, [Name] label
    assert cues[3].text == ""  # empty cue, blank lines
    assert cues[4].text == "First line\nafter a stray blank line"
    assert cues[5].text == "No blank line before the next index"
    assert (cues[6].start_ms, cues[6].end_ms, cues[6].text) == (13000, 14000, "No milliseconds")
    assert cues[7].text == "[laughs] not a speaker" and cues[7].speaker is None
    assert len(cues) == 8  # the cue without timing and the one with a broken timing are left out


def test_srt_parse_reports_broken_blocks() -> None:
    src = Source.from_path(DATA / "basic.srt", "srt")
    out = list(subtitles.parse(src))
    skipped = sorted(r.reason for r in out if isinstance(r, Skipped))
    assert skipped == ["bad_timing", "empty_cue", "missing_timing"]
    msgs = [r for r in out if isinstance(r, ParsedMessage)]
    assert len(msgs) == 7
    first = msgs[0]
    assert (first.locator, first.conversation_id, first.timestamp, first.kind) == (
        "cue 1",
        "subtitles:basic",
        None,
        "text",
    )
    assert first.extra == {"start_ms": 1000, "end_ms": 2500, "index": 1}
    assert msgs[1].sender == "JOHN"


def test_vtt_header_notes_styles_voices_and_tags() -> None:
    cues = read_cues((DATA / "sample.vtt").read_bytes(), "vtt")
    assert cues == [
        Cue(1, 1000, 2500, "Hi there", "Priya"),
        Cue(2, 3000, 4000, "Karaoke style & more", "Thota Rao"),
        Cue(3, 5000, 6000, "Plain caption", None),
    ]


def test_windows_1252() -> None:
    cues = read_cues((DATA / "cp1252.srt").read_bytes(), "srt")
    assert cues[0].text.startswith("C’est déjà l’été")
    assert "20 € – à prendre" in cues[1].text


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-be"])
def test_bom_encodings(encoding: str) -> None:
    text = (DATA / "basic.srt").read_text(encoding="utf-8")
    data = text.encode(encoding)
    if encoding in ("utf-16-le", "utf-16-be", "utf-32-be"):
        data = "\ufeff".encode(encoding) + data
    assert read_cues(data, "srt") == read_cues((DATA / "basic.srt").read_bytes(), "srt")


def test_crlf_lf_and_cr_agree() -> None:
    crlf = (DATA / "basic.srt").read_bytes()
    assert b"\r\n" in crlf
    assert read_cues(crlf.replace(b"\r\n", b"\n"), "srt") == read_cues(crlf, "srt")
    assert read_cues(crlf.replace(b"\r\n", b"\r"), "srt") == read_cues(crlf, "srt")


def test_conversation_from_archive_member_name() -> None:
    data = (DATA / "sample.vtt").read_bytes()
    src = Source(name="movie.zip!subs/Movie.en.vtt", format="vtt", opener=lambda: io.BytesIO(data))
    assert {m.conversation_id for m in subtitles.parse(src)} == {"subtitles:Movie.en"}


def test_unknown_format() -> None:
    with pytest.raises(UnsupportedFormat):
        read_cues(b"", "sbv")


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("0123456789:,.-> \n\r\tabc<>/{}\\[]ivWEBVTNOSLYRG&;")), max_size=300),
    st.sampled_from(["srt", "vtt"]),
)
def test_any_text_never_crashes(text: str, fmt: str) -> None:
    for cue in read_cues(text.encode("utf-8"), fmt):
        assert cue.start_ms <= cue.end_ms and cue.index >= 1
