"""Every audio response says who spoke: the engine, the voice, the reference clip and the emotion used,
streamed or not, and says so when the emotion asked for has no reference in the voice."""

from __future__ import annotations

import base64
import json

from speech.conftest import make_voice, tone
from twin.profiles import ProfileManager

from .conftest import Env, tone_wav


def _owner_voice(env: Env) -> None:
    profile = ProfileManager(env.settings).get("alice")
    make_voice(profile, "owner", tone(2.0), emotions={"happy": tone(2.0, pitch=260.0)})


def test_clone_names_the_reference_and_emotion_used(env: Env) -> None:
    _owner_voice(env)
    happy = env.client.post(
        "/api/tts/clone", headers=env.auth(), json={"text": "Hello there.", "voice_id": "owner", "emotion": "happy"}
    )
    assert happy.status_code == 200, happy.text
    assert happy.headers["x-twin-engine"] == "clone" and happy.headers["x-twin-voice"] == "owner"
    assert happy.headers["x-twin-reference"] == "references/happy.wav"
    assert happy.headers["x-twin-emotion"] == "happy" and "x-twin-notice" not in happy.headers
    missing = env.client.post(
        "/api/tts/clone", headers=env.auth(), json={"text": "Hello there.", "voice_id": "owner", "emotion": "excited"}
    )
    assert missing.status_code == 200
    assert missing.headers["x-twin-reference"] == "reference.wav" and missing.headers["x-twin-emotion"] == "default"
    assert missing.headers["x-twin-notice"] == "voice owner has no 'excited' reference; spoke with reference.wav"
    with env.client.stream(
        "POST",
        "/api/tts/clone",
        headers=env.auth(),
        json={"text": "Streamed, this time.", "voice_id": "owner", "emotion": "excited", "stream": True},
    ) as r:
        assert r.status_code == 200 and "content-length" not in r.headers
        assert r.headers["x-twin-engine"] == "clone" and r.headers["x-twin-reference"] == "reference.wav"
        assert "excited" in r.headers["x-twin-notice"]
        assert b"".join(r.iter_bytes())[:4] == b"RIFF"


def test_base_voice_and_reference_clip_are_named(env: Env) -> None:
    base = env.client.post("/api/tts/clone", headers=env.auth(), json={"text": "Plain voice."})
    assert base.headers["x-twin-engine"] == "piper" and base.headers["x-twin-voice"] == "base"
    assert base.headers["x-twin-reference"] == "none" and base.headers["x-twin-emotion"] == "default"
    ref = base64.b64encode(tone_wav(2.0)).decode()
    clip = env.client.post("/api/tts/clone", headers=env.auth(), json={"text": "Hi.", "reference_audio": ref})
    # The embedded clone engine speaks a one-off reference clip (no external engine is configured).
    assert clip.status_code == 200, clip.text
    assert clip.content[:4] == b"RIFF" and clip.headers["x-twin-engine"] == "clone"
    assert clip.headers["x-twin-voice"] == "reference-clip" and clip.headers["x-twin-reference"] == "uploaded-clip"


def test_pipeline_and_openai_speech_say_who_spoke(env: Env) -> None:
    _owner_voice(env)
    body = {"prompt": "Say hello", "voice_id": "owner", "emotion": "excited"}
    whole = env.client.post("/api/tts/pipeline", headers=env.auth(), json=body)
    assert whole.status_code == 200, whole.text
    speech = whole.json()["speech"]
    assert speech["engine"] == "clone" and speech["voice_id"] == "owner"
    assert speech["reference"] == "reference.wav" and speech["emotion"] is None
    assert speech["emotion_requested"] == "excited" and whole.headers["x-twin-engine"] == "clone"
    with env.client.stream("POST", "/api/tts/pipeline", headers=env.auth(), json={**body, "stream": True}) as r:
        done = [json.loads(line) for line in r.iter_lines() if line.strip()][-1]
    assert done["type"] == "done" and done["speech"]["reference"] == "reference.wav"
    oa = env.client.post(
        "/v1/audio/speech",
        headers=env.auth(),
        json={"model": "tts-1", "input": "Hi.", "voice": "owner", "instructions": "happy", "response_format": "wav"},
    )
    assert oa.status_code == 200 and oa.headers["x-twin-engine"] == "clone"
    assert oa.headers["x-twin-reference"] == "references/happy.wav" and oa.headers["x-twin-emotion"] == "happy"
