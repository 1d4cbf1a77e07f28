"""Scripted LLM for tests and offline pipelines: replies come from a list (cycled), a function of
the messages, or by default echo the last user message. Streams word by word like a real model.

Its "tokens" are those word pieces, so it counts them exactly and enforces its context window the way
llama.cpp does (a prompt that does not fit is refused). With `json_schema` set, a reply that is not JSON
matching the schema is replaced by the schema's smallest instance, as constrained decoding would force."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncGenerator, Callable, Sequence

from twin.backends.llm_fake_http import conform_to_schema
from twin.errors import InvalidInput, TwinError
from twin.providers.llm import (
    LLM,
    MESSAGE_OVERHEAD_TOKENS,
    REPLY_PRIMER_TOKENS,
    Capabilities,
    ChatMessage,
    LLMOptions,
    StreamEnd,
)

ReplyFn = Callable[[list[ChatMessage]], str]
_PIECE = re.compile(r"\S+\s*|\s+")


def pieces(text: str) -> list[str]:
    return _PIECE.findall(text)


class FakeLLM(LLM):
    name = "fake"
    capabilities = Capabilities(
        streaming=True, cancel=True, lora=False, in_process=True, list_models=True, exact_tokens=True
    )

    def __init__(
        self,
        model: str = "fake",
        replies: Sequence[str] | None = None,
        reply_fn: ReplyFn | None = None,
        delay_s: float = 0.0,
        fail_with: TwinError | None = None,
        fail_after: int = 0,
        context_window: int = 4096,
        first_delay_s: float = 0.0,
    ) -> None:
        super().__init__(model, context_window)
        self.replies = list(replies or [])
        self.reply_fn = reply_fn
        self.delay_s = delay_s
        self.first_delay_s = first_delay_s
        self.fail_with = fail_with
        self.fail_after = fail_after
        self.calls: list[list[ChatMessage]] = []
        self.options: list[LLMOptions] = []
        self.cache_clears = 0

    def _reply(self, messages: list[ChatMessage]) -> str:
        if self.reply_fn is not None:
            return self.reply_fn(messages)
        if self.replies:
            return self.replies[(len(self.calls) - 1) % len(self.replies)]
        users = [m.content for m in messages if m.role == "user"]
        return users[-1] if users else ""

    async def _count_text(self, text: str) -> int:
        return len(pieces(text))

    def _prompt_tokens(self, messages: list[ChatMessage]) -> int:
        return REPLY_PRIMER_TOKENS + sum(MESSAGE_OVERHEAD_TOKENS + len(pieces(m.content)) for m in messages)

    async def _stream(self, messages: list[ChatMessage], options: LLMOptions) -> AsyncGenerator[str | StreamEnd, None]:
        self.calls.append(messages)
        self.options.append(options)
        prompt = self._prompt_tokens(messages)
        if prompt >= self.context_window:
            raise InvalidInput(
                f"The prompt is {prompt} tokens; the model's context window is {self.context_window}.",
                "Shorten the conversation or use a model with a larger context window.",
            )
        reply = self._reply(messages)
        if options.json_schema is not None:
            reply = conform_to_schema(reply, options.json_schema)
        parts = pieces(reply)
        finish = "stop"
        room = min(options.max_tokens, self.context_window - prompt)
        if len(parts) > room:
            parts, finish = parts[:room], "length"
        if self.first_delay_s:
            await asyncio.sleep(self.first_delay_s)
        for i, piece in enumerate(parts):
            if self.fail_with is not None and i >= self.fail_after:
                raise self.fail_with
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            yield piece
        if self.fail_with is not None and len(parts) <= self.fail_after:
            raise self.fail_with
        yield StreamEnd(prompt_tokens=prompt, completion_tokens=len(parts), finish_reason=finish)

    async def list_models(self) -> list[str]:
        return [self.model]

    def clear_prompt_cache(self) -> None:
        self.cache_clears += 1


def create(**kwargs: object) -> FakeLLM:
    return FakeLLM(**kwargs)  # type: ignore[arg-type]
