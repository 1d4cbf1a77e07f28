"""Per-character clips: cut, cleaned, scored, and written as an LJSpeech folder.

A character's solo segments (never an overlap, never a dropped segment) are joined into utterances
where no one else speaks in between, split into 2-15 s clips at subtitle-line boundaries (word edges
when ASR words exist), kept clear of neighbouring speakers' turns, cut from the 22,050 Hz soundtrack,
optionally denoised (rnnoise), loudness-normalized and scored: speaker similarity to the character's
centroid, purity (every analysis window inside the clip sounds like the character), SNR estimate and
clipping. Clips failing a check are dropped with the reason; clips.json keeps every candidate."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from twin.errors import InvalidInput, NotFound
from twin.media.audio import AudioFile
from twin.media.characters import character_of
from twin.media.progress import ProgressFn, silent
from twin.media.project import Project, slug
from twin.media.segments import Segment, load_segments
from twin.media.stages import load_cues, load_words
from twin.media.subtitles import Cue
from twin.profiles import write_text_atomic
from twin.voice.config import ClippingConfig, LoudnessConfig
from twin.voice.prepare import steps

MIN_S, MAX_S, TARGET_S = 2.0, 15.0, 9.0
JOIN_GAP_S = 0.6
GUARD_S = 0.15  # kept away from another speaker's turn that touches this one
TURN_NEAR_S = 0.15


@dataclass
class ExportOptions:
    denoise: bool = False
    min_similarity: float = 0.72
    min_purity: float = 1.0
    min_snr_db: float = 8.0
    max_clipped: float = 0.002
    target_lufs: float = -23.0


@dataclass
class Clip:
    id: str
    start: float
    end: float
    text: str
    speaker: str  # the cluster(s) it came from, e.g. "S1" or "S1+S4"
    character: str
    file: str | None = None
    quality: dict[str, float] = field(default_factory=dict)
    kept: bool = True
    reasons: list[str] = field(default_factory=list)

    @property
    def duration(self) -> float:
        return self.end - self.start

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def character_segments(segs: list[Segment], name: str) -> list[Segment]:
    mine = [s for s in segs if character_of(s).lower() == name.lower() and not s.dropped]
    if not mine:
        known = sorted({character_of(s) for s in segs if not s.dropped})
        raise NotFound(
            f"No character '{name}' in this project.",
            f"Characters: {', '.join(known) or 'none'}. Name one with: twin media name PROJECT SPEAKER NAME",
        )
    return mine


def utterances(segs: list[Segment], name: str) -> list[tuple[float, float, list[Segment]]]:
    """Runs of the character's solo segments with nothing else between them (gaps up to JOIN_GAP_S)."""
    ordered = sorted((s for s in segs if not s.dropped), key=lambda s: s.start)
    runs: list[tuple[float, float, list[Segment]]] = []
    current: list[Segment] = []
    for s in ordered:
        mine = character_of(s).lower() == name.lower() and not s.overlap
        if mine and current and s.start - current[-1].end <= JOIN_GAP_S:
            current.append(s)
            continue
        if current:
            runs.append((current[0].start, current[-1].end, current))
        current = [s] if mine else []
    if current:
        runs.append((current[0].start, current[-1].end, current))
    return [_guard(r, ordered, name) for r in runs]


def _guard(
    run: tuple[float, float, list[Segment]], ordered: list[Segment], name: str
) -> tuple[float, float, list[Segment]]:
    """Pull an edge in by GUARD_S where another speaker's turn (or an overlap) is within TURN_NEAR_S."""
    start, end, members = run
    others = [s for s in ordered if s.overlap or character_of(s).lower() != name.lower()]
    if any(0 <= start - o.end <= TURN_NEAR_S for o in others):
        start += GUARD_S
    if any(0 <= o.start - end <= TURN_NEAR_S for o in others):
        end -= GUARD_S
    return start, end, members


def _cut_points(start: float, end: float, cues: list[Cue], words: list[dict[str, Any]]) -> list[float]:
    """Where a clip may end inside an utterance: between subtitle lines, else between words."""
    pts = [c.end for c in cues if start + MIN_S < c.end < end - MIN_S]
    if not pts:
        pts = [w["end"] for w in words if start + MIN_S < w["end"] < end - MIN_S]
    return sorted(pts)


