"""Fixtures for the movie → character pipeline: one synthetic scene per session (three voices with
overlaps, music and noise, muxed into an mkv with an embedded subtitle stream), its truth and three
subtitle sets, and one analysed project (transcribe → align → segment) that tests copy and change."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.media import scene as sc

if shutil.which("ffmpeg") is None or shutil.which("espeak-ng") is None:
    pytest.skip("the media tests need ffmpeg and espeak-ng (apt-get install ffmpeg espeak-ng)", allow_module_level=True)
pytest.importorskip("pysubs2")
pytest.importorskip("sklearn")
pytest.importorskip("piper")

DRIFT = 25 / 23.976  # a 23.976 fps film with subtitles timed for 25 fps
OFFSET = 2.5


@dataclass
class Film:
    dir: Path
    scene: sc.Scene
    mkv: Path  # video + AAC soundtrack + embedded speaker-labelled SRT stream
    wav: Path
    good_srt: Path
    drift_srt: Path
    labels_srt: Path
    actors_ass: Path
    truth_rttm: Path
    voices: sc.Voices


@pytest.fixture(scope="session")
def film(tmp_path_factory: pytest.TempPathFactory) -> Film:
    d = tmp_path_factory.mktemp("film")
    voices = sc.Voices(d)
    scene = sc.build_scene(voices, [line for line in sc.DIALOGUE if line[0] in ("Ann", "Bob", "Carl")])
    wav = sc.write_wav(scene, d / "scene.wav")
    good, drift, labels, ass, rttm = (
        d / "good.srt",
        d / "drift.srt",
        d / "labels.srt",
        d / "actors.ass",
        d / "truth.rttm",
    )
    sc.write_srt(scene, good)
    sc.write_srt(scene, drift, drift=DRIFT, offset=OFFSET)
    sc.write_srt(scene, labels, labels=True)
    sc.write_ass(scene, ass)
    sc.write_rttm(scene, rttm)
    mkv = sc.mux_video(wav, d / "film.mkv", subtitles=labels)
    return Film(d, scene, mkv, wav, good, drift, labels, ass, rttm, voices)


@pytest.fixture(scope="session")
def analysed(film: Film, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project folder after transcribe (drifting subtitles) → align → segment, made once per session."""
    from twin.media import stages
    from twin.profiles import Profile

    root = tmp_path_factory.mktemp("analysed-profile")
    (root / "profile.json").write_text('{"name": "shared", "created": "2026-01-01T00:00:00+00:00"}', encoding="utf-8")
    profile = Profile("shared", root)
    project, _ = stages.transcribe(profile, film.mkv, film.drift_srt)
    stages.align(project)
    stages.segment(project)
    return project.dir


@pytest.fixture
def profile(twin_home: Path):  # noqa: ANN201 - twin.profiles.Profile
    from twin.profiles import ProfileManager
    from twin.settings import load_settings

    return ProfileManager(load_settings()).create("me")


@pytest.fixture
def project(analysed: Path, profile):  # noqa: ANN001, ANN201 - a twin.media.project.Project copy the test may change
    from twin.media.project import Project, media_root

    dest = media_root(profile) / analysed.name
    shutil.copytree(analysed, dest)
    return Project(profile, analysed.name)


def overlap_s(a: tuple[float, float], b: tuple[float, float]) -> float:
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))


def truth_speaker_of(scene: sc.Scene, start: float, end: float) -> str:
    """The true speaker covering most of [start, end]."""
    best = max(scene.lines, key=lambda ln: overlap_s((start, end), (ln.start, ln.end)))
    return best.speaker
