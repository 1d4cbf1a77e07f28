"""Segments (one speaker's stretch of speech) from diarization frames, their text from the cues and
ASR words, the RTTM file, and the corrections a user makes (kept apart so a rerun never loses them)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from twin.errors import InvalidInput, NotFound
from twin.media.diarize import FRAME_S, Diarization
from twin.media.project import Project
from twin.media.subtitles import Cue


@dataclass
class Segment:
    id: str
    start: float
    end: float
    speaker: str  # cluster id: S1, S2, …
    text: str = ""
    words: list[dict[str, Any]] = field(default_factory=list)
    overlap: bool = False
    other_speaker: str | None = None  # the second voice of an overlap
    quality: float = 0.0  # mean similarity of its windows to the speaker's centroid
    labels: list[str] = field(default_factory=list)  # subtitle speaker labels on its cues
    character: str | None = None  # resolved: a correction, else the speaker's name
    dropped: bool = False
    edited: bool = False

    @property
    def duration(self) -> float:
        return self.end - self.start

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Segment:
        return cls(**d)


def speaker_id(index: int) -> str:
    return f"S{index + 1}"


def _smooth(labels: np.ndarray, width: int = 5) -> np.ndarray:
    """Mode filter over `width` frames inside speech (removes single-frame label flicker)."""
    out = labels.copy()
    half = width // 2
    for i in np.flatnonzero(labels >= 0):
        win = labels[max(0, i - half) : i + half + 1]
        win = win[win >= 0]
        out[i] = np.bincount(win).argmax()
    return out


def frames_to_segments(d: Diarization, min_s: float) -> list[Segment]:
    labels = _smooth(d.frame_labels)
    runs: list[list[int]] = []  # [start frame, end frame, label, overlap]
    for i, (lab, ov) in enumerate(zip(labels, d.frame_overlap, strict=True)):
        if lab < 0:
            continue
        if runs and runs[-1][1] == i and runs[-1][2] == lab and runs[-1][3] == int(ov):
            runs[-1][1] = i + 1
        else:
            runs.append([i, i + 1, int(lab), int(ov)])
    runs = _absorb_short(runs, int(round(min_s / FRAME_S)))
    segs = []
    for n, (a, b, lab, ov) in enumerate(runs):
        other = d.frame_second[a:b]
        other = other[other >= 0]
        segs.append(
            Segment(
                id=f"s{n + 1:05d}",
                start=round(a * FRAME_S, 2),
                end=round(b * FRAME_S, 2),
                speaker=speaker_id(lab),
                overlap=bool(ov),
                other_speaker=speaker_id(int(np.bincount(other).argmax())) if ov and len(other) else None,
                quality=round(float(np.mean(d.frame_score[a:b])), 3),
            )
        )
    return segs


def _absorb_short(runs: list[list[int]], min_frames: int) -> list[list[int]]:
    """A short non-overlap run glued between neighbours joins the neighbour it touches (longer first)."""
    changed = True
    while changed:
        changed = False
        for i, r in enumerate(runs):
            if r[1] - r[0] >= min_frames or r[3]:
                continue
            prev = runs[i - 1] if i > 0 and runs[i - 1][1] == r[0] and not runs[i - 1][3] else None
            nxt = runs[i + 1] if i + 1 < len(runs) and runs[i + 1][0] == r[1] and not runs[i + 1][3] else None
            target = max((x for x in (prev, nxt) if x), key=lambda x: x[1] - x[0], default=None)
            if target is None:
                continue
            target[0], target[1] = min(target[0], r[0]), max(target[1], r[1])
            runs.pop(i)
            merged = [runs[0]]
            for x in runs[1:]:
                if x[0] == merged[-1][1] and x[2] == merged[-1][2] and x[3] == merged[-1][3]:
                    merged[-1][1] = x[1]
                else:
                    merged.append(x)
            runs[:] = merged
            changed = True
            break
    return runs


def _overlap_s(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def attach_text(segs: list[Segment], cues: list[Cue], words: list[dict[str, Any]]) -> None:
    """Give each cue's text (or each dash line of a two-speaker cue) to the segment it falls in; words by midpoint."""
    texts: dict[str, list[str]] = {s.id: [] for s in segs}
    starts = np.array([s.start for s in segs])
    for c in cues:
        lo = max(0, int(np.searchsorted(starts, c.start - 30)))
        near = [s for s in segs[lo:] if s.start < c.end and s.end > c.start]
        if not near:
            continue
        if c.multi_speaker and len(c.lines) >= 2:
            _split_lines(c, near, texts)
            continue
        best = max(near, key=lambda s: _overlap_s(s.start, s.end, c.start, c.end))
        texts[best.id].append(c.text)
        if c.speaker:
            best.labels.append(c.speaker)
    for s in segs:
        s.text = " ".join(texts[s.id])
    wstarts = np.array([w["start"] for w in words]) if words else np.zeros(0)
    for s in segs:
        lo, hi = int(np.searchsorted(wstarts, s.start - 2)), int(np.searchsorted(wstarts, s.end))
        s.words = [w for w in words[lo:hi] if s.start <= (w["start"] + w["end"]) / 2 < s.end]
        if not s.text and s.words:
            s.text = " ".join(w["text"] for w in s.words).strip()


