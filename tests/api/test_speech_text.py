"""Text with nothing to say: punctuation alone used to give a 200 with an empty (0 s) WAV, in the
OpenAI route and the web UI's test synthesis alike."""

from __future__ import annotations

import pytest
from tests.api.conftest import Env

from twin.voice.synth.normalize import has_words


@pytest.mark.parametrize("text", ["...", "…", "?!", " - ", "«»"])
def test_punctuation_alone_is_refused_on_every_speaking_route(env: Env, text: str) -> None:
    for path, body in [
        ("/v1/audio/speech", {"model": "tts-1", "input": text, "voice": "alloy", "response_format": "wav"}),
        ("/api/tts/clone", {"text": text}),
        ("/api/tts/clone", {"text": text, "stream": True}),
    ]:
        r = env.client.post(path, headers=env.auth(), json=body)
        assert r.status_code == 422, (path, body, r.status_code)
        err = r.json()["error"]
        assert err["code"] == "invalid_input" and "only punctuation" in err["message"], err
        assert "word" in err["hint"]


@pytest.mark.parametrize(("text", "words"), [("Hi...", True), ("$5", True), ("😊", True), ("…!", False)])
def test_has_words(text: str, words: bool) -> None:
    assert has_words(text) is words
