"""LLM provider contract: async streaming chat with usage, timings and cancellation.

A backend subclasses `LLM` and implements `_stream()`, yielding text pieces (str) and at most one
final `StreamEnd`. The base class turns that into the public stream: `TextDelta`s then one `ChatResult`
with usage and timings, measured the same way for every backend. Cancellation works two ways: set the
`cancel` Event (the stream then ends with a ChatResult whose finish_reason is "cancelled" and whose text
is exactly what was yielded so far), or cancel the asyncio task; either way the backend's generator is
closed so it can stop the engine. `LLMOptions.timeout_s` is enforced here for every backend: when no
output arrives for that long the stream raises Timeout.

Prompt budgeting needs two more answers from a backend: `context_window` (tokens the model can attend
to, known after `load()`) and `count_tokens(text | messages)`. Backends that can ask the engine's own
tokenizer say so with `Capabilities.exact_tokens`; the others estimate (about 4 characters a token).
`LLMOptions.json_schema` constrains the reply to JSON matching a schema (grammar, `format` or
`response_format`, whatever the engine speaks).

Which backend a profile uses comes from `LLMConfig`: `<profile>/llm.json`, overridden by environment
variables TWIN_LLM_BACKEND, TWIN_LLM_MODEL, TWIN_LLM_LORA, TWIN_OLLAMA_URL, TWIN_OPENAI_BASE_URL,
TWIN_OPENAI_API_KEY, overridden by explicit arguments. No heavy imports here."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from twin.errors import InvalidInput, Timeout
from twin.profiles import Profile, write_text_atomic
from twin.providers.loading import TracksLoading

Role = Literal["system", "user", "assistant"]


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role
    content: str


class LLMOptions(BaseModel):
    """Sampling options every backend understands."""

    model_config = ConfigDict(extra="forbid")

    max_tokens: int = Field(256, ge=1, le=32768, description="Most tokens to generate.")
    temperature: float = Field(0.7, ge=0.0, le=2.0, description="Sampling temperature; 0 is greedy.")
    top_p: float = Field(0.95, gt=0.0, le=1.0, description="Nucleus sampling mass.")
    stop: list[str] = Field(default_factory=list, description="Stop generating at any of these strings.")
    seed: int | None = Field(None, description="Sampling seed, for repeatable output where supported.")
    timeout_s: float = Field(120.0, gt=0, description="Give up when no output arrives for this long (seconds).")
    json_schema: dict[str, Any] | None = Field(
        None, description="Constrain the reply to JSON that matches this JSON schema (an object schema)."
    )


@dataclass(frozen=True)
class Capabilities:
    streaming: bool = True
    cancel: bool = True
    lora: bool = False  # can apply a LoRA adapter (file or adapter model name)
    in_process: bool = False  # runs inside this process (no server)
    list_models: bool = False
    exact_tokens: bool = False  # count_tokens asks the engine's tokenizer (else it is an estimate)
    prefix_cache: bool = False  # keeps the evaluated prompt prefix between requests (only new tokens run)


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass
class Timings:
    """first_token_s: request to first text; total_s: request to end; tokens_per_s: completion
    tokens after the first one divided by the time after the first one (decode speed); with a single
    token it is completion_tokens / total_s."""

    first_token_s: float = 0.0
    tokens_per_s: float = 0.0
    total_s: float = 0.0


@dataclass
class TextDelta:
    text: str


@dataclass
class StreamEnd:
    """What a backend reports after its last piece; unknown counts stay None and are estimated."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    finish_reason: str = "stop"
    model: str | None = None
    prompt_eval_tokens: int | None = None


@dataclass
class ChatResult:
    """prompt_eval_tokens: prompt tokens the engine actually evaluated for this request (the rest came
    from its prefix cache); None when the engine does not say."""

    text: str
    model: str
    usage: Usage = field(default_factory=Usage)
    timings: Timings = field(default_factory=Timings)
    finish_reason: str = "stop"
    prompt_eval_tokens: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "model": self.model,
            "usage": asdict(self.usage),
            "timings": asdict(self.timings),
            "finish_reason": self.finish_reason,
        }


