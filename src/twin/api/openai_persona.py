"""`model: "persona:<name>"` on /v1/chat/completions: the turn runs through the chat service, so the
persona's prompt, its memory (recall and write) and the stored conversation apply, exactly as in
`twin chat` and POST /api/chat. OpenAI clients resend the whole history each turn; the chat service
continues the stored conversation those earlier messages belong to. The reply's conversation id is
returned in the X-Twin-Conversation header of a non-streamed reply."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from typing import cast

from twin.api.openai_chat import completion_ids, completion_usage, unsupported
from twin.api.openai_schemas import (
    AssistantMessage,
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionRequest,
    Choice,
    ChunkChoice,
    CompletionUsage,
    Delta,
    FinishReason,
)
from twin.chat.service import ChatEvent, ChatService, TurnResult
from twin.providers.llm import LLMOptions, TextDelta

PREFIX = "persona:"


def persona_of(model: str) -> str | None:
    """The persona a model name asks for ("persona:ann" → "ann"), or None for a plain model."""
    return model[len(PREFIX) :] if model.startswith(PREFIX) else None


def check_persona_request(body: ChatCompletionRequest) -> None:
    if body.n != 1:
        raise unsupported(
            f"n={body.n}: a persona answers once per turn (each turn is stored and remembered).", "Leave n out."
        )


def _finish(result: TurnResult) -> FinishReason:
    return "length" if result.finish_reason == "length" else "stop"


def _events(
    svc: ChatService, persona: str, messages: list[dict[str, str]], options: LLMOptions
) -> AsyncGenerator[ChatEvent, None]:
    return cast(AsyncGenerator[ChatEvent, None], svc.stream_messages(messages, persona, options=options))


async def complete(
    svc: ChatService, persona: str, messages: list[dict[str, str]], options: LLMOptions
) -> tuple[ChatCompletion, str]:
    """The whole reply as a chat.completion, and the conversation it was stored in."""
    result: TurnResult | None = None
    async with aclosing(_events(svc, persona, messages, options)) as events:
        async for event in events:
            if isinstance(event, TurnResult):
                result = event
    assert result is not None  # stream_turn always ends with its TurnResult
    cid, created = completion_ids()
    choice = Choice(index=0, message=AssistantMessage(content=result.reply), finish_reason=_finish(result))
    usage = completion_usage(result.usage.get("prompt_tokens", 0), result.usage.get("completion_tokens", 0))
    return ChatCompletion(id=cid, created=created, model=PREFIX + result.persona, choices=[choice], usage=usage), (
        result.conversation_id
    )


async def stream_chunks(
    svc: ChatService, persona: str, messages: list[dict[str, str]], options: LLMOptions
) -> AsyncIterator[ChatCompletionChunk]:
    """A role chunk, content deltas, a finish chunk and a usage chunk, like a plain model's stream."""
    cid, created = completion_ids()
    model = PREFIX + persona

    def chunk(choices: list[ChunkChoice], usage: CompletionUsage | None = None) -> ChatCompletionChunk:
        return ChatCompletionChunk(id=cid, created=created, model=model, choices=choices, usage=usage)

    async with aclosing(_events(svc, persona, messages, options)) as events:
        first = True
        async for event in events:
            if first:
                yield chunk([ChunkChoice(index=0, delta=Delta(role="assistant", content=""))])
                first = False
            if isinstance(event, TextDelta):
                yield chunk([ChunkChoice(index=0, delta=Delta(content=event.text))])
            elif isinstance(event, TurnResult):
                yield chunk([ChunkChoice(index=0, delta=Delta(), finish_reason=_finish(event))])
                usage = completion_usage(event.usage.get("prompt_tokens", 0), event.usage.get("completion_tokens", 0))
                yield chunk([], usage)
