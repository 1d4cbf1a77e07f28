"""Outlook .msg/.pst: clear errors with an export hint for what cannot be read."""

from __future__ import annotations

import io
import sys

import pytest

from twin.errors import MissingDependency, ParseError, UnsupportedFormat
from twin.ingest.email.outlook import EXPORT_HINT, parse_msg, parse_pst
from twin.ingest.source import Source


def _src(data: bytes, fmt: str) -> Source:
    return Source(name=f"mail.{fmt}", format=fmt, opener=lambda: io.BytesIO(data))


def test_msg_that_is_not_ole_is_a_parse_error() -> None:
    pytest.importorskip("extract_msg")
    with pytest.raises(ParseError) as err:
        list(parse_msg(_src(b"From: a@b\n\nnot an outlook file", "msg")))
    assert "readpst" in err.value.hint and "Export" in err.value.hint


def test_damaged_ole_msg_is_a_parse_error() -> None:
    pytest.importorskip("extract_msg")
    with pytest.raises(ParseError):
        list(parse_msg(_src(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "msg")))


def test_msg_without_extract_msg_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "extract_msg", None)
    with pytest.raises(MissingDependency) as err:
        list(parse_msg(_src(b"x", "msg")))
    assert "twin[outlook]" in err.value.hint


def test_pst_without_libpff_says_how_to_export(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pypff", None)
    with pytest.raises(UnsupportedFormat) as err:
        list(parse_pst(_src(b"!BDN....", "pst")))
    assert err.value.hint == EXPORT_HINT
    assert "File" in EXPORT_HINT and "readpst" in EXPORT_HINT and "pst-utils" in EXPORT_HINT


def test_non_pst_bytes_are_a_parse_error() -> None:
    pytest.importorskip("pypff")
    with pytest.raises(ParseError):
        list(parse_pst(_src(b"definitely not a pst", "pst")))


def test_damaged_pst_is_a_parse_error() -> None:
    pytest.importorskip("pypff")
    with pytest.raises(ParseError):
        list(parse_pst(_src(b"!BDN" + b"\0" * 1000, "pst")))
