"""Ollama through its native API: POST /api/chat streamed as NDJSON, GET /api/tags, keep_alive.

An `{"error": …}` line can arrive before the first token or in the middle of a stream; both raise
Unavailable. Unknown models (404) raise NotFound with the commands that fix it.

load() asks POST /api/show for the model's context length and its num_ctx parameter; a configured
`num_ctx` is sent with every request so the window is known exactly. Ollama has no tokenize route, so
texts are counted with POST /api/embed on the same model (its `prompt_eval_count` is the model's own
token count; results are cached); the chat template's few tokens per message are estimated. A model
that cannot embed falls back to the ~4 characters a token estimate, and `exact_tokens` turns False."""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import AsyncGenerator
from typing import Any

from twin.backends.llm_http import client, error_text, transport_errors
from twin.errors import NotFound, Unavailable
from twin.providers.llm import (
    DEFAULT_CONTEXT_WINDOW,
    DEFAULT_OLLAMA_URL,
    LLM,
    Capabilities,
    ChatMessage,
    LLMOptions,
    StreamEnd,
    estimate_tokens,
)

START_HINT = "Start Ollama with `ollama serve` (or open the Ollama app), or point TWIN_OLLAMA_URL at it."


class OllamaLLM(LLM):
    name = "ollama"
    capabilities = Capabilities(
        streaming=True, cancel=True, lora=True, in_process=False, list_models=True, exact_tokens=True, prefix_cache=True
    )
    _COUNT_CACHE = 2048

    def __init__(
        self,
        model: str = "llama3.2",
        base_url: str = DEFAULT_OLLAMA_URL,
        keep_alive: str | int | None = "10m",
        num_ctx: int | None = None,
    ) -> None:
        super().__init__(model, num_ctx)
        self.base_url = base_url.rstrip("/")
        self.keep_alive = keep_alive
        self.num_ctx = num_ctx
        self._can_count = True
        self._counts: OrderedDict[str, int] = OrderedDict()

    @property
    def exact_tokens(self) -> bool:
        return self._can_count

    async def load(self) -> None:
        async with transport_errors("Ollama", self.base_url, START_HINT), client(self.base_url, 30) as http:
            resp = await http.post("/api/show", json={"model": self.model})
            if resp.status_code == 404:
                raise self._not_found(error_text(resp.content))
            if resp.status_code != 200:
                return  # older servers: keep the configured or default window
            info = resp.json()
        self._context_window = _window(info, self.num_ctx)

    async def _count_text(self, text: str) -> int:
        if not text:
            return 0
        if not self._can_count:
            return estimate_tokens(text)
        if text in self._counts:
            self._counts.move_to_end(text)
            return self._counts[text]
        body: dict[str, Any] = {"model": self.model, "input": text, "truncate": False}
        if self.keep_alive is not None:
            body["keep_alive"] = self.keep_alive
        async with transport_errors("Ollama", self.base_url, START_HINT), client(self.base_url, 60) as http:
            resp = await http.post("/api/embed", json=body)
        count = resp.json().get("prompt_eval_count") if resp.status_code == 200 else None
        if not isinstance(count, int):
            self._can_count = False  # this model cannot embed: estimate from now on
            return estimate_tokens(text)
        self._counts[text] = count
        if len(self._counts) > self._COUNT_CACHE:
            self._counts.popitem(last=False)
        return count

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
        if self.num_ctx:
            opts["num_ctx"] = self.num_ctx
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [m.model_dump() for m in messages],
            "stream": True,
            "options": opts,
        }
        if self.keep_alive is not None:
            body["keep_alive"] = self.keep_alive
        if options.json_schema is not None:
            body["format"] = options.json_schema
        return body

    def _not_found(self, detail: str) -> NotFound:
        return NotFound(
            f"Ollama has no model '{self.model}' ({detail}).",
            f"Pull it with `ollama pull {self.model}`, or register your fine-tuned model with "
            "`twin export --register`; `ollama list` shows what is installed.",
        )

    async def _stream(self, messages: list[ChatMessage], options: LLMOptions) -> AsyncGenerator[str | StreamEnd, None]:
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


def _window(show: dict[str, Any], num_ctx: int | None) -> int:
    """The effective window: num_ctx (ours, else the Modelfile's, else Ollama's default) capped by the
    model's trained context length."""
    trained = next(
        (v for k, v in (show.get("model_info") or {}).items() if k.endswith(".context_length") and isinstance(v, int)),
        None,
    )
    configured = num_ctx
    if configured is None:
        for line in str(show.get("parameters") or "").splitlines():
            key, _, value = line.strip().partition(" ")
            if key == "num_ctx" and value.strip().isdigit():
                configured = int(value.strip())
    window = configured or DEFAULT_CONTEXT_WINDOW
    return min(window, trained) if trained else window


def create(**kwargs: Any) -> OllamaLLM:
    return OllamaLLM(**kwargs)
