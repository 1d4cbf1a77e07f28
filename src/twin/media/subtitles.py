"""Subtitles → cues: SRT, VTT and ASS/SSA read by pysubs2 (the ASS actor field included), legacy
encodings detected by charset-normalizer, speaker labels kept (`JACK: …`, `- [Jack] …`, actor), sound
descriptions marked, and broken timings repaired or dropped with a reason."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from twin.errors import InvalidInput, MissingDependency, ParseError

MAX_BYTES = 20 * 1024 * 1024
_CAPS_LABEL = re.compile(r"^([A-Z][A-Z0-9.'\-]*(?: [A-Z][A-Z0-9.'\-]*){0,2}):\s+(?=\S)")
_TITLE_LABEL = re.compile(r"^([A-Z][a-z][A-Za-z.'\-]*(?: [A-Z][A-Za-z.'\-]*){0,1}):\s+(?=\S)")
_BRACKET_LABEL = re.compile(r"^[\[(]([A-Z][A-Za-z.'\-]*(?: [A-Z][A-Za-z.'\-]*){0,2})[\])]\s*(?=\S)")
_SOUND_ONLY = re.compile(r"^\s*(?:[\[(][^\])]*[\])]\s*|♪[^♪]*♪?\s*|#.*)+$")
_SOUND_WORDS = {"music", "laughs", "laughing", "applause", "sighs", "gasps", "cheering", "silence", "thunder", "door"}


@dataclass
class Cue:
    index: int  # position in the file after sorting, 1-based
    start: float  # seconds
    end: float
    text: str  # dialogue text, labels and sound tags removed, lines joined with " "
    speaker: str | None = None  # label from the subtitles when present
    lines: list[dict[str, str | None]] = field(default_factory=list)  # per dash-line {speaker, text}
    multi_speaker: bool = False  # "- Hi. - Hello." cues: two people in one cue
    repaired: str | None = None  # why the timing was changed

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Cue:
        return cls(**d)


@dataclass
class SubtitleResult:
    cues: list[Cue]
    encoding: str
    format: str
    dropped: list[dict[str, Any]] = field(default_factory=list)
    labelled: int = 0

    def report(self) -> dict[str, Any]:
        return {
            "cues": len(self.cues),
            "encoding": self.encoding,
            "format": self.format,
            "labelled": self.labelled,
            "repaired": sum(1 for c in self.cues if c.repaired),
            "dropped": self.dropped[:50],
            "dropped_count": len(self.dropped),
        }


def decode_text(raw: bytes, name: str, encoding: str | None = None) -> tuple[str, str]:
    """(text, encoding): the given encoding, else UTF-8/UTF-16 with BOM, strict UTF-8, then charset-normalizer.

    Short subtitle files leave several legacy code pages nearly equally plausible; among the guesses
    about as clean as the best one, the most language-coherent wins (cp1252 on a tie: the usual one)."""
    if encoding:
        try:
            return raw.decode(encoding), encoding
        except (LookupError, UnicodeDecodeError) as exc:
            raise ParseError(
                f"{name}: cannot be read as {encoding} ({type(exc).__name__}).",
                "Leave out --subtitle-encoding to detect it, or name the right one (e.g. cp1252, latin-1, utf-16).",
            ) from None
    for bom, enc in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if raw.startswith(bom):
            return raw.decode(enc), enc
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        from charset_normalizer import from_bytes
    except ImportError:
        raise MissingDependency.for_extra("Reading legacy subtitle encodings", "media", "charset_normalizer") from None
    matches = list(from_bytes(raw))
    if not matches:
        raise ParseError(
            f"{name}: cannot tell which text encoding the subtitles use.",
            "Pass --subtitle-encoding (e.g. cp1252) or convert the file to UTF-8 (iconv -f cp1252 -t utf-8).",
        )
    floor = min(m.chaos for m in matches) + 0.1
    best = max((m for m in matches if m.chaos <= floor), key=lambda m: (m.coherence, m.encoding == "cp1252"))
    return str(best), best.encoding


def _split_label(line: str) -> tuple[str | None, str]:
    for rx in (_BRACKET_LABEL, _CAPS_LABEL, _TITLE_LABEL):
        m = rx.match(line)
        if m and m.group(1).lower() not in _SOUND_WORDS:
            return _title(m.group(1)), line[m.end() :].strip()
    return None, line


def _title(label: str) -> str:
    return label.title() if label.isupper() else label


def _clean(text: str) -> str:
    text = re.sub(r"[\[(][^\])]*[\])]", " ", text)  # sound descriptions inside a line
    text = text.replace("♪", " ")
    return " ".join(text.split())


def parse_lines(plain: str, actor: str) -> tuple[str | None, list[dict[str, str | None]], bool]:
    """(cue speaker, per-line speakers and texts, two speakers in one cue)."""
    raw = [ln.strip() for ln in plain.splitlines() if ln.strip()]
    dashed = sum(1 for ln in raw if ln.startswith(("-", "–")))
    lines: list[dict[str, str | None]] = []
    for ln in raw:
        body = ln.lstrip("-– ").strip() if dashed >= 2 or ln.startswith(("-", "–")) else ln
        who, text = _split_label(body)
        text = _clean(text)
        if not text:
            continue
        if dashed >= 2 or not lines or who:
            lines.append({"speaker": who, "text": text})
        else:
            lines[-1]["text"] = f"{lines[-1]['text']} {text}"
    multi = dashed >= 2 and len(lines) >= 2
    speakers = {ln["speaker"] for ln in lines if ln["speaker"]}
    speaker = actor.strip() or (next(iter(speakers)) if len(speakers) == 1 and not multi else None)
    return speaker or None, lines, multi


def load_subtitles(path: Path, encoding: str | None = None) -> SubtitleResult:
    """Read a subtitle file into cues; a clear error naming the file when nothing usable is in it."""
    try:
        import pysubs2
    except ImportError:
        raise MissingDependency.for_extra("Reading subtitles", "media", "pysubs2") from None
    if not path.is_file():
        raise InvalidInput(f"{path}: no such subtitle file.", "Check the path given to --subtitles.")
    if path.stat().st_size > MAX_BYTES:
        raise InvalidInput(
            f"{path.name}: {path.stat().st_size} bytes is too large for a subtitle file.",
            "Pass the film's subtitle file (SRT, VTT, ASS), not another file.",
        )
    text, encoding = decode_text(path.read_bytes(), path.name, encoding)
    try:
        subs = pysubs2.SSAFile.from_string(text)
    except Exception as exc:  # pysubs2 raises several format errors
        raise ParseError(
            f"{path.name}: not a readable subtitle file ({type(exc).__name__}).",
            "Use SRT, WebVTT or ASS/SSA subtitles; check that the file is complete.",
        ) from None
    result = SubtitleResult([], encoding, str(subs.format or path.suffix.lstrip(".")))
    for i, ev in enumerate(subs, 1):
        if ev.is_comment:
            continue
        plain = ev.plaintext
        if not plain.strip() or _SOUND_ONLY.match(plain.replace("\n", " ")):
            continue
        speaker, lines, multi = parse_lines(plain, ev.name or "")
        body = " ".join(str(ln["text"]) for ln in lines)
        if not body:
            continue
        result.cues.append(Cue(i, ev.start / 1000.0, ev.end / 1000.0, body, speaker, lines, multi))
    _repair_timings(result, path.name)
    result.labelled = sum(1 for c in result.cues if c.speaker or any(ln["speaker"] for ln in c.lines))
    if not result.cues:
        raise ParseError(
            f"{path.name}: no dialogue cues with usable timings.",
            "Check that it is a subtitle file for this film, or leave out --subtitles to transcribe instead.",
        )
    return result


def _repair_timings(result: SubtitleResult, name: str) -> None:
    """Sort by start; drop negative or absurd cues; give zero/negative-length cues a reading-speed length
    bounded by the next cue. More than half broken means the file's timings are unusable."""
    cues = sorted(result.cues, key=lambda c: (c.start, c.end))
    kept: list[Cue] = []
    broken = 0
    for j, c in enumerate(cues):
        if c.start < 0 or c.start > 24 * 3600:
            result.dropped.append(
                {"index": c.index, "text": c.text[:80], "reason": f"start {c.start:.2f} s is invalid"}
            )
            broken += 1
            continue
        if c.end <= c.start or c.end - c.start > 30:
            broken += 1
            nxt = cues[j + 1].start if j + 1 < len(cues) else c.start + 30
            guess = min(max(1.0, len(c.text) / 15.0), 8.0)
            end = min(c.start + guess, nxt) if nxt > c.start else c.start + guess
            c.repaired = f"end {c.end:.2f} s was {'before the start' if c.end <= c.start else 'over 30 s later'}"
            c.end = round(end, 3)
        kept.append(c)
    if cues and broken > len(cues) / 2:
        raise ParseError(
            f"{name}: {len(cues)} cues, {broken} with broken timings (end before start, negative or absurd times).",
            "The timings are damaged: use another subtitle file, or leave out --subtitles to transcribe.",
        )
    for n, c in enumerate(kept, 1):
        c.index = n
    result.cues = kept