StreamItem = TextDelta | ChatResult
Messages = Iterable[ChatMessage | Mapping[str, str]]


def as_messages(messages: Messages | str) -> list[ChatMessage]:
    """Accept ChatMessage objects, {"role","content"} dicts, or a bare prompt string."""
    if isinstance(messages, str):
        return [ChatMessage(role="user", content=messages)]
    out = [m if isinstance(m, ChatMessage) else ChatMessage.model_validate(dict(m)) for m in messages]
    if not out:
        raise InvalidInput("No messages to send to the model.", "Give at least one user message.")
    return out


def compute_timings(start: float, first: float | None, end: float, completion_tokens: int) -> Timings:
    total = max(end - start, 0.0)
    if first is None:
        return Timings(0.0, 0.0, total)
    ttft = max(first - start, 0.0)
    decode = end - first
    if completion_tokens > 1 and decode > 0:
        tps = (completion_tokens - 1) / decode
    else:
        tps = completion_tokens / total if total > 0 else 0.0
    return Timings(first_token_s=ttft, tokens_per_s=tps, total_s=total)


def estimate_tokens(text: str) -> int:
    """A rough count (about 4 characters a token) for backends that report none."""
    return max(1, round(len(text) / 4)) if text else 0


# Chat templates wrap each message in a few tokens (role markers, separators) and open the reply.
MESSAGE_OVERHEAD_TOKENS = 4
REPLY_PRIMER_TOKENS = 3
DEFAULT_CONTEXT_WINDOW = 4096


