"""Without subtitles the soundtrack is transcribed (faster-whisper, word timestamps) in windows;
RNNoise cleans exported clips on request."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from tests.media.conftest import Film
from tests.media.test_characters import _speaker_of

from twin.media import characters, service, stages


def test_transcribe_without_subtitles_gives_timed_words(film: Film, profile, tmp_path: Path) -> None:  # noqa: ANN001
    pytest.importorskip("faster_whisper")
    short = tmp_path / "short.mkv"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(film.mkv), "-t", "19", "-c", "copy", str(short)], check=True)
    project, report = stages.transcribe(profile, short)
    assert report["asr"]["words"] > 20
    words = stages.load_words(project)
    lines = [ln for ln in film.scene.lines if ln.end < 18.5]
    for ln in lines:  # each line starts with a recognised word, and many of its words are heard
        assert any(abs(w["start"] - ln.start) < 0.6 for w in words), ln.text
        heard = {w["text"].lower().strip(",.?!") for w in words if ln.start - 0.5 <= w["start"] <= ln.end}
        said = {t.lower().strip(",.?!") for t in ln.text.split()}
        assert len(heard & said) >= 0.35 * len(said), (ln.text, sorted(heard))  # espeak under music is hard
    cues = stages.load_cues(project)
    assert cues and project.read_json("cues.json")["source"] == "asr"
    assert stages.align(project)["source"] == "asr"
    assert project.read_json("words.json")["segments"]
    again, rep = stages.transcribe(profile, short)  # rerunning skips the finished stage
    assert again.id == project.id and rep.get("skipped")


def test_denoised_export(project, film: Film) -> None:  # noqa: ANN001
    pytest.importorskip("pyrnnoise")
    characters.set_name(project, _speaker_of(project, "Ann", film), "Ann")
    report = service.export(project, "Ann", denoise=True)
    assert report["clips"] >= 3 and all(Path(c["file"]).is_file() for c in report["clip_list"])
