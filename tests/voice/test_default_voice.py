"""The default voice: the first voice made stays the default when more are added, `twin voice default`
changes it, deleting it picks another (and says so), and speaking with the base voice while the profile
has voices is reported. Through the real CLI on voices made from real reference recordings."""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pytest
from tests.voice.conftest import SENTENCES, SR, build_recording
from typer.testing import CliRunner

from twin.cli.main import app
from twin.profiles import Profile

runner = CliRunner()


def _run(*args: str, ok: bool = True) -> dict:
    res = runner.invoke(app, [*args, "--json"])
    assert (res.exit_code == 0) == ok, (res.exit_code, res.stdout, res.stderr)
    return json.loads(res.stdout)


@pytest.fixture
def two_voices(profile: Profile, say: Callable[..., np.ndarray]) -> tuple[str, str]:
    """Two uploads, as a user makes them: `twin voice create --reference` twice."""
    from twin.audio.encode import save_wav

    ids = []
    for i, name in enumerate(("First", "Second")):
        path = save_wav(profile.root / f"ref{i}.wav", build_recording(say, SENTENCES[i : i + 3], 1.0).audio, SR)
        out = _run("voice", "create", "--reference", str(path), "--name", name, "--profile", profile.name)
        ids.append(out["id"])
    return ids[0], ids[1]


def test_second_voice_keeps_the_first_as_default(profile: Profile, two_voices: tuple[str, str], tmp_path) -> None:
    first, second = two_voices
    listed = {v["id"]: v["default"] for v in _run("voice", "list", "--profile", profile.name)}
    assert listed == {first: True, second: False}

    spoken = _run("speak", "Hello there.", "--profile", profile.name, "--out", str(tmp_path / "a.wav"))
    assert spoken["voice_id"] == first and spoken["voice"] == "default" and spoken["notice"] is None

    # Training no longer stops at "no default voice": it gets as far as looking for transcribed clips.
    err = _run("voice", "train", "--profile", profile.name, ok=False)["error"]
    assert "default voice" not in err["message"] and "transcribed clips" in err["message"]


def test_default_command_and_deleting_the_default(profile: Profile, two_voices: tuple[str, str]) -> None:
    first, second = two_voices
    assert _run("voice", "default", "--profile", profile.name)["default_voice"]["id"] == first
    assert _run("voice", "default", second, "--profile", profile.name)["default_voice"]["id"] == second
    assert [v["id"] for v in _run("voice", "list", "--profile", profile.name) if v["default"]] == [second]

    gone = _run("voice", "delete", second, "--profile", profile.name)
    assert gone["was_default"] and gone["default_voice"] == first and "now First" in gone["notice"]
    last = _run("voice", "delete", first, "--profile", profile.name)
    assert last["default_voice"] is None and "base voice" in last["notice"]
    text = runner.invoke(app, ["voice", "default", "--profile", profile.name])
    assert text.exit_code == 0 and "plain base voice" in text.stdout

    err = _run("voice", "default", first, "--profile", profile.name, ok=False)["error"]
    assert err["code"] == "not_found"


def test_base_voice_is_reported_when_the_profile_has_voices(profile: Profile, two_voices, tmp_path) -> None:
    out = tmp_path / "b.wav"
    spoken = _run("speak", "Hello there.", "--base", "--profile", profile.name, "--out", str(out))
    assert spoken["voice_id"] is None and spoken["voice"] == "base"
    assert "plain base voice" in spoken["notice"] and "First" in spoken["notice"]
    text = runner.invoke(app, ["speak", "Hello.", "--base", "--profile", profile.name, "--out", str(out)])
    assert text.exit_code == 0 and "notice:" in text.stderr and "plain base voice" in text.stderr


def test_base_voice_without_voices_has_no_notice(profile: Profile, tmp_path) -> None:
    spoken = _run("speak", "Hello.", "--profile", profile.name, "--out", str(tmp_path / "c.wav"))
    assert spoken["voice_id"] is None and spoken["voice"] == "base" and spoken["notice"] is None


def test_aliases_map_openai_names(profile: Profile, two_voices: tuple[str, str]) -> None:
    from twin.errors import InvalidInput, NotFound
    from twin.voice.synth.voices import choose_voice

    first, second = two_voices
    assert choose_voice(profile, "alloy", aliases=True).voice_id == first
    table = _run("voice", "alias", "nova", second, "--profile", profile.name)["aliases"]
    assert table["nova"] == second and table["alloy"] == "default"
    assert choose_voice(profile, "nova", aliases=True).voice_id == second
    assert choose_voice(profile, "nova", aliases=True).source == "alias"
    _run("voice", "alias", "echo", "base", "--profile", profile.name)
    assert choose_voice(profile, "echo", aliases=True).voice_id is None
    with pytest.raises(NotFound):
        choose_voice(profile, "nova")  # aliases only where asked for (the OpenAI routes)
    assert _run("voice", "alias", "x", "nobody", "--profile", profile.name, ok=False)["error"]["code"] == "not_found"
    with pytest.raises(InvalidInput):
        choose_voice(profile, "../etc", aliases=True)

    _run("voice", "delete", second, "--profile", profile.name)
    assert choose_voice(profile, "nova", aliases=True).voice_id == first  # the mapping went with the voice
    removed = _run("voice", "alias", "echo", "--remove", "--profile", profile.name)["aliases"]
    assert removed["echo"] == "default"