class LLM(TracksLoading, ABC):
    """One loaded model behind a backend. Create it with twin.providers.registry.create("llm", name, ...)."""

    name: ClassVar[str] = "llm"
    capabilities: ClassVar[Capabilities] = Capabilities()

    def __init__(self, model: str, context_window: int | None = None) -> None:
        self.model = model
        self._context_window = context_window

    async def load(self) -> None:  # noqa: B027 - optional hook
        """Load weights or check the server; called once before the first request by stream_chat."""

    async def ensure_loaded(self) -> None:
        """Run load() once; afterwards `loaded` is True (also for a backend with nothing to load)."""
        if not self.loaded:
            await self.load()
            self._provider_loaded = True

    @property
    def context_window(self) -> int:
        """Tokens the model attends to (prompt + reply). Exact after load() for backends that can ask."""
        return self._context_window or DEFAULT_CONTEXT_WINDOW

    @property
    def exact_tokens(self) -> bool:
        """Whether count_tokens asks the engine's tokenizer (False: an estimate)."""
        return self.capabilities.exact_tokens

    async def count_tokens(self, content: str | Messages) -> int:
        """Tokens of a text, or of a message list as the chat template will present it."""
        if isinstance(content, str):
            return await self._count_text(content)
        return await self._count_messages(as_messages(content))

    async def _count_text(self, text: str) -> int:
        return estimate_tokens(text)

    async def _count_messages(self, messages: list[ChatMessage]) -> int:
        total = REPLY_PRIMER_TOKENS
        for m in messages:
            total += MESSAGE_OVERHEAD_TOKENS + await self._count_text(m.content)
        return total

    @abstractmethod
    def _stream(self, messages: list[ChatMessage], options: LLMOptions) -> AsyncGenerator[str | StreamEnd, None]:
        """Yield text pieces, then optionally one StreamEnd. Raise TwinError subclasses on failure."""

    async def list_models(self) -> list[str]:
        return [self.model]

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release connections; the model may stay cached for the next instance."""

    def clear_prompt_cache(self) -> None:  # noqa: B027 - optional hook
        """Forget prompts the engine keeps evaluated (a deleted memory must not linger in a KV cache)."""

    async def stream_chat(
        self, messages: Messages | str, options: LLMOptions | None = None, *, cancel: asyncio.Event | None = None
    ) -> AsyncIterator[StreamItem]:
        """Yield TextDelta pieces, then one ChatResult. Setting `cancel` ends the stream early with
        finish_reason "cancelled" and the text yielded so far; silence longer than timeout_s raises Timeout."""
        msgs = as_messages(messages)
        opts = options or LLMOptions()
        await self.ensure_loaded()
        start = time.perf_counter()
        first: float | None = None
        parts: list[str] = []
        end = StreamEnd()
        gen = self._stream(msgs, opts)
        try:
            async for item in _guarded(gen, cancel, opts.timeout_s):
                if isinstance(item, StreamEnd):
                    end = item
                    continue
                if not item:
                    continue
                if first is None:
                    first = time.perf_counter()
                parts.append(item)
                yield TextDelta(item)
        finally:
            await gen.aclose()
        text = "".join(parts)
        if cancel is not None and cancel.is_set():
            end = StreamEnd(finish_reason="cancelled", model=end.model)
        completion = end.completion_tokens if end.completion_tokens is not None else estimate_tokens(text)
        prompt = end.prompt_tokens if end.prompt_tokens is not None else sum(estimate_tokens(m.content) for m in msgs)
        timings = compute_timings(start, first, time.perf_counter(), completion)
        yield ChatResult(
            text=text,
            model=end.model or self.model,
            usage=Usage(prompt, completion),
            timings=timings,
            finish_reason=end.finish_reason,
            prompt_eval_tokens=end.prompt_eval_tokens,
        )

    async def chat(
        self, messages: Messages | str, options: LLMOptions | None = None, *, cancel: asyncio.Event | None = None
    ) -> ChatResult:
        """The whole reply at once (still streamed underneath, so timings are real)."""
        result: ChatResult | None = None
        async for item in self.stream_chat(messages, options, cancel=cancel):
            if isinstance(item, ChatResult):
                result = item
        assert result is not None
        return result

    def complete_sync(self, messages: Messages | str, options: LLMOptions | None = None) -> ChatResult:
        """Blocking helper for offline stages; safe to call from inside a running event loop too."""
        result: ChatResult = run_sync(self.chat(messages, options))
        return result


async def _guarded(
    gen: AsyncIterator[str | StreamEnd], cancel: asyncio.Event | None, timeout_s: float
) -> AsyncIterator[str | StreamEnd]:
    """Iterate `gen`; stop quietly as soon as `cancel` is set (even while waiting for a token) and raise
    Timeout when nothing arrives for `timeout_s`."""
    waiter = asyncio.ensure_future(cancel.wait()) if cancel is not None else None
    nxt: asyncio.Future[str | StreamEnd] | None = None
    try:
        while True:
            if cancel is not None and cancel.is_set():
                return
            nxt = asyncio.ensure_future(gen.__anext__())
            pending = {nxt} if waiter is None else {nxt, waiter}
            done, _ = await asyncio.wait(pending, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
            if nxt not in done:
                if not done:
                    raise Timeout(
                        f"The model sent nothing for {timeout_s:g} s.",
                        "The engine may be overloaded or stuck: try again, raise timeout_s, or use a smaller model.",
                    )
                return
            try:
                item = nxt.result()
            except StopAsyncIteration:
                return
            yield item
    finally:
        if waiter is not None:
            waiter.cancel()
        if nxt is not None and not nxt.done():  # stop the engine's pending step before the generator closes
            nxt.cancel()
            await asyncio.gather(nxt, return_exceptions=True)


def run_sync(coro: Any) -> Any:
    """Run a coroutine to completion from sync code, in a helper thread when a loop is already running."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(coro)
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    t = threading.Thread(target=target, name="twin-llm-sync")
    t.start()
    t.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


