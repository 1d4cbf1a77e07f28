"""Ollama through its native API: POST /api/chat streamed as NDJSON, GET /api/tags, keep_alive.

An `{"error": …}` line can arrive before the first token or in the middle of a stream; both raise
Unavailable. Unknown models (404) raise NotFound with the commands that fix it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from twin.backends.llm_http import client, error_text, transport_errors
from twin.errors import NotFound, Unavailable
from twin.providers.llm import DEFAULT_OLLAMA_URL, LLM, Capabilities, ChatMessage, LLMOptions, StreamEnd

START_HINT = "Start Ollama with `ollama serve` (or open the Ollama app), or point TWIN_OLLAMA_URL at it."


class OllamaLLM(LLM):
    name = "ollama"
    capabilities = Capabilities(streaming=True, cancel=True, lora=True, in_process=False, list_models=True)

    def __init__(
        self, model: str = "llama3.2", base_url: str = DEFAULT_OLLAMA_URL, keep_alive: str | int | None = "10m"
    ) -> None:
        super().__init__(model)
        self.base_url = base_url.rstrip("/")
        self.keep_alive = keep_alive

    def _payload(self, messages: list[ChatMessage], options: LLMOptions) -> dict[str, Any]:
        opts: dict[str, Any] = {
            "num_predict": options.max_tokens,
            "temperature": options.temperature,
            "top_p": options.top_p,
        }
        if options.stop:
            opts["stop"] = options.stop
        if options.seed is not None:
            opts["seed"] = options.seed
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [m.model_dump() for m in messages],
            "stream": True,
            "options": opts,
        }
        if self.keep_alive is not None:
            body["keep_alive"] = self.keep_alive
        return body

    def _not_found(self, detail: str) -> NotFound:
        return NotFound(
            f"Ollama has no model '{self.model}' ({detail}).",
            f"Pull it with `ollama pull {self.model}`, or register your fine-tuned model with "
            "`twin export --register`; `ollama list` shows what is installed.",
        )

    async def _stream(self, messages: list[ChatMessage], options: LLMOptions) -> AsyncIterator[str | StreamEnd]:
        async with (
            transport_errors("Ollama", self.base_url, START_HINT),
            client(self.base_url, options.timeout_s) as http,
            http.stream("POST", "/api/chat", json=self._payload(messages, options)) as resp,
        ):
            if resp.status_code != 200:
                detail = error_text(await resp.aread())
                if resp.status_code == 404:
                    raise self._not_found(detail)
                raise Unavailable(
                    f"Ollama refused the request (HTTP {resp.status_code}): {detail}",
                    "Check the model name and options; the Ollama server log has details.",
                )
            async for line in resp.aiter_lines():
                if not line.strip():
                    continue
                part = json.loads(line)
                if part.get("error"):
                    raise Unavailable(
                        f"Ollama failed while generating: {part['error']}",
                        "Check the Ollama server log; the model may have crashed or run out "
                        "of memory. Try again or use a smaller model.",
                    )
                piece = (part.get("message") or {}).get("content") or ""
                if piece:
                    yield piece
                if part.get("done"):
                    yield StreamEnd(
                        prompt_tokens=part.get("prompt_eval_count"),
                        completion_tokens=part.get("eval_count"),
                        finish_reason=part.get("done_reason") or "stop",
                        model=part.get("model"),
                    )
                    return

    async def list_models(self) -> list[str]:
        async with transport_errors("Ollama", self.base_url, START_HINT), client(self.base_url, 30) as http:
            resp = await http.get("/api/tags")
            resp.raise_for_status()
            return [m.get("model") or m["name"] for m in resp.json().get("models", [])]


def create(**kwargs: Any) -> OllamaLLM:
    return OllamaLLM(**kwargs)
