"""Property tests: the WhatsApp parser never raises anything but ParseError, whatever it is fed."""

from __future__ import annotations

import contextlib
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twin.errors import ParseError
from twin.ingest import whatsapp
from twin.ingest.record import ParsedMessage, Skipped
from twin.ingest.source import Source

_MARKS = st.sampled_from(["", "\u200e", "\u200f", "\ufeff", "\u202a", "\u202c", "\u202f", "\u00a0"])
_NUM = st.one_of(st.integers(0, 40).map(str), st.integers(0, 40).map("{:02d}".format), st.integers(0, 9999).map(str))
_HOUR = st.integers(0, 29).map(str)
_MIN = st.integers(0, 69).map("{:02d}".format)
_HEADER = st.builds(
    lambda m1, a, s1, b, s2, c, sep, hh, mm, ss, ampm, m2, br, rest: (
        f"{m1}{'[' if br else ''}{a}{s1}{b}{s2}{c}{sep}{hh}:{mm}{ss}{ampm}{']' if br else ' -'} {m2}{rest}"
    ),
    _MARKS,
    _NUM,
    st.sampled_from("/.-"),
    _NUM,
    st.sampled_from("/.-"),
    st.one_of(_NUM, st.sampled_from(["R4", "H30", "2565 BE"])),
    st.sampled_from([", ", " ", ",\u202f", "، "]),
    _HOUR,
    _MIN,
    st.sampled_from(["", ":00", ".59", ":99"]),
    st.sampled_from(["", " AM", "\u202fPM", " p. m.", " a.\u00a0m.", " 午後"]),
    _MARKS,
    st.booleans(),
    st.text(max_size=40),
)
_LINE = st.one_of(_HEADER, st.text(max_size=60))


def _source(text: str) -> Source:
    data = text.encode("utf-8", errors="surrogatepass")
    return Source(name="h.txt", format="whatsapp", opener=lambda: io.BytesIO(data), container="h.txt")


def _run(text: str) -> None:
    try:
        out = list(whatsapp.parse(_source(text)))
    except ParseError:
        return
    for r in out:
        assert isinstance(r, ParsedMessage | Skipped)
        if isinstance(r, ParsedMessage):
            assert r.kind in ("text", "media", "system", "deleted")
            assert r.locator.startswith("L")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_LINE, max_size=12))
def test_header_like_lines_never_crash(lines: list[str]) -> None:
    _run("\n".join(lines))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_never_crashes(text: str) -> None:
    _run(text)
    assert isinstance(whatsapp.sniff(text), bool)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_crash(data: bytes) -> None:
    src = Source(name="b.txt", format="whatsapp", opener=lambda: io.BytesIO(data), container="b.txt")
    with contextlib.suppress(ParseError):
        list(whatsapp.parse(src))
