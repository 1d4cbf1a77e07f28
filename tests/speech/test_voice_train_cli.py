"""`twin voice train` through the CLI, on a library whose recordings do not match their transcripts (each
clip is played backwards): the converter it learns garbles speech, so the training check refuses to make
it active and says why and what to do; `--force` makes it active anyway."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from speech.conftest import make_voice, needs_piper
from twin.cli.main import app
from twin.voice.config import VoiceConfig, save_voice_config
from twin.voice.synth.config import TTSConfig, save_config

pytestmark = needs_piper
RATE = 22050
STEADY = {"noise_scale": 0.0, "noise_w_scale": 0.0}
TEXTS = [
    "Good morning, how are you today?",
    "I am going to the shop for some bread.",
    "The weather is lovely this afternoon.",
    "Please call me back when you can.",
    "We will meet at the station at noon.",
    "That was the best dinner I have had.",
    "The train leaves from platform four.",
]


def _as_owner(audio: np.ndarray) -> np.ndarray:
    from twin.audio import world

    f = world.analyze(audio, RATE)
    return world.synthesize(f.f0 * 1.6, world.warp_envelope(f.sp, 1.12), f.ap, RATE)


def _library(profile, clips: list[tuple[str, np.ndarray]], tmp_path) -> None:
    """Prepared, transcribed clips in the profile's voice library (one imported source)."""
    from twin.audio.encode import save_wav
    from twin.ids import new_id
    from twin.store.db import connect
    from twin.voice import library

    source = save_wav(tmp_path / "session.wav", np.concatenate([a for _, a in clips]), RATE)
    (result,) = library.import_files(profile, [source])
    rows = []
    for text, audio in clips:
        cid = new_id()
        rel = library.clip_relpath("neutral", cid)
        save_wav(profile.voice_dir / rel, audio, RATE)
        dur = round(len(audio) / RATE, 3)
        rows.append(
            {"id": cid, "emotion": "neutral", "path": rel, "start_s": 0.0, "end_s": dur, "duration_s": dur}
            | {"transcript": text, "confidence": 0.9, "quality": 0.9, "reasons": [], "metrics": {}, "excluded": False}
        )
    conn = connect(profile)
    try:
        library.replace_clips(conn, profile, result.source_id, rows)
    finally:
        conn.close()


@pytest.fixture
def broken_library(profile, tmp_path):
    from twin.backends.tts_clone import CloneTTS

    save_config(profile, TTSConfig(engines={"piper": dict(STEADY), "clone": {"base_options": dict(STEADY)}}))
    config = VoiceConfig()
    config.train.stt_model = "tiny.en"
    save_voice_config(profile, config)
    engine = CloneTTS()
    make_voice(profile, "owner", _as_owner(engine.base_reading("Reference clip for the owner voice.")))
    _library(profile, [(t, _as_owner(engine.base_reading(t))[::-1].copy()) for t in TEXTS], tmp_path)
    return profile


def test_train_refuses_a_converter_that_hurts_intelligibility(broken_library) -> None:
    folder = broken_library.voice_dir / "profiles" / "owner"
    runner = CliRunner()
    res = runner.invoke(app, ["voice", "train", "-p", broken_library.name, "--json"])
    assert res.exit_code == 1, res.output
    report = json.loads(res.stdout)
    assert report["activated"] is False and report["forced"] is False
    gate = report["gate"]
    checks = {c["name"]: c for c in gate["checks"]}
    assert checks["intelligibility"]["passed"] is False
    assert gate["after"]["wer"] > gate["before"]["wer"] + 0.3
    assert "(may rise by at most 0.10)" in checks["intelligibility"]["message"]
    assert gate["compared_with"] == "zero-shot cloning from the reference"
    assert any("record more neutral speech" in line for line in gate["advice"])
    assert not (folder / "converter").exists() and not (folder / "converter.candidate").exists()

    res = runner.invoke(app, ["voice", "train", "-p", broken_library.name, "--force"])
    assert res.exit_code == 0, res.output
    assert "intelligibility: word error rate" in res.stdout and "FAILED" in res.stdout
    assert "Made active although it failed the checks (--force)." in res.stdout
    assert (folder / "converter" / "converter.npz").is_file() and (folder / "converter" / "split.json").is_file()
