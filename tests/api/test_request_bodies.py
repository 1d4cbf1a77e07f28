"""What a client hears when its request body is not what a route reads: broken JSON, JSON sent
under another content type (or none), and bodies over the limits, each with the setting to change."""

from __future__ import annotations

import json

import pytest
from tests.api.conftest import Env, tone_wav

SPEECH = {"model": "tts-1", "input": "Hello there.", "voice": "alloy"}


def test_broken_json_is_a_400_that_says_where(env: Env) -> None:
    r = env.client.post(
        "/v1/chat/completions",
        headers={**env.auth(), "Content-Type": "application/json"},
        content=b'{"model": "x", "messages": [',
    )
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert err["code"] == "invalid_json"
    assert "not valid JSON" in err["message"] and "character 28" in err["message"]
    assert "body.28" not in err["message"]


@pytest.mark.parametrize(
    ("ctype", "said"),
    [("text/plain", "as text/plain"), ("application/x-www-form-urlencoded", "as application/x-www-form-urlencoded")],
)
def test_json_under_another_content_type_is_a_415(env: Env, ctype: str, said: str) -> None:
    r = env.client.post(
        "/v1/audio/speech", headers={**env.auth(), "Content-Type": ctype}, content=json.dumps(SPEECH).encode()
    )
    assert r.status_code == 415, r.text
    err = r.json()["error"]
    assert err["code"] == "unsupported_format" and said in err["message"]
    assert "Content-Type: application/json" in err["hint"]


def test_json_without_a_content_type_is_a_415(env: Env) -> None:
    r = env.client.post("/api/tts/clone", headers=env.auth(), content=json.dumps({"text": "hi"}).encode())
    assert r.status_code == 415, r.text
    assert "without a Content-Type" in r.json()["error"]["message"]


def test_a_json_array_is_still_a_schema_error(env: Env) -> None:
    r = env.client.post("/v1/chat/completions", headers=env.auth(), json=[1, 2])
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_input"


def test_an_upload_over_the_limit_says_how_big_the_limit_is(small_env: Env) -> None:
    files = {"file": ("long-take.wav", tone_wav(3.0), "audio/wav")}
    r = small_env.client.post("/api/voice/upload", headers=small_env.auth(), files=files)
    assert r.status_code == 413
    err = r.json()["error"]
    assert "65.5 kB" in err["message"] and "KiB" not in err["message"]
    assert "TWIN_SERVER_MAX_UPLOAD_BYTES" in err["hint"] and "MAX_BODY" not in err["hint"]


def test_a_json_body_over_the_limit_names_the_body_setting(small_env: Env) -> None:
    big = {"model": "m", "messages": [{"role": "user", "content": "x" * 10_000}]}
    r = small_env.client.post("/v1/chat/completions", headers=small_env.auth(), json=big)
    assert r.status_code == 413
    err = r.json()["error"]
    assert "4.1 kB" in err["message"]
    assert "TWIN_SERVER_MAX_BODY_BYTES" in err["hint"] and "UPLOAD" not in err["hint"]
