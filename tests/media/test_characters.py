"""Naming characters (by hand, --sample-at, --reference, subtitle labels), corrections that persist,
and the exported clips: LJSpeech layout, purity against the truth, recall, and the voice library."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import soundfile as sf
from tests.media.conftest import Film, overlap_s, truth_speaker_of

from twin.errors import InvalidInput, NotFound
from twin.media import characters, service, stages
from twin.media.export import ExportOptions
from twin.media.segments import load_segments
from twin.media.voice import check_enough, load_export


def _speaker_of(project, who: str, film: Film) -> str:  # noqa: ANN001
    """The cluster that holds most of `who`'s true speech."""
    totals: dict[str, float] = {}
    for s in load_segments(project):
        if truth_speaker_of(film.scene, s.start, s.end) == who:
            totals[s.speaker] = totals.get(s.speaker, 0.0) + s.duration
    return max(totals, key=lambda k: totals[k])


def _first_line(film: Film, who: str) -> tuple[float, float]:
    ln = next(ln for ln in film.scene.lines if ln.speaker == who)
    return ln.start, ln.end


def test_name_by_sample_at(project, film: Film) -> None:  # noqa: ANN001
    s, e = _first_line(film, "Bob")
    result = service.name_character(project, "Bob", sample_at=(s + e) / 2)
    assert result["speaker"] == _speaker_of(project, "Bob", film)
    bob = [seg for seg in load_segments(project) if seg.character == "Bob"]
    assert bob and all(truth_speaker_of(film.scene, x.start, x.end) == "Bob" for x in bob if not x.overlap)
    summary = {c["character"]: c for c in characters.summary(project)}
    assert summary["Bob"]["named"] and Path(summary["Bob"]["sample_clip"]).is_file()
    assert all(ln["text"] for ln in summary["Bob"]["lines"])


def test_sample_at_where_nobody_speaks(project, film: Film) -> None:  # noqa: ANN001
    with pytest.raises(InvalidInput) as err:
        service.name_character(project, "Ann", sample_at=1.5)  # the music-only intro
    assert "Nobody speaks at 1.5 s" in err.value.message and "nearest speech" in err.value.hint
    with pytest.raises(InvalidInput, match="outside the soundtrack"):
        service.name_character(project, "Ann", sample_at=9999)
    assert not project.has("corrections.json") or not stages.load_corrections(project)["names"].get("Ann")


def test_name_by_reference_clip(project, film: Film, tmp_path: Path) -> None:  # noqa: ANN001
    from tests.media.scene import SR

    ref = tmp_path / "carl.wav"
    sf.write(str(ref), film.voices.say("Carl", "I have never seen a storm like this one, not in twenty years."), SR)
    result = service.name_character(project, "Carl", reference=ref)
    assert result["speaker"] == _speaker_of(project, "Carl", film)
    assert result["similarity"] > 0.75 and result["margin"] > 0.1
    with pytest.raises(InvalidInput, match="exactly one"):
        service.name_character(project, "Carl")


def test_subtitle_labels_name_clusters(film: Film, profile) -> None:  # noqa: ANN001
    project, _ = stages.transcribe(profile, film.mkv, film.labels_srt)
    stages.align(project)
    stages.segment(project)
    names = stages.load_corrections(project)["names"]
    assert sorted(names.values()) == ["Ann", "Bob", "Carl"]
    for spk, name in names.items():
        assert _speaker_of(project, name, film) == spk


def test_merge_rename_and_relabel_persist_across_a_rerun(project, film: Film) -> None:  # noqa: ANN001
    ann, bob = _speaker_of(project, "Ann", film), _speaker_of(project, "Bob", film)
    characters.set_name(project, ann, "Ann")
    merged = characters.set_name(project, bob, "Ann")  # a split character: two clusters, one name
    assert merged["speakers"] == sorted([ann, bob])
    characters.set_name(project, bob, "Bob")  # undo by naming the cluster again
    characters.set_name(project, "Ann", "Annie")  # rename by the current name
    bob_seg = next(s for s in load_segments(project) if s.speaker == bob and not s.overlap and s.text)
    moved = characters.relabel(project, bob_seg.id, "Annie")
    assert moved.character == "Annie"
    edited = characters.relabel(project, bob_seg.id, None, text="A corrected line.")
    assert edited.text == "A corrected line." and edited.character == "Annie"
    dropped = characters.relabel(project, bob_seg.id, "drop")
    assert dropped.dropped
    stages.segment(project)  # a rerun of the stage keeps every correction
    again = next(
        s
        for s in load_segments(project)
        if overlap_s((s.start, s.end), (bob_seg.start, bob_seg.end)) > 0.5 * bob_seg.duration
    )
    assert again.dropped and again.text == "A corrected line." and again.character == "Annie"
    assert {s.character for s in load_segments(project) if s.speaker == ann} == {"Annie"}
    with pytest.raises(NotFound):
        characters.relabel(project, "s99999", "Bob")
    with pytest.raises(InvalidInput):
        characters.relabel(project, "../etc", "Bob")