def split_span(start: float, end: float, cues: list[Cue], words: list[dict[str, Any]]) -> list[tuple[float, float]]:
    """Pieces of at most MAX_S, cut near TARGET_S at allowed points; an uncuttable long span stays whole
    (and is then dropped as too long)."""
    pieces = []
    while end - start > MAX_S:
        pts = [p for p in _cut_points(start, end, cues, words) if p - start <= MAX_S]
        if not pts:
            break
        cut = min(pts, key=lambda p: abs(p - start - TARGET_S))
        pieces.append((start, cut))
        start = cut
    pieces.append((start, end))
    return pieces


def clip_text(start: float, end: float, cues: list[Cue], words: list[dict[str, Any]]) -> tuple[str, str | None]:
    """(text, problem): subtitle lines mostly inside the span; a line cut in half is a problem."""
    inside, cut = [], []
    for c in cues:
        ov = max(0.0, min(end, c.end) - max(start, c.start))
        share = ov / max(c.end - c.start, 1e-3)
        if share >= 0.85:
            inside.append(c)
        elif share > 0.15:
            cut.append(c)
    if words:
        text = " ".join(w["text"] for w in words if start <= (w["start"] + w["end"]) / 2 < end).strip()
        if text:
            return text, None
    if cut:
        return " ".join(c.text for c in inside), f"the clip cuts the subtitle line '{cut[0].text[:40]}'"
    return " ".join(c.text for c in inside), None if inside else "no subtitle line or words for it"


def plan_clips(project: Project, name: str) -> list[Clip]:
    segs = load_segments(project)
    mine = character_segments(segs, name)
    display = character_of(mine[0])
    cues, words = load_cues(project), load_words(project)
    own_cues = [c for c in cues if not c.multi_speaker]
    clips: list[Clip] = []
    for start, end, members in utterances(segs, display):
        speakers = "+".join(sorted({m.speaker for m in members}))
        for a, b in split_span(start, end, own_cues, words):
            text, problem = clip_text(a, b, cues, words)
            clip = Clip(f"{slug(display)}-{len(clips) + 1:04d}", round(a, 3), round(b, 3), text, speakers, display)
            if problem:
                clip.kept, clip.reasons = False, [problem]
            if clip.duration < MIN_S:
                clip.kept, clip.reasons = False, [f"too short ({clip.duration:.1f} s < {MIN_S:g} s)", *clip.reasons]
            elif clip.duration > MAX_S:
                clip.kept, clip.reasons = (
                    False,
                    [f"too long ({clip.duration:.1f} s > {MAX_S:g} s) with no line break to cut at"],
                )
            clips.append(clip)
    return clips


class Scorer:
    """Purity and similarity from the diarization's window embeddings, plus one embedding per clip."""

    def __init__(self, project: Project, name: str, encoder: Any) -> None:
        with np.load(project.path("embeddings.npz"), allow_pickle=False) as z:
            self.windows, emb, cents = z["windows"], z["embeddings"], z["centroids"]
        self.ok = np.all(np.isfinite(emb), axis=1)
        self.emb = np.nan_to_num(emb)
        segs = load_segments(project)
        own = {s.speaker for s in segs if character_of(s).lower() == name.lower()}
        self.own_idx = [int(spk[1:]) - 1 for spk in sorted(own) if spk[1:].isdigit()]
        self.others = [i for i in range(len(cents)) if i not in self.own_idx]
        vecs = [self.emb[i] for i, (s, e) in enumerate(self.windows) if self.ok[i] and self._solo(segs, name, s, e)]
        centroid = np.mean(vecs, axis=0) if vecs else np.mean(cents[self.own_idx], axis=0)
        self.centroid = centroid / (np.linalg.norm(centroid) or 1.0)
        self.cents = cents
        self.encoder = encoder
        self.audio16 = AudioFile(project.audio)

    @staticmethod
    def _solo(segs: list[Segment], name: str, s: float, e: float) -> bool:
        return any(
            x.start <= s and e <= x.end and not x.overlap and character_of(x).lower() == name.lower() for x in segs
        )

    def purity(self, start: float, end: float) -> tuple[float, str | None]:
        """Share of analysis windows inside the clip whose nearest speaker is the character."""
        inside = [i for i, (s, e) in enumerate(self.windows) if self.ok[i] and s >= start - 0.05 and e <= end + 0.05]
        if not inside or not self.others:
            return 1.0, None
        sims = self.emb[inside] @ self.cents.T
        own = sims[:, self.own_idx].max(axis=1)
        other = sims[:, self.others].max(axis=1)
        bad = np.flatnonzero(other >= own)
        if len(bad):
            w = inside[int(bad[0])]
            spk = self.others[int(np.argmax(sims[bad[0], self.others]))]
            return 1.0 - len(bad) / len(
                inside
            ), f"another voice inside (at {self.windows[w][0]:.1f} s it sounds like S{spk + 1})"
        return 1.0, None

    def similarity(self, start: float, end: float) -> float:
        return float(self.encoder.embed(self.audio16.read(start, end), self.audio16.sample_rate) @ self.centroid)


