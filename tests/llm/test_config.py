"""Fake-backend specifics and backend selection: options validation, message validation, sync use
inside a loop, timings math, llm.json precedence, the fake's context window."""

from __future__ import annotations

import asyncio

import pytest

from twin.errors import InvalidInput
from twin.profiles import ProfileManager
from twin.providers import registry
from twin.providers.llm import LLMConfig, LLMOptions, compute_timings, load_llm_config, open_llm, save_llm_config
from twin.settings import load_settings


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


def test_fake_refuses_a_prompt_over_its_window() -> None:
    llm = registry.create("llm", "fake", context_window=20)
    with pytest.raises(InvalidInput) as exc:
        llm.complete_sync("word " * 30)
    assert "context window is 20" in exc.value.message
    assert asyncio.run(llm.count_tokens("word " * 30)) == 30


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
    save_llm_config(profile, LLMConfig(backend="ollama", model="me-writing", context_window=8192))
    cfg = load_llm_config(profile)
    assert (cfg.backend, cfg.model) == ("ollama", "me-writing")
    assert cfg.backend_kwargs()["num_ctx"] == 8192
    monkeypatch.setenv("TWIN_LLM_MODEL", "other")
    assert load_llm_config(profile).model == "other"
    assert load_llm_config(profile, model="flag").model == "flag"
    llm = open_llm(profile, backend="fake", model="m1")
    assert llm.model == "m1"