def test_ljspeech_export_is_clean_and_complete(project, film: Film, tmp_path: Path) -> None:  # noqa: ANN001
    characters.set_name(project, _speaker_of(project, "Ann", film), "Ann")
    out = tmp_path / "ann-ljspeech"
    report = service.export(project, "Ann", "ljspeech", out)
    assert report["folder"] == str(out) and report["clips"] >= 4
    rows = list(csv.reader((out / "metadata.csv").open(encoding="utf-8"), delimiter="|"))
    wavs = sorted(p.stem for p in (out / "wavs").glob("*.wav"))
    assert sorted(r[0] for r in rows) == wavs and all(len(r) == 2 and r[1].strip() for r in rows)
    others = [ln for ln in film.scene.lines if ln.speaker != "Ann"]
    kept_s = 0.0
    for clip in report["clip_list"]:
        info = sf.info(clip["file"])
        assert info.samplerate == 22050 and info.channels == 1 and info.subtype == "PCM_16"
        assert 2.0 <= clip["end"] - clip["start"] <= 15.0
        span = (clip["start"], clip["end"])
        # purity: no other voice and no overlap inside any kept clip
        assert not any(overlap_s(span, (o.start, o.end)) > 0.05 for o in others), clip
        assert not any(overlap_s(span, ov) > 0 for ov in film.scene.overlaps), clip
        assert clip["character"] == "Ann" and clip["quality"]["purity"] == 1.0
        assert clip["quality"]["similarity"] > 0.8 and clip["quality"]["snr_db"] > 10
        assert any(clip["text"] == ln.text for ln in film.scene.lines if ln.speaker == "Ann")
        kept_s += clip["end"] - clip["start"]
    solo = sum(e - s for s, e in film.scene.solo_regions("Ann"))
    assert kept_s / solo > 0.45  # recall of Ann's solo speech
    for d in report["dropped_list"]:
        assert d["reasons"]


def test_library_export_is_tagged_and_apart_from_the_owner(project, film: Film) -> None:  # noqa: ANN001
    from twin.voice import library

    characters.set_name(project, _speaker_of(project, "Ann", film), "Ann")
    report = service.export(project, "Ann", "library")
    assert report["library_clips"] == report["clips"]
    clips = library.list_clips(project.profile, speaker="Ann")
    assert len(clips) == report["clips"] and all(c.transcript and c.speaker == "Ann" for c in clips)
    assert library.list_clips(project.profile) == []  # the owner's voice never sees a character's clips
    again = service.export(project, "Ann", "library")  # idempotent
    assert again["library_clips"] == report["clips"] and len(library.list_clips(project.profile, speaker="Ann")) == len(
        clips
    )


def test_too_little_clean_speech(project, film: Film) -> None:  # noqa: ANN001
    carl = _speaker_of(project, "Carl", film)
    characters.set_name(project, carl, "Carl")
    segs = [s for s in load_segments(project) if s.speaker == carl and not s.overlap]
    for s in segs[2:]:
        characters.relabel(project, s.id, "drop")
    with pytest.raises(InvalidInput) as err:
        service.train_voice(project, "Carl")
    msg = err.value.message
    assert msg.startswith("Carl has ") and " s of clean speech in " in msg and "at least 20 s" in msg
    clips = load_export(project, "Carl")  # the export it made on the way is kept
    assert clips and project.path("clips/carl/clips.json").is_file()
    with pytest.raises(InvalidInput):
        check_enough("Carl", clips)
    with pytest.raises(InvalidInput, match="No clean clip"):
        service.export(project, "Carl", options=ExportOptions(min_similarity=0.999))
    with pytest.raises(NotFound, match="No character 'Zed'"):
        service.export(project, "Zed")
