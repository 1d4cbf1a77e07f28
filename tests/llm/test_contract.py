"""The LLM contract through the fake backend: streaming, usage, timings, cancellation, config."""

from __future__ import annotations

import asyncio

import pytest

from twin.errors import Cancelled, InvalidInput, Unavailable
from twin.profiles import ProfileManager
from twin.providers import registry
from twin.providers.llm import (
    ChatResult,
    LLMConfig,
    LLMOptions,
    TextDelta,
    compute_timings,
    load_llm_config,
    open_llm,
    save_llm_config,
)
from twin.settings import load_settings


def test_stream_yields_deltas_then_result() -> None:
    llm = registry.create("llm", "fake", replies=["Thanks a lot, that saved me an hour."])

    async def go() -> list:
        return [item async for item in llm.stream_chat("draft a thank-you")]

    items = asyncio.run(go())
    assert all(isinstance(i, TextDelta) for i in items[:-1])
    result = items[-1]
    assert isinstance(result, ChatResult)
    assert result.text == "".join(i.text for i in items[:-1]) == "Thanks a lot, that saved me an hour."
    assert result.usage.completion_tokens == 8
    assert result.timings.total_s >= result.timings.first_token_s >= 0
    assert set(result.to_dict()) >= {"text", "model", "usage", "timings"}


def test_max_tokens_truncates_with_length_reason() -> None:
    llm = registry.create("llm", "fake", replies=["one two three four five"])
    result = llm.complete_sync("x", LLMOptions(max_tokens=2))
    assert result.text == "one two "
    assert result.finish_reason == "length"


def test_options_forbid_unknown_fields() -> None:
    with pytest.raises(ValueError):
        LLMOptions(max_tokens=5, temprature=0.2)  # type: ignore[call-arg]


def test_messages_validated() -> None:
    llm = registry.create("llm", "fake")
    with pytest.raises(InvalidInput):
        llm.complete_sync([])
    with pytest.raises(ValueError):
        llm.complete_sync([{"role": "robot", "content": "hi"}])


def test_cancel_event_stops_generation() -> None:
    llm = registry.create("llm", "fake", replies=["word " * 1000], delay_s=0.01)

    async def go() -> int:
        cancel = asyncio.Event()
        seen = 0
        with pytest.raises(Cancelled):
            async for _item in llm.stream_chat("x", LLMOptions(max_tokens=2000), cancel=cancel):
                seen += 1
                if seen == 3:
                    cancel.set()
        return seen

    assert asyncio.run(go()) == 3


def test_task_cancel_stops_generation() -> None:
    llm = registry.create("llm", "fake", replies=["word " * 1000], delay_s=0.01)
    got: list[str] = []

    async def consume() -> None:
        async for item in llm.stream_chat("x", LLMOptions(max_tokens=2000)):
            if isinstance(item, TextDelta):
                got.append(item.text)

    async def go() -> None:
        task = asyncio.create_task(consume())
        while len(got) < 2:
            await asyncio.sleep(0.005)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(go())
    assert 2 <= len(got) < 1000


def test_error_mid_stream_propagates() -> None:
    llm = registry.create("llm", "fake", replies=["a b c d"], fail_with=Unavailable("gone", "restart"), fail_after=2)

    async def go() -> list[str]:
        out: list[str] = []
        with pytest.raises(Unavailable):
            async for item in llm.stream_chat("x"):
                out.append(item.text)
        return out

    assert asyncio.run(go()) == ["a ", "b "]


def test_complete_sync_inside_running_loop() -> None:
    llm = registry.create("llm", "fake", replies=["ok"])

    async def go() -> str:
        return llm.complete_sync("x").text

    assert asyncio.run(go()) == "ok"


def test_timings_math() -> None:
    t = compute_timings(10.0, 10.5, 12.5, 11)
    assert (t.first_token_s, t.tokens_per_s, t.total_s) == (0.5, 5.0, 2.5)
    assert compute_timings(0.0, None, 1.0, 0).tokens_per_s == 0.0


def test_config_precedence(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TWIN_HOME", str(tmp_path))
    for var in ("TWIN_LLM_BACKEND", "TWIN_LLM_MODEL", "TWIN_OLLAMA_URL"):
        monkeypatch.delenv(var, raising=False)
    profile = ProfileManager(load_settings()).create("me")
    assert load_llm_config(profile).backend == "llamacpp"
    save_llm_config(profile, LLMConfig(backend="ollama", model="me-writing"))
    cfg = load_llm_config(profile)
    assert (cfg.backend, cfg.model) == ("ollama", "me-writing")
    monkeypatch.setenv("TWIN_LLM_MODEL", "other")
    assert load_llm_config(profile).model == "other"
    assert load_llm_config(profile, model="flag").model == "flag"
    llm = open_llm(profile, backend="fake", model="m1")
    assert llm.model == "m1"
