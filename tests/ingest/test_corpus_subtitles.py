"""Conformance on ../shared/corpus (skipped when absent): every .srt/.vtt sample parses without an
exception, and every well-formed sample yields cues."""

from __future__ import annotations

from pathlib import Path

import pytest

from twin.ingest import subtitles
from twin.ingest.record import ParsedMessage
from twin.ingest.source import Source

pytestmark = pytest.mark.corpus

# Samples that are broken or empty on purpose: they must not raise, but may yield no cue.
_NO_CUES_EXPECTED = {
    "empty.vtt",
    "no_captions.vtt",
    "invalid_format1.srt",
    "invalid_format2.srt",
    "invalid_format3.srt",
    "invalid_format4.srt",
}


def test_every_subtitle_sample_parses(corpus: Path) -> None:
    samples = sorted(p for p in corpus.rglob("*") if p.suffix in (".srt", ".vtt") and p.is_file())
    assert samples, "no subtitle samples found in the corpus"
    failures: dict[str, str] = {}
    for path in samples:
        try:
            out = list(subtitles.parse(Source.from_path(path, path.suffix[1:])))
            cues = subtitles.read_cues(path.read_bytes(), path.suffix[1:])
            msgs = [r for r in out if isinstance(r, ParsedMessage)]
            if not msgs and path.name not in _NO_CUES_EXPECTED:
                failures[path.name] = "no cues"
            elif any(c.end_ms < c.start_ms for c in cues):
                failures[path.name] = "cue ends before it starts"
            elif any("<" in m.text and ">" in m.text and "</" in m.text for m in msgs):
                failures[path.name] = "markup left in text"
        except Exception as exc:  # noqa: BLE001 - the report names every failing sample
            failures[path.name] = repr(exc)
    passed = len(samples) - len(failures)
    print(f"\nSubtitle corpus: {passed}/{len(samples)} samples parse ({passed / len(samples):.0%})")
    assert not failures, failures


def test_encodings_agree(corpus: Path) -> None:
    folder = corpus / "pysrt" / "tests" / "static"
    if not folder.is_dir():
        pytest.skip("pysrt samples are not in the corpus")
    reference = subtitles.read_cues((folder / "bom-utf-8.srt").read_bytes(), "srt")
    for name in ("bom-utf-16-be.srt", "bom-utf-16-le.srt", "bom-utf-32-be.srt", "bom-utf-32-le.srt"):
        assert subtitles.read_cues((folder / name).read_bytes(), "srt") == reference, name
    utf8 = subtitles.read_cues((folder / "utf-8.srt").read_bytes(), "srt")
    cp1252 = subtitles.read_cues((folder / "windows-1252.srt").read_bytes(), "srt")
    assert [c.text for c in cp1252] == [c.text for c in utf8]