# ---- which backend a profile uses -------------------------------------------------------------

DEFAULT_OLLAMA_URL = "http://127.0.0.1:11434"
DEFAULT_OPENAI_BASE_URL = "http://127.0.0.1:8000/v1"

_ENV = {
    "backend": "TWIN_LLM_BACKEND",
    "model": "TWIN_LLM_MODEL",
    "lora_path": "TWIN_LLM_LORA",
    "ollama_url": "TWIN_OLLAMA_URL",
    "openai_base_url": "TWIN_OPENAI_BASE_URL",
    "api_key": "TWIN_OPENAI_API_KEY",
}


class LLMConfig(BaseModel):
    """The writing model of a profile, stored in <profile>/llm.json."""

    model_config = ConfigDict(extra="forbid")

    backend: str = Field("llamacpp", description="llamacpp (embedded, default), ollama, openai or fake.")
    model: str | None = Field(
        None, description="GGUF path (llamacpp) or model name (ollama/openai); empty means the backend's default."
    )
    lora_path: str | None = Field(None, description="GGUF LoRA adapter applied by the llamacpp backend.")
    ollama_url: str = Field(DEFAULT_OLLAMA_URL, description="Ollama server address.")
    openai_base_url: str = Field(DEFAULT_OPENAI_BASE_URL, description="OpenAI-compatible base URL (…/v1).")
    api_key: str | None = Field(None, description="Bearer key for OpenAI-compatible servers that need one.")
    keep_alive: str | None = Field("10m", description="How long Ollama keeps the model loaded.")
    n_ctx: int = Field(2048, ge=256, description="Context window for the embedded backend.")
    active_model: str | None = Field(
        None,
        description="The twin model (in <profile>/models/) this config was set from by `twin model use` or "
        "`twin export --activate`; drafting uses the system prompt it was trained with.",
    )
    context_window: int | None = Field(
        None,
        ge=256,
        description="Context window of an Ollama (sent as num_ctx) or OpenAI-compatible model; empty asks "
        "the server where it can tell (Ollama /api/show, vLLM max_model_len), else 4096.",
    )

    def backend_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for registry.create('llm', self.backend, ...)."""
        kw: dict[str, Any] = {}
        if self.model:
            kw["model"] = self.model
        if self.backend == "llamacpp":
            kw.update(lora_path=self.lora_path, n_ctx=self.n_ctx)
        elif self.backend == "ollama":
            kw.update(base_url=self.ollama_url, keep_alive=self.keep_alive, num_ctx=self.context_window)
        elif self.backend == "openai":
            kw.update(base_url=self.openai_base_url, api_key=self.api_key, context_window=self.context_window)
        return kw


def config_path(profile: Profile) -> Path:
    return profile.root / "llm.json"


def load_llm_config(profile: Profile | None = None, **overrides: Any) -> LLMConfig:
    """llm.json of the profile, then TWIN_* environment variables, then non-None `overrides`."""
    data: dict[str, Any] = {}
    if profile is not None and config_path(profile).is_file():
        data.update(
            LLMConfig.model_validate_json(config_path(profile).read_text("utf-8")).model_dump(exclude_unset=True)
        )
    data.update({k: os.environ[v] for k, v in _ENV.items() if os.environ.get(v)})
    data.update({k: v for k, v in overrides.items() if v is not None})
    return LLMConfig.model_validate(data)


def save_llm_config(profile: Profile, config: LLMConfig) -> None:
    write_text_atomic(config_path(profile), config.model_dump_json(indent=2, exclude_defaults=True))


def open_llm(profile: Profile | None = None, **overrides: Any) -> LLM:
    """Build the configured LLM backend (not loaded yet; the first request loads it)."""
    from twin.providers import registry

    cfg = load_llm_config(profile, **overrides)
    return registry.create("llm", cfg.backend, **cfg.backend_kwargs())
