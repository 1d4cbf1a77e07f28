"""The media review API: one profile's projects only, segment audio, corrections and actions."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import soundfile as sf
from tests.api.conftest import Env, make_env
from tests.media.conftest import Film
from tests.media.test_characters import _speaker_of

from twin.media.project import Project, media_root
from twin.profiles import ProfileManager


@pytest.fixture
def api(twin_home: Path, analysed: Path) -> Iterator[tuple[Env, Project]]:
    env = make_env(twin_home)
    alice = ProfileManager(env.settings).get("alice")
    shutil.copytree(analysed, media_root(alice) / analysed.name)
    with env.client:
        yield env, Project(alice, analysed.name)


def test_review_and_correct_through_the_api(api: tuple[Env, Project], film: Film) -> None:
    env, project = api
    c, base = env.client, f"/api/media/projects/{project.id}"
    projects = c.get("/api/media/projects", headers=env.auth()).json()["projects"]
    assert [p["id"] for p in projects] == [project.id] and projects[0]["stages"]["segment"] == "done"
    assert c.get("/api/media/projects", headers=env.auth("bob")).json()["projects"] == []
    assert c.get(base, headers=env.auth("bob")).status_code == 404  # another profile's project is not found
    assert c.get(base).status_code == 401
    assert c.get("/api/media/projects/..%2F..%2Fetc", headers=env.auth()).status_code in (404, 422)

    ann = _speaker_of(project, "Ann", film)
    named = c.post(f"{base}/speakers/{ann}/name", json={"name": "Ann"}, headers=env.auth()).json()
    assert named["character"] == "Ann"
    detail = c.get(base, headers=env.auth()).json()
    assert "Ann" in {ch["character"] for ch in detail["characters"]}
    sample = next(ch for ch in detail["characters"] if ch["character"] == "Ann")["sample_clip"]
    assert sample.startswith("samples/")  # relative, never a server path

    segs = c.get(f"{base}/segments", headers=env.auth()).json()["segments"]
    seg = next(s for s in segs if s["character"] == "Ann" and s["text"] and not s["overlap"])
    wav = c.get(f"{base}/segments/{seg['id']}/audio", headers=env.auth())
    assert wav.status_code == 200 and wav.headers["content-type"] == "audio/wav"
    audio, sr = sf.read(io.BytesIO(wav.content))
    assert abs(len(audio) / sr - (seg["end"] - seg["start"])) < 0.05

    fixed = c.post(f"{base}/segments/{seg['id']}", json={"text": "Edited line."}, headers=env.auth()).json()
    assert fixed["text"] == "Edited line." and fixed["edited"]
    moved = c.post(f"{base}/segments/{seg['id']}", json={"character": "Bob"}, headers=env.auth()).json()
    assert moved["character"] == "Bob"
    dropped = c.post(f"{base}/segments/{seg['id']}", json={"dropped": True}, headers=env.auth()).json()
    assert dropped["dropped"]
    bad = c.post(f"{base}/segments/{seg['id']}", json={"character": "x" * 200}, headers=env.auth())
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_input"
    assert c.post(f"{base}/segments/s99999", json={"dropped": True}, headers=env.auth()).status_code == 404


def test_actions_through_the_api(api: tuple[Env, Project], film: Film) -> None:
    env, project = api
    c, base = env.client, f"/api/media/projects/{project.id}"
    c.post(f"{base}/speakers/{_speaker_of(project, 'Ann', film)}/name", json={"name": "Ann"}, headers=env.auth())
    exp = c.post(f"{base}/export", json={"character": "Ann"}, headers=env.auth())
    assert exp.status_code == 200, exp.text
    body = exp.json()
    assert body["clips"] >= 4 and body["folder"] == "clips/ann"
    assert all(not str(x["file"]).startswith("/") for x in body["clip_list"])
    persona = c.post(f"{base}/persona", json={"character": "Ann"}, headers=env.auth()).json()
    assert persona["card"] == "persona/ann/card.json" and persona["dataset"] == "media-ann"
    missing = c.post(f"{base}/export", json={"character": "Nobody"}, headers=env.auth())
    assert missing.status_code == 404 and "Nobody" in missing.json()["error"]["message"]
