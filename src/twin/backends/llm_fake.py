"""Scripted LLM for tests and offline pipelines: replies come from a list (cycled), a function of
the messages, or by default echo the last user message. Streams word by word like a real model."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable, Sequence

from twin.errors import TwinError
from twin.providers.llm import LLM, Capabilities, ChatMessage, LLMOptions, StreamEnd

ReplyFn = Callable[[list[ChatMessage]], str]


class FakeLLM(LLM):
    name = "fake"
    capabilities = Capabilities(streaming=True, cancel=True, lora=False, in_process=True, list_models=True)

    def __init__(
        self,
        model: str = "fake",
        replies: Sequence[str] | None = None,
        reply_fn: ReplyFn | None = None,
        delay_s: float = 0.0,
        fail_with: TwinError | None = None,
        fail_after: int = 0,
    ) -> None:
        super().__init__(model)
        self.replies = list(replies or [])
        self.reply_fn = reply_fn
        self.delay_s = delay_s
        self.fail_with = fail_with
        self.fail_after = fail_after
        self.calls: list[list[ChatMessage]] = []

    def _reply(self, messages: list[ChatMessage]) -> str:
        if self.reply_fn is not None:
            return self.reply_fn(messages)
        if self.replies:
            return self.replies[(len(self.calls) - 1) % len(self.replies)]
        users = [m.content for m in messages if m.role == "user"]
        return users[-1] if users else ""

    async def _stream(self, messages: list[ChatMessage], options: LLMOptions) -> AsyncIterator[str | StreamEnd]:
        self.calls.append(messages)
        pieces = re.findall(r"\S+\s*|\s+", self._reply(messages))
        finish = "stop"
        if len(pieces) > options.max_tokens:
            pieces, finish = pieces[: options.max_tokens], "length"
        for i, piece in enumerate(pieces):
            if self.fail_with is not None and i >= self.fail_after:
                raise self.fail_with
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            yield piece
        if self.fail_with is not None and len(pieces) <= self.fail_after:
            raise self.fail_with
        prompt = sum(len(m.content.split()) for m in messages)
        yield StreamEnd(prompt_tokens=prompt, completion_tokens=len(pieces), finish_reason=finish)

    async def list_models(self) -> list[str]:
        return [self.model]


def create(**kwargs: object) -> FakeLLM:
    return FakeLLM(**kwargs)  # type: ignore[arg-type]
