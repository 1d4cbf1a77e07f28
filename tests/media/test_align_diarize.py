"""Alignment recovers the subtitles' offset and drift; diarization matches the known truth."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
from tests.media.conftest import DRIFT, OFFSET, Film, overlap_s, truth_speaker_of

from twin.errors import InvalidInput
from twin.media import stages
from twin.media.segments import load_segments, read_rttm


def test_align_recovers_offset_and_drift(project, film: Film) -> None:  # noqa: ANN001
    fit = project.load().stage("align").report
    assert abs(fit["drift"] - DRIFT) < 0.003
    assert abs(fit["offset_s"] - OFFSET) < 0.2
    assert fit["coverage"] > fit["coverage_before"] and fit["coverage"] > 0.85
    cues = stages.load_cues(project)
    errors = [abs(c.start - ln.start) for c, ln in zip(cues, film.scene.lines, strict=True)]
    ends = [abs(c.end - ln.end) for c, ln in zip(cues, film.scene.lines, strict=True)]
    assert float(np.median(errors)) < 0.1 and max(errors) < 0.4
    assert float(np.median(ends)) < 0.15
    raw = stages.load_cues(project, aligned=False)  # the cues as read are kept untouched
    assert abs(raw[-1].start - (film.scene.lines[-1].start - OFFSET) / DRIFT) < 0.01


def test_correct_subtitles_stay_put(film: Film, profile) -> None:  # noqa: ANN001
    project, _ = stages.transcribe(profile, film.mkv, film.good_srt)
    fit = stages.align(project)
    assert abs(fit["drift"] - 1.0) < 0.002 and abs(fit["offset_s"]) < 0.15


def test_subtitles_for_another_cut_are_refused(film: Film, profile, tmp_path: Path) -> None:  # noqa: ANN001
    # Another cut: the same lines, but scenes reordered and re-timed, so no single offset/drift fits.
    rng = random.Random(5)
    starts = sorted(rng.uniform(0, film.scene.duration_s - 4) for _ in film.scene.lines)
    rng.shuffle(starts)
    srt = tmp_path / "other-cut.srt"
    blocks = []
    for i, (ln, t) in enumerate(zip(film.scene.lines, starts, strict=True), 1):
        a, b = t + 300, t + 300 + (ln.end - ln.start)
        blocks.append(f"{i}\n{_ts(a)} --> {_ts(b)}\n{ln.text}\n")
    srt.write_text("\n".join(blocks), encoding="utf-8")
    project, _ = stages.transcribe(profile, film.mkv, srt)
    before = project.path("cues.json").read_bytes()
    with pytest.raises(InvalidInput) as err:
        stages.align(project)
    assert err.value.message.startswith("subtitles.srt:")
    assert "another" in err.value.message and "cues.json" in err.value.hint
    assert project.path("cues.json").read_bytes() == before and not project.has("aligned_cues.json")
    assert project.load().stage("align").status == "failed"
    assert project.load().stage("transcribe").status == "done"


def _ts(t: float) -> str:
    ms = int(round(t * 1000))
    return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"


def test_diarization_error_rate_against_truth(project, film: Film) -> None:  # noqa: ANN001
    from pyannote.core import Annotation, Segment
    from pyannote.metrics.diarization import DiarizationErrorRate

    def annotation(rows: list[tuple[float, float, str]]) -> Annotation:
        ann = Annotation()
        for s, e, who in rows:
            ann[Segment(s, e)] = who
        return ann

    ref = annotation(read_rttm(film.truth_rttm))
    hyp = annotation(read_rttm(project.path("diarization.rttm")))
    der = DiarizationErrorRate(collar=0.25)(ref, hyp)
    assert der < 0.15, der
    report = project.load().stage("segment").report
    assert report["speakers"] == 3


def test_segments_follow_the_speakers_and_mark_overlaps(project, film: Film) -> None:  # noqa: ANN001
    segs = load_segments(project)
    mapping: dict[str, dict[str, float]] = {}
    for s in segs:
        who = truth_speaker_of(film.scene, s.start, s.end)
        mapping.setdefault(s.speaker, {}).setdefault(who, 0.0)
        mapping[s.speaker][who] += s.duration
    owners = {spk: max(v, key=lambda k: v[k]) for spk, v in mapping.items()}
    assert sorted(owners.values()) == ["Ann", "Bob", "Carl"]  # one cluster per character, none split
    for ov in film.scene.overlaps:  # every true overlap is marked
        assert any(s.overlap and overlap_s((s.start, s.end), ov) > 0.3 for s in segs), ov
    for s in segs:
        if not s.overlap:
            assert not any(overlap_s((s.start, s.end), ov) > 0.3 for ov in film.scene.overlaps), s
    texts = [s.text for s in segs if s.text]
    assert sum(len(t.split()) for t in texts) >= 0.9 * sum(len(ln.text.split()) for ln in film.scene.lines)
    rttm = project.path("diarization.rttm").read_text(encoding="utf-8").splitlines()
    assert all(row.split()[0] == "SPEAKER" and len(row.split()) == 10 for row in rttm)
    data = json.loads(project.path("segments.json").read_text(encoding="utf-8"))["segments"][0]
    assert {"start", "end", "speaker", "text", "words", "overlap", "quality"} <= set(data)
