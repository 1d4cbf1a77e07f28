"""The streaming mbox splitter: no bytes lost, no exception on any input, the cpython 93376 trap."""

from __future__ import annotations

import io
import mailbox
import tracemalloc

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twin.ingest.email import mbox
from twin.ingest.record import ParsedMessage, Skipped
from twin.ingest.source import Source

TRAP = (
    b"From MAILER-DAEMON Sun Aug  7 11:40:37 2022 extra\nFrom: foo@example.com\nSubject: trap\n\n"
    b"Hello\n\nFrom time to time\nthings happen.\n"
)


def _source(data: bytes) -> Source:
    return Source(name="x.mbox", format="mbox", opener=lambda: io.BytesIO(data))


def test_unescaped_from_line_does_not_split(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = list(mbox.parse(_source(TRAP)))
    assert len(out) == 1 and isinstance(out[0], ParsedMessage)
    assert out[0].text == "Hello\n\nFrom time to time\nthings happen."
    path = tmp_path / "trap.mbox"
    path.write_bytes(TRAP)
    assert len(mailbox.mbox(str(path))) == 2  # the stdlib splits it (the bug this reader avoids)


def test_separator_needs_header_after_it() -> None:
    data = TRAP + b"\nFrom someone@example.com Mon Jan  1 00:00:00 2024\nSubject: two\n\nsecond\n"
    out = list(mbox.parse(_source(data)))
    assert [m.subject for m in out if isinstance(m, ParsedMessage)] == ["trap", "two"]


def test_empty_and_tiny_inputs() -> None:
    assert list(mbox.parse(_source(b""))) == []
    out = list(mbox.parse(_source(b"\n")))
    assert len(out) == 1 and isinstance(out[0], Skipped)
    assert all(isinstance(m, Skipped) for m in mbox.parse(_source(b"From ")))


_line = st.one_of(
    st.sampled_from(
        [
            b"From a@b Mon Jan  1 00:00:00 2024\n",
            b"From \n",
            b"\n",
            b"\r\n",
            b"Subject: x\n",
            b">From y\n",
            b"From: q@r\n",
            b"body text\n",
            b"=?utf-8?q?=E2?=\n",
            b"Content-Type: text/html\n",
            b"Content-Type: multipart/mixed; boundary=b\n",
            b"--b\n",
            b"<p>x</p>\n",
        ]
    ),
    st.binary(max_size=40),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_line, max_size=40))
def test_split_loses_no_bytes_and_parse_never_raises(lines: list[bytes]) -> None:
    data = b"".join(lines)
    chunks = list(mbox.split(io.BytesIO(data)))
    assert b"".join(c.data for c in chunks) == data
    pos = 0
    for offset, chunk, size in chunks:
        assert offset == pos and size == len(chunk)
        pos += len(chunk)
    for item in mbox.parse(_source(data)):
        assert isinstance(item, ParsedMessage | Skipped)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes(data: bytes) -> None:
    assert b"".join(c.data for c in mbox.split(io.BytesIO(data))) == data
    for item in mbox.parse(_source(b"From a@b Mon Jan  1 00:00:00 2024\n" + data)):
        assert isinstance(item, ParsedMessage | Skipped)


def _peak_parsing(n: int) -> int:
    msg = (
        b"From a@b Mon Jan  1 00:00:00 2024\nFrom: A <a@b.c>\nSubject: s\nMessage-ID: <m@x>\n\n"
        + b"some text here\n" * 20
        + b"\n"
    )
    data = msg * n
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        count = sum(1 for _ in mbox.parse(_source(data)))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == n
    return peak


def test_memory_stays_flat_in_file_size() -> None:
    """Peak memory while parsing does not grow with the number of messages (the input bytes object
    itself was allocated before tracing started)."""
    small, large = _peak_parsing(500), _peak_parsing(4000)
    assert large < small * 2
