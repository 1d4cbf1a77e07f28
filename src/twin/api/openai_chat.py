"""Chat completions behind POST /v1/chat/completions: OpenAI messages become the LLM's messages (in one
function, `to_llm_messages`), request fields become LLMOptions or a clear 400, and the LLM's stream
becomes chat.completion objects or chat.completion.chunk events. Every response names the model that
actually wrote it."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from typing import Any, cast

from twin.api.openai_schemas import (
    AssistantMessage,
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionRequest,
    ChatMessage,
    Choice,
    ChunkChoice,
    CompletionUsage,
    Delta,
    FinishReason,
)
from twin.api.sse import sse
from twin.errors import TwinError
from twin.ids import new_id
from twin.providers.llm import LLM, ChatResult, LLMOptions, StreamItem, TextDelta

log = logging.getLogger("twin.api")

# The most tokens any backend is asked for; each backend also stops where its context window ends.
MAX_OUTPUT_TOKENS = int(LLMOptions.model_json_schema()["properties"]["max_tokens"]["maximum"])
_TEXT_PARTS = ("text", "input_text", "output_text")
_WHAT = {"image_url": "an image", "input_image": "an image", "image": "an image", "input_audio": "audio"}
_WHAT.update({"audio": "audio", "file": "a file", "input_file": "a file"})


def unsupported(message: str, hint: str) -> TwinError:
    """A 400 for a request this server understands but cannot honour (OpenAI clients read error.message)."""
    return TwinError(message, hint, code="unsupported_parameter")


def to_llm_messages(messages: list[ChatMessage]) -> list[dict[str, str]]:
    """OpenAI chat messages as the LLM's {role, content} messages: 'developer' is 'system', text parts
    are joined with newlines; tool messages and non-text parts are refused."""
    out = []
    for i, message in enumerate(messages):
        if message.role in ("tool", "function") or message.tool_calls:
            raise unsupported(
                f"messages[{i}] is a tool call or tool result, and this twin's model does not call tools.",
                "Send the conversation without tool messages.",
            )
        role = "system" if message.role == "developer" else message.role
        out.append({"role": role, "content": _message_text(message, i)})
    return out


def _message_text(message: ChatMessage, i: int) -> str:
    content = message.content
    if content is None:
        if message.role == "assistant":
            return ""
        raise unsupported(f"messages[{i}] has no content.", "Give every system and user message some text.")
    if isinstance(content, str):
        return content
    texts = []
    for j, part in enumerate(content):
        if part.type in _TEXT_PARTS:
            texts.append(part.text or "")
        elif part.type == "refusal":
            texts.append(str((part.model_extra or {}).get("refusal") or ""))
        else:
            what = _WHAT.get(part.type, f"a '{part.type}' part")
            raise unsupported(
                f"messages[{i}].content[{j}] is {what}, but this twin's model reads text only.",
                "Send text parts only (describe an image or transcribe audio in words).",
            )
    return "\n".join(texts)


def check_supported(body: ChatCompletionRequest) -> None:
    """Refuse, with a 400 naming the field, every option that would change the answer but that twin
    cannot honour. Neutral values (tools with tool_choice 'none', penalties of 0) are accepted."""
    no_tools = "Remove tools/functions (or set tool_choice to 'none'): this twin's model does not call tools."
    for tools, choice, name in (
        (body.tools, body.tool_choice, "tools"),
        (body.functions, body.function_call, "functions"),
    ):
        if isinstance(choice, dict) or choice == "required":
            raise unsupported(f"{name}: a tool call was demanded, but this twin's model does not call tools.", no_tools)
        if tools and choice != "none":
            raise unsupported(f"{name}: this twin's model does not call tools.", no_tools)
    if body.response_format is not None and body.response_format.type != "text":
        raise unsupported(
            f"response_format '{body.response_format.type}' is not supported: this server cannot promise JSON.",
            "Leave response_format out (or use type 'text') and ask for JSON in the prompt.",
        )
    for name in ("presence_penalty", "frequency_penalty"):
        if getattr(body, name) not in (None, 0):
            raise unsupported(f"{name} is not supported here.", f"Leave {name} out or set it to 0.")
    if body.logit_bias:
        raise unsupported("logit_bias is not supported here.", "Leave logit_bias out.")
    if body.logprobs or body.top_logprobs:
        raise unsupported("logprobs are not available from this server.", "Leave logprobs and top_logprobs out.")
    if body.audio is not None or any(m != "text" for m in body.modalities or []):
        raise unsupported("This chat route answers in text only.", "For speech, send the reply to /v1/audio/speech.")


def llm_options(body: ChatCompletionRequest) -> LLMOptions:
    """Sampling options passed through to the backend. max_tokens is clamped to what the model can
    produce; without one the reply may use all of it, as with OpenAI."""
    requested = body.max_completion_tokens or body.max_tokens or MAX_OUTPUT_TOKENS
    options: dict[str, Any] = {"max_tokens": min(requested, MAX_OUTPUT_TOKENS)}
    if body.temperature is not None:
        options["temperature"] = body.temperature
    if body.top_p is not None:
        options["top_p"] = body.top_p
    if body.seed is not None:
        options["seed"] = body.seed
    stops = [body.stop] if isinstance(body.stop, str) else (body.stop or [])
    options["stop"] = [s for s in stops if s]
    return LLMOptions(**options)


def finish_reason(result: ChatResult) -> FinishReason:
    return "length" if result.finish_reason == "length" else "stop"


def completion_usage(prompt: int, completion: int) -> CompletionUsage:
    return CompletionUsage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion)


def completion_ids() -> tuple[str, int]:
    return "chatcmpl-" + new_id().replace("-", ""), int(time.time())


async def complete(llm: LLM, messages: list[dict[str, str]], options: LLMOptions, n: int) -> ChatCompletion:
    """n completions, one after the other; prompt tokens counted once, completion tokens summed."""
    cid, created = completion_ids()
    choices, prompt, completion = [], 0, 0
    for i in range(n):
        result = await llm.chat(messages, options)
        choices.append(
            Choice(index=i, message=AssistantMessage(content=result.text), finish_reason=finish_reason(result))
        )
        prompt, completion = result.usage.prompt_tokens, completion + result.usage.completion_tokens
    return ChatCompletion(
        id=cid, created=created, model=llm.model, choices=choices, usage=completion_usage(prompt, completion)
    )


async def stream_chunks(
    llm: LLM, messages: list[dict[str, str]], options: LLMOptions, n: int
) -> AsyncIterator[ChatCompletionChunk]:
    """Chunks of n completions in turn: a role chunk, content deltas, a finish chunk per choice, then a
    usage chunk with no choices. The first chunk waits for the model's first output, so a model that
    cannot start fails the request before any byte is sent."""
    cid, created = completion_ids()

    def chunk(choices: list[ChunkChoice], usage: CompletionUsage | None = None) -> ChatCompletionChunk:
        return ChatCompletionChunk(id=cid, created=created, model=llm.model, choices=choices, usage=usage)

    prompt, completion = 0, 0
    for i in range(n):
        # Closed as soon as this stream is, so an in-process engine stops generating for a gone client.
        stream = cast(AsyncGenerator[StreamItem, None], llm.stream_chat(messages, options))
        async with aclosing(stream) as items:
            item = await anext(items)
            yield chunk([ChunkChoice(index=i, delta=Delta(role="assistant", content=""))])
            while isinstance(item, TextDelta):
                yield chunk([ChunkChoice(index=i, delta=Delta(content=item.text))])
                item = await anext(items)
        yield chunk([ChunkChoice(index=i, delta=Delta(), finish_reason=finish_reason(item))])
        prompt, completion = item.usage.prompt_tokens, completion + item.usage.completion_tokens
    yield chunk([], completion_usage(prompt, completion))


async def sse_events(chunks: AsyncIterator[ChatCompletionChunk], include_usage: bool) -> AsyncIterator[bytes]:
    """Chunks as server-sent events, then [DONE]. Without stream_options.include_usage the usage chunk
    is dropped and no chunk carries a usage field, as OpenAI does. A failure after the response has
    started becomes a last `error` event (never a traceback or a server path)."""
    try:
        async for item in chunks:
            if item.usage is not None and not include_usage:
                continue
            data = item.model_dump()
            for choice in data["choices"]:
                choice["delta"] = {k: v for k, v in choice["delta"].items() if v is not None}
            if not include_usage:
                del data["usage"]
            yield sse(data)
    except TwinError as exc:
        yield sse({"error": exc.to_dict()})
        return
    except Exception:  # an engine failure mid-stream: report it in the stream, keep the details in the log
        log.exception("chat stream failed")
        err = TwinError("The model failed while writing.", "See the server log; try again.", code="internal_error")
        yield sse({"error": err.to_dict()})
        return
    yield sse("[DONE]")