def _split_lines(c: Cue, near: list[Segment], texts: dict[str, list[str]]) -> None:
    """Dash lines follow speaker turns: line i goes to the i-th run of a new speaker inside the cue."""
    turns: list[Segment] = []
    for s in sorted(near, key=lambda s: s.start):
        if not turns or s.speaker != turns[-1].speaker:
            turns.append(s)
    for i, line in enumerate(c.lines):
        seg = turns[min(i, len(turns) - 1)]
        texts[seg.id].append(str(line["text"]))
        if line.get("speaker"):
            seg.labels.append(str(line["speaker"]))


def write_rttm(path: Path, uri: str, segs: list[Segment]) -> None:
    """Standard RTTM (SPEAKER <uri> 1 <onset> <duration> <NA> <NA> <name> <NA> <NA>); overlaps add the second voice."""
    lines = []
    for s in segs:
        if s.dropped:
            continue
        who = [s.character or s.speaker]
        if s.overlap and s.other_speaker:
            who.append(s.other_speaker)
        for name in who:
            label = "_".join(str(name).split())
            lines.append(f"SPEAKER {uri} 1 {s.start:.3f} {s.duration:.3f} <NA> <NA> {label} <NA> <NA>")
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text("\n".join(lines) + ("\n" if lines else ""), encoding="utf-8")
    tmp.replace(path)


def read_rttm(path: Path) -> list[tuple[float, float, str]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) >= 8 and parts[0] == "SPEAKER":
            start, dur = float(parts[3]), float(parts[4])
            out.append((start, start + dur, parts[7]))
    return out


# ---- corrections -------------------------------------------------------------------------------


def load_corrections(project: Project) -> dict[str, Any]:
    if project.has("corrections.json"):
        data = project.read_json("corrections.json")
        data.setdefault("names", {})
        data.setdefault("segments", [])
        return data
    return {"names": {}, "segments": []}


def save_corrections(project: Project, data: dict[str, Any]) -> None:
    project.write_json("corrections.json", data)


def apply_corrections(segs: list[Segment], names: dict[str, str], fixes: list[dict[str, Any]]) -> None:
    """Resolve each segment's character (speaker name, then a per-segment fix matched by time overlap)."""
    for s in segs:
        s.character, s.dropped, s.edited = names.get(s.speaker), False, False
    for fix in fixes:
        for s in segs:
            ov = _overlap_s(s.start, s.end, fix["start"], fix["end"])
            if ov < 0.5 * min(s.duration, fix["end"] - fix["start"]):
                continue
            if "character" in fix:
                s.character = fix["character"]
            if fix.get("dropped") is not None:
                s.dropped = bool(fix["dropped"])
            if fix.get("text") is not None:
                s.text, s.edited = str(fix["text"]), True


def load_segments(project: Project) -> list[Segment]:
    data = project.read_json("segments.json")
    return [Segment.from_dict(d) for d in data["segments"]]


def save_segments(project: Project, segs: list[Segment]) -> None:
    project.write_json("segments.json", {"segments": [s.to_dict() for s in segs]})
    write_rttm(project.path("diarization.rttm"), project.id, segs)


def find_segment(segs: list[Segment], segment_id: str) -> Segment:
    for s in segs:
        if s.id == segment_id:
            return s
    raise NotFound(
        f"No segment '{segment_id}' in this project.", "List segments with: twin media characters PROJECT --json"
    )


def check_segment_id(value: str) -> str:
    if not (isinstance(value, str) and len(value) == 6 and value[0] == "s" and value[1:].isdigit()):
        raise InvalidInput(f"'{value}' is not a segment id.", "Segment ids look like s00042.")
    return value