def snr_db(audio: np.ndarray, sr: int) -> float:
    """Level of the loud (speech) frames over the quiet ones: 90th over 10th percentile of 20 ms frame levels."""
    levels = steps.frame_db(audio, sr)
    if len(levels) < 10:
        return 0.0
    return float(np.percentile(levels, 90) - np.percentile(levels, 10))


def score_clip(clip: Clip, audio: np.ndarray, sr: int, scorer: Scorer, opt: ExportOptions) -> None:
    purity, why = scorer.purity(clip.start, clip.end)
    sim = scorer.similarity(clip.start, clip.end)
    snr = snr_db(audio, sr)
    clipped = steps.clipped_ratio(steps.clipped_positions(audio, ClippingConfig()), 0, len(audio))
    q = min(1.0, max(0.0, (sim - 0.5) / 0.4)) * 0.5 + min(1.0, snr / 30.0) * 0.3 + purity * 0.2
    clip.quality = {
        "similarity": round(sim, 3),
        "purity": round(purity, 3),
        "snr_db": round(snr, 1),
        "clipped": round(clipped, 5),
        "score": round(q, 3),
    }
    if purity < opt.min_purity and why:
        clip.reasons.append(why)
    if sim < opt.min_similarity:
        clip.reasons.append(
            f"does not sound enough like {clip.character} (similarity {sim:.2f} < {opt.min_similarity:.2f})"
        )
    if snr < opt.min_snr_db:
        clip.reasons.append(f"noisy: estimated SNR {snr:.0f} dB < {opt.min_snr_db:.0f} dB")
    if clipped > opt.max_clipped:
        clip.reasons.append(f"clipped: {clipped:.2%} of samples at full scale")
    if clip.reasons:
        clip.kept = False


def export_clips(
    project: Project,
    name: str,
    encoder: Any,
    out_dir: Path | None = None,
    opt: ExportOptions | None = None,
    denoiser: Any = None,
    progress: ProgressFn = silent,
) -> tuple[list[Clip], Path]:
    """Write kept clips as LJSpeech (wavs/<id>.wav, metadata.csv 'id|text') and clips.json with every candidate."""
    from twin.audio.encode import save_wav

    opt = opt or ExportOptions()
    clips = plan_clips(project, name)
    display = clips[0].character if clips else name
    out = out_dir or project.path("clips") / slug(display)
    wavs = out / "wavs"
    wavs.mkdir(parents=True, exist_ok=True)
    scorer = Scorer(project, display, encoder)
    hq = AudioFile(project.audio_hq)
    for i, clip in enumerate(clips):
        progress(f"clips of {display}", i, len(clips))
        if not clip.kept:
            continue
        raw = hq.read(clip.start, clip.end)
        score_clip(clip, raw, hq.sample_rate, scorer, opt)
        if not clip.kept:
            continue
        audio = denoiser.denoise(raw, hq.sample_rate) if denoiser is not None else raw
        audio, _ = steps.normalize_loudness(audio, hq.sample_rate, LoudnessConfig(target_lufs=opt.target_lufs))
        save_wav(wavs / f"{clip.id}.wav", audio, hq.sample_rate)
        clip.file = str(wavs / f"{clip.id}.wav")
    progress(f"clips of {display}", len(clips), len(clips))
    kept = [c for c in clips if c.kept]
    for stale in wavs.glob("*.wav"):
        if stale.stem not in {c.id for c in kept}:
            stale.unlink()
    write_text_atomic(out / "metadata.csv", "".join(f"{c.id}|{_csv_text(c.text)}\n" for c in kept))
    write_text_atomic(out / "clips.json", _json({"character": display, "clips": [c.to_dict() for c in clips]}))
    if not kept:
        raise InvalidInput(
            f"No clean clip of {display}: {len(clips)} candidate(s), all dropped "
            f"({'; '.join(sorted({r for c in clips for r in c.reasons}))[:300]}).",
            f"See {out.name}/clips.json for each reason; fix names or segments (twin media relabel), or export with "
            "a lower --min-similarity.",
        )
    return clips, out


def _csv_text(text: str) -> str:
    return " ".join(text.replace("|", " ").split())


def _json(obj: Any) -> str:
    import json

    return json.dumps(obj, ensure_ascii=False, indent=1) + "\n"


def seconds(clips: list[Clip]) -> float:
    return round(sum(c.duration for c in clips if c.kept), 2)
