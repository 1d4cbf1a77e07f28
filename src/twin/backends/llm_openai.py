"""Any OpenAI-compatible server (vLLM, including LoRA adapter model names; llama.cpp server; LM Studio)
through POST /v1/chat/completions streamed as server-sent events.

The SSE reader is a few lines here rather than a dependency: the format needed is only `data:` lines
separated by blank lines, ending with `data: [DONE]`.

The context window is the configured one, else the `max_model_len` vLLM lists in GET /v1/models, else
4096. Tokens are estimated (the OpenAI API has no tokenizer route); `json_schema` is sent as
`response_format: {"type": "json_schema", ...}`."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import httpx

from twin.backends.llm_http import client, error_text, transport_errors
from twin.errors import InvalidInput, NotFound, Unauthorized, Unavailable
from twin.providers.llm import (
    DEFAULT_OPENAI_BASE_URL,
    LLM,
    Capabilities,
    ChatMessage,
    LLMOptions,
    StreamEnd,
)

START_HINT = (
    "Start the server (e.g. `python -m llama_cpp.server --model FILE.gguf`, `vllm serve MODEL`, or "
    "LM Studio's local server) or point TWIN_OPENAI_BASE_URL at it (it ends in /v1)."
)


async def sse_data(resp: httpx.Response) -> AsyncIterator[str]:
    """The data of each server-sent event (multi-line data joined with newlines)."""
    data: list[str] = []
    async for line in resp.aiter_lines():
        if not line:
            if data:
                yield "\n".join(data)
                data = []
            continue
        if line.startswith(":"):
            continue
        fieldname, _, value = line.partition(":")
        if fieldname == "data":
            data.append(value.removeprefix(" "))
    if data:
        yield "\n".join(data)


class OpenAILLM(LLM):
    name = "openai"
    capabilities = Capabilities(streaming=True, cancel=True, lora=True, in_process=False, list_models=True)

    def __init__(
        self,
        model: str | None = None,
        base_url: str = DEFAULT_OPENAI_BASE_URL,
        api_key: str | None = None,
        context_window: int | None = None,
    ) -> None:
        super().__init__(model or "", context_window)
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self._configured_window = context_window

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    async def load(self) -> None:
        """Without a model name, use the server's first model (llama.cpp server and LM Studio serve one);
        without a configured window, use the model's max_model_len where the server lists one."""
        if self.model and self._configured_window:
            return
        entries = await self._model_entries()
        if not self.model:
            if not entries:
                raise InvalidInput(
                    f"The server at {self.base_url} lists no models.",
                    "Load a model in the server, or pass --model NAME.",
                )
            self.model = str(entries[0]["id"])
        if not self._configured_window:
            entry = next((e for e in entries if e.get("id") == self.model), {})
            if isinstance(entry.get("max_model_len"), int):
                self._context_window = entry["max_model_len"]

    def _payload(self, messages: list[ChatMessage], options: LLMOptions) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [m.model_dump() for m in messages],
            "stream": True,
            "stream_options": {"include_usage": True},
            "max_tokens": options.max_tokens,
            "temperature": options.temperature,
            "top_p": options.top_p,
        }
        if options.stop:
            body["stop"] = options.stop
        if options.seed is not None:
            body["seed"] = options.seed
        if options.json_schema is not None:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "reply", "schema": options.json_schema, "strict": True},
            }
        return body

    def _status_error(self, status: int, detail: str) -> Exception:
        if status == 404:
            return NotFound(
                f"The server at {self.base_url} has no model '{self.model}' ({detail}).",
                "List served models with GET /v1/models; for vLLM LoRA adapters start it with "
                "`--enable-lora --lora-modules NAME=PATH`; or register yours with "
                "`twin export --register`.",
            )
        if status in (401, 403):
            return Unauthorized(
                f"The server at {self.base_url} rejected the API key ({detail}).",
                "Set TWIN_OPENAI_API_KEY (or api_key in llm.json) to the server's key.",
            )
        return Unavailable(
            f"The server at {self.base_url} refused the request (HTTP {status}): {detail}",
            "Check the model name and options; the server log has details.",
        )

    async def _stream(self, messages: list[ChatMessage], options: LLMOptions) -> AsyncGenerator[str | StreamEnd, None]:
        end = StreamEnd(model=self.model)
        async with (
            transport_errors("The OpenAI-compatible server", self.base_url, START_HINT),
            client(self.base_url, options.timeout_s, self._headers()) as http,
            http.stream("POST", "/chat/completions", json=self._payload(messages, options)) as resp,
        ):
            if resp.status_code != 200:
                raise self._status_error(resp.status_code, error_text(await resp.aread()))
            async for data in sse_data(resp):
                if data.strip() == "[DONE]":
                    break
                chunk = json.loads(data)
                if chunk.get("error"):
                    raise Unavailable(
                        f"The server failed while generating: {error_text(data.encode())}",
                        "Check the server log; the model may have crashed. Try again.",
                    )
                for choice in chunk.get("choices") or []:
                    piece = (choice.get("delta") or {}).get("content")
                    if piece:
                        yield piece
                    if choice.get("finish_reason"):
                        end.finish_reason = choice["finish_reason"]
                if chunk.get("usage"):
                    end.prompt_tokens = chunk["usage"].get("prompt_tokens")
                    end.completion_tokens = chunk["usage"].get("completion_tokens")
                end.model = chunk.get("model") or end.model
        yield end

    async def _model_entries(self) -> list[dict[str, Any]]:
        async with (
            transport_errors("The OpenAI-compatible server", self.base_url, START_HINT),
            client(self.base_url, 30, self._headers()) as http,
        ):
            resp = await http.get("/models")
            if resp.status_code != 200:
                raise self._status_error(resp.status_code, error_text(resp.content))
            return [m for m in resp.json().get("data", []) if isinstance(m, dict) and "id" in m]

    async def list_models(self) -> list[str]:
        return [str(m["id"]) for m in await self._model_entries()]


def create(**kwargs: Any) -> OpenAILLM:
    return OpenAILLM(**kwargs)
