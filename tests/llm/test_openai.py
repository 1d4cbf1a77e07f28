"""The openai backend against the fake OpenAI-compatible server, and the real `openai` SDK against it."""

from __future__ import annotations

import asyncio

import pytest

from twin.backends.fake_openai import FakeOpenAI
from twin.errors import NotFound, Unauthorized
from twin.providers import registry
from twin.providers.llm import LLMOptions, TextDelta


def _llm(server, model="me-lora", **kw):
    return registry.create("llm", "openai", model=model, base_url=server.base_url, **kw)


def test_streams_sse_with_usage(fake_openai) -> None:
    llm = _llm(fake_openai)

    async def go():
        return [i async for i in llm.stream_chat("keep it short please")]

    items = asyncio.run(go())
    assert [i.text for i in items if isinstance(i, TextDelta)] == ["keep ", "it ", "short ", "please"]
    result = items[-1]
    assert (result.text, result.model, result.finish_reason) == ("keep it short please", "me-lora", "stop")
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (4, 4)
    sent = fake_openai.requests[-1].json()
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}


def test_default_model_is_the_servers_first(fake_openai) -> None:
    result = registry.create("llm", "openai", base_url=fake_openai.base_url).complete_sync("a b")
    assert result.model == "base-model"


def test_length_and_stop(fake_openai) -> None:
    result = _llm(fake_openai).complete_sync("a b c d. e f", LLMOptions(max_tokens=10, stop=["."]))
    assert result.text == "a b c d"
    result = _llm(fake_openai).complete_sync("a b c d e f", LLMOptions(max_tokens=2))
    assert result.finish_reason == "length" and result.usage.completion_tokens == 2


def test_unknown_model(fake_openai) -> None:
    with pytest.raises(NotFound) as exc:
        _llm(fake_openai, model="ghost").complete_sync("hi")
    assert "--lora-modules" in exc.value.hint


def test_api_key() -> None:
    with FakeOpenAI(api_key="s3cret") as server:
        with pytest.raises(Unauthorized):
            registry.create("llm", "openai", model="base-model", base_url=server.base_url).complete_sync("x")
        ok = registry.create("llm", "openai", model="base-model", base_url=server.base_url, api_key="s3cret")
        assert ok.complete_sync("x").text == "x"


def test_real_sdk_against_the_fake(fake_openai) -> None:
    openai = pytest.importorskip("openai")
    c = openai.OpenAI(base_url=fake_openai.base_url, api_key="unused", max_retries=0)
    assert [m.id for m in c.models.list()] == ["base-model", "me-lora", "broken"]
    stream = c.chat.completions.create(
        model="me-lora",
        messages=[{"role": "user", "content": "hi you"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices) == "hi you"
    assert chunks[-1].usage.completion_tokens == 2
    one = c.chat.completions.create(model="me-lora", messages=[{"role": "user", "content": "a b c"}], max_tokens=2)
    assert one.choices[0].message.content == "a b " and one.choices[0].finish_reason == "length"
    with pytest.raises(openai.NotFoundError):
        c.chat.completions.create(model="ghost", messages=[{"role": "user", "content": "x"}])
    with pytest.raises(openai.APIError):
        list(c.chat.completions.create(model="broken", messages=[{"role": "user", "content": "a b c d"}], stream=True))
