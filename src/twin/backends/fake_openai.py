"""An in-process fake OpenAI-compatible server (the subset vLLM, llama.cpp server and LM Studio share).

GET /v1/models; POST /v1/chat/completions, streamed as SSE (`data: {chunk}` events, a final chunk
with finish_reason, an optional usage chunk when stream_options.include_usage is set, then
`data: [DONE]`) or as one chat.completion object. Unknown models get 404 with an OpenAI error body;
`api_key` makes the server demand `Authorization: Bearer <key>`; `fail_after={model: n}` sends an
`data: {"error": …}` event after n pieces, as vLLM does when generation fails mid-stream. LoRA adapter
names served by vLLM are just more entries in `models`. Models are listed with vLLM's `max_model_len`;
`response_format: {"type": "json_schema", "json_schema": {"schema": …}}` constrains the reply."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from twin.backends.llm_fake_http import (
    FakeHTTPServer,
    ReplyFn,
    Request,
    Response,
    conform_to_schema,
    echo_reply,
    split_pieces,
)
from twin.ids import new_id


def _error(message: str, etype: str, code: str | None, status: int) -> Response:
    return Response.json({"error": {"message": message, "type": etype, "param": None, "code": code}}, status)


class FakeOpenAI(FakeHTTPServer):
    def __init__(
        self,
        models: list[str] | None = None,
        reply_fn: ReplyFn | None = None,
        fail_after: dict[str, int] | None = None,
        api_key: str | None = None,
        chunk_delay_s: float = 0.0,
        max_model_len: int = 8192,
    ) -> None:
        super().__init__()
        self.models = list(models or ["base-model"])
        self.max_model_len = max_model_len
        self.reply_fn = reply_fn or echo_reply
        self.fail_after = dict(fail_after or {})
        self.api_key = api_key
        self.chunk_delay_s = chunk_delay_s

    @property
    def base_url(self) -> str:
        return self.url + "/v1"

    def handle(self, req: Request) -> Response:
        path = req.path.split("?")[0]
        if self.api_key and req.headers.get("authorization") != f"Bearer {self.api_key}":
            return _error("Incorrect API key provided.", "invalid_request_error", "invalid_api_key", 401)
        if (req.method, path) == ("GET", "/v1/models"):
            return Response.json(
                {
                    "object": "list",
                    "data": [
                        {
                            "id": m,
                            "object": "model",
                            "created": 0,
                            "owned_by": "twin-fake",
                            "max_model_len": self.max_model_len,
                        }
                        for m in self.models
                    ],
                }
            )
        if (req.method, path) == ("POST", "/v1/chat/completions"):
            try:
                return self._chat(req.json())
            except (ValueError, KeyError, TypeError) as exc:
                return _error(f"Invalid request: {exc}", "invalid_request_error", None, 400)
        return _error(f"Not found: {path}", "invalid_request_error", None, 404)

    def _chat(self, body: dict[str, Any]) -> Response:
        model = body["model"]
        if model not in self.models:
            return _error(f"The model `{model}` does not exist.", "NotFoundError", "model_not_found", 404)
        messages = body["messages"]
        stop = body.get("stop")
        max_tokens = body.get("max_completion_tokens") or body.get("max_tokens")
        reply = self.reply_fn(model, messages)
        fmt = body.get("response_format") or {}
        if fmt.get("type") == "json_schema":
            reply = conform_to_schema(reply, fmt["json_schema"]["schema"])
        pieces, reason = split_pieces(reply, max_tokens, [stop] if isinstance(stop, str) else stop)
        usage = {
            "prompt_tokens": sum(len(str(m.get("content", "")).split()) for m in messages),
            "completion_tokens": len(pieces),
        }
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        cid, created = f"chatcmpl-{new_id()}", int(time.time())
        if not body.get("stream"):
            if model in self.fail_after:
                return _error("Generation failed.", "InternalServerError", None, 500)
            return Response.json(
                {
                    "id": cid,
                    "object": "chat.completion",
                    "created": created,
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": "".join(pieces)},
                            "finish_reason": reason,
                            "logprobs": None,
                        }
                    ],
                    "usage": usage,
                }
            )
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        events = self._sse(cid, created, model, pieces, reason, usage if include_usage else None)
        return Response(200, events, "text/event-stream", {"Cache-Control": "no-cache"})

    def _sse(
        self, cid: str, created: int, model: str, pieces: list[str], reason: str, usage: dict[str, int] | None
    ) -> Iterator[bytes]:
        def event(choices: list[dict[str, Any]], **extra: Any) -> bytes:
            chunk = {
                "id": cid,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": choices,
                **extra,
            }
            return b"data: " + json.dumps(chunk).encode() + b"\n\n"

        yield event([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}])
        fail = self.fail_after.get(model)
        for i, piece in enumerate(pieces):
            if fail is not None and i >= fail:
                break
            if self.chunk_delay_s:
                time.sleep(self.chunk_delay_s)
            yield event([{"index": 0, "delta": {"content": piece}, "finish_reason": None}])
        if fail is not None:
            err = {"error": {"message": "Generation failed.", "type": "InternalServerError", "code": 500}}
            yield b"data: " + json.dumps(err).encode() + b"\n\n"
            return
        yield event([{"index": 0, "delta": {}, "finish_reason": reason}])
        if usage is not None:
            yield event([], usage=usage)
        yield b"data: [DONE]\n\n"
