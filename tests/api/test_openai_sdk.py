"""The real `openai` SDK against the running server: models, chat (plain and streaming), speech."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

openai = pytest.importorskip("openai")

from .conftest import Env, make_env  # noqa: E402
from .live import serve  # noqa: E402


@pytest.fixture
def live(twin_home: Path) -> Iterator[tuple[Env, str]]:
    env = make_env(twin_home)
    with serve(env.client.app) as url:
        yield env, url


def test_sdk_chat_models_and_speech(live: tuple[Env, str]) -> None:
    env, url = live
    client = openai.OpenAI(base_url=url + "/v1", api_key=env.alice, max_retries=0)
    assert [m.id for m in client.models.list()] == ["fake", "persona:twin"]
    reply = client.chat.completions.create(model="twin", messages=[{"role": "user", "content": "see you soon"}])
    assert reply.choices[0].message.content == "see you soon"
    assert reply.usage.completion_tokens == 3
    pieces = [
        c.choices[0].delta.content or ""
        for c in client.chat.completions.create(
            model="twin", stream=True, messages=[{"role": "user", "content": "one two three four"}]
        )
        if c.choices
    ]
    assert "".join(pieces) == "one two three four" and len([p for p in pieces if p]) == 4
    speech = client.audio.speech.create(
        model="tts-1", voice="default", input="Hello from the twin.", response_format="wav"
    )
    assert speech.content[:4] == b"RIFF"


def test_sdk_wrong_key_and_cross_profile(live: tuple[Env, str]) -> None:
    env, url = live
    bad = openai.OpenAI(base_url=url + "/v1", api_key="twin_sk_" + "x" * 43, max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.models.list()
    bob = openai.OpenAI(base_url=url + "/v1", api_key=env.bob, max_retries=0)
    with pytest.raises(openai.NotFoundError):
        bob.audio.speech.create(model="tts-1", voice="alice-voice", input="hi")


def test_sdk_usage_parts_formats_and_refusals(live: tuple[Env, str]) -> None:
    env, url = live
    client = openai.OpenAI(base_url=url + "/v1", api_key=env.alice, max_retries=0)
    stream = client.chat.completions.create(
        model="twin",
        stream=True,
        stream_options={"include_usage": True},
        max_tokens=8192,
        messages=[
            {"role": "developer", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "one two"}, {"type": "text", "text": "three"}]},
        ],
    )
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "one two\nthree"
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == 3
    assert {c.model for c in chunks} == {"fake"}
    cut = client.chat.completions.create(model="twin", max_tokens=1, n=2, messages=[{"role": "user", "content": "a b"}])
    assert [c.finish_reason for c in cut.choices] == ["length", "length"]

    with pytest.raises(openai.BadRequestError, match="reads text only"):
        client.chat.completions.create(
            model="twin",
            messages=[{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://x/y.png"}}]}],
        )
    with pytest.raises(openai.BadRequestError, match="does not call tools"):
        client.chat.completions.create(
            model="twin",
            messages=[{"role": "user", "content": "weather?"}],
            tools=[{"type": "function", "function": {"name": "weather", "parameters": {"type": "object"}}}],
        )

    magic = {"mp3": (b"ID3", b"\xff"), "opus": (b"OggS",), "flac": (b"fLaC",), "wav": (b"RIFF",)}
    for fmt, starts in magic.items():
        audio = client.audio.speech.create(model="tts-1", voice="nova", input="Hello.", response_format=fmt)
        assert audio.content.startswith(starts), fmt
    text = "Hello, this is a slightly longer sentence."
    normal = client.audio.speech.create(model="tts-1", voice="alloy", input=text, response_format="pcm")
    fast = client.audio.speech.create(model="tts-1", voice="alloy", input=text, response_format="pcm", speed=1.5)
    assert len(normal.content) % 2 == 0 and len(normal.content) / 48000 > 1.0  # 24 kHz 16-bit mono
    assert len(fast.content) < 0.8 * len(normal.content)  # speed reaches the engine
