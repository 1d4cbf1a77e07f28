"""Bad and unusual inputs: each gives a clear message naming the file and what to do; nothing is lost."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from tests.media.conftest import Film

from twin.errors import InvalidInput, NotFound, ParseError, TwinError
from twin.media import ffmpeg, stages
from twin.media.project import list_projects
from twin.media.subtitles import load_subtitles


def test_probe_lists_streams_and_picks_audio(film: Film) -> None:
    info = ffmpeg.probe_media(film.mkv)
    kinds = [s.kind for s in info.streams]
    assert kinds.count("video") == 1 and kinds.count("audio") == 1 and kinds.count("subtitle") == 1
    assert abs(info.duration_s - film.scene.duration_s) < 0.5
    assert ffmpeg.pick_audio_stream(info, None).index == 1
    with pytest.raises(InvalidInput) as err:
        ffmpeg.pick_audio_stream(info, 3)
    assert "--audio-stream 3 does not exist" in err.value.message and "0: aac" in err.value.hint


def test_probe_without_ffprobe_reads_the_ffmpeg_listing(film: Film, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ffmpeg, "ffprobe_path", lambda: None)
    info = ffmpeg.probe_media(film.mkv)
    assert [s.kind for s in info.streams] == ["video", "audio", "subtitle"]
    assert info.of_kind("audio")[0].sample_rate == 48000


def test_video_without_audio_stream(tmp_path: Path, profile) -> None:  # noqa: ANN001
    silent = tmp_path / "silent.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=c=black:s=64x64:r=5:d=2", "-c:v", "libx264", str(silent)],
        check=True,
    )
    with pytest.raises(InvalidInput) as err:
        stages.transcribe(profile, silent)
    assert "silent.mp4 has no audio stream" in err.value.message
    assert "soundtrack" in err.value.hint
    assert list_projects(profile) == []  # nothing half-made is left behind


@pytest.mark.parametrize(
    ("name", "data"),
    [("broken.mkv", b"\x1a\x45\xdf\xa3" + bytes(range(256)) * 40), ("notes.mp4", b"this is not a film\n" * 100)],
)
def test_unreadable_container(tmp_path: Path, profile, name: str, data: bytes) -> None:  # noqa: ANN001
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(ParseError) as err:
        stages.transcribe(profile, path)
    assert name in err.value.message and "remux" in err.value.hint
    assert str(tmp_path) not in err.value.message  # no server paths in messages


def test_missing_and_empty_files(tmp_path: Path, profile) -> None:  # noqa: ANN001
    with pytest.raises(NotFound):
        stages.transcribe(profile, tmp_path / "nope.mkv")
    (tmp_path / "empty.mkv").write_bytes(b"")
    with pytest.raises(InvalidInput, match="empty"):
        stages.transcribe(profile, tmp_path / "empty.mkv")


def test_legacy_encoding_subtitles(tmp_path: Path) -> None:
    srt = tmp_path / "old.srt"
    srt.write_bytes(
        "1\n00:00:01,000 --> 00:00:03,000\nC'est déjà l'été, répondit la fée.\n\n"
        "2\n00:00:04,000 --> 00:00:06,000\nÇa coûte très cher, dit-elle à Noël.\n".encode("cp1252")
    )
    res = load_subtitles(srt)
    assert res.encoding.lower().replace("_", "").replace("-", "") in {"cp1252", "windows1252", "latin1", "iso88591"}
    assert res.cues[0].text == "C'est déjà l'été, répondit la fée."
    assert res.cues[1].text.startswith("Ça coûte")


def test_broken_timings_repaired_or_refused(tmp_path: Path) -> None:
    srt = tmp_path / "broken.srt"
    srt.write_text(
        "1\n00:00:01,000 --> 00:00:03,000\nFirst line.\n\n"
        "2\n00:00:05,000 --> 00:00:04,000\nEnd before start.\n\n"
        "3\n00:00:09,000 --> 00:00:11,000\nThird line.\n\n"
        "4\n00:00:07,000 --> 00:00:08,000\nOut of order.\n",
        encoding="utf-8",
    )
    res = load_subtitles(srt)
    assert [c.text for c in res.cues] == ["First line.", "End before start.", "Out of order.", "Third line."]
    fixed = res.cues[1]
    assert fixed.repaired and fixed.start == 5.0 and 5.0 < fixed.end <= 7.0
    bad = tmp_path / "garbage.srt"
    bad.write_text(
        "".join(f"{i}\n00:00:0{i},000 --> 00:00:00,500\nLine {i}.\n\n" for i in range(1, 6)), encoding="utf-8"
    )
    with pytest.raises(ParseError) as err:
        load_subtitles(bad)
    assert "garbage.srt" in err.value.message and "broken timings" in err.value.message


def test_speaker_labels_in_every_form(tmp_path: Path, film: Film) -> None:
    srt = tmp_path / "labels.srt"
    srt.write_text(
        "1\n00:00:01,000 --> 00:00:03,000\nJACK: Where were you?\n\n"
        "2\n00:00:03,500 --> 00:00:05,000\n- [Rose] Out.\n- [Jack] All night?\n\n"
        "3\n00:00:06,000 --> 00:00:07,000\n[thunder]\n\n"
        "4\n00:00:08,000 --> 00:00:09,500\n(ROSE) Stop it. [sighs]\n",
        encoding="utf-8",
    )
    cues = load_subtitles(srt).cues
    assert [(c.speaker, c.text) for c in cues] == [
        ("Jack", "Where were you?"),
        (None, "Out. All night?"),
        ("Rose", "Stop it."),
    ]
    assert cues[1].multi_speaker and [ln["speaker"] for ln in cues[1].lines] == ["Rose", "Jack"]
    ass = load_subtitles(film.actors_ass).cues
    assert [c.speaker for c in ass] == [ln.speaker for ln in film.scene.lines]


def test_not_subtitles_at_all(tmp_path: Path) -> None:
    junk = tmp_path / "film.srt"
    junk.write_bytes(bytes(range(256)) * 10)
    with pytest.raises(TwinError) as err:
        load_subtitles(junk)
    assert "film.srt" in err.value.message


def test_embedded_subtitle_stream(film: Film, profile) -> None:  # noqa: ANN001
    project, report = stages.transcribe(profile, film.mkv, subtitle_stream=0)
    assert report["subtitles"]["cues"] == len(film.scene.lines)
    assert report["subtitles"]["labelled"] == len(film.scene.lines)
    assert project.load().subtitles == "subtitles.srt"
    with pytest.raises(InvalidInput, match="--subtitle-stream 2 does not exist"):
        stages.transcribe(profile, film.mkv, subtitle_stream=2)
