"""An in-process fake Ollama server speaking the native API's wire format, for tests.

Covers: GET / and /api/version, GET /api/tags, POST /api/show (with model_info.<arch>.context_length),
/api/ps, POST /api/chat and /api/generate (NDJSON streaming by default, one JSON object with
stream=false; `{"error": …}` lines before or in the middle of a stream; 404 for unknown models; `format`
as a JSON schema constrains the reply; `options.num_ctx` caps the prompt, as Ollama truncates it),
POST /api/embed (`prompt_eval_count` is the input's token count, the fake's tokens being word pieces),
HEAD/POST /api/blobs/sha256:<digest>
(the digest of the uploaded bytes is verified) and POST /api/create ({model, from, files, adapters,
template, system, parameters, messages, license, quantize, stream} answered with NDJSON status lines).

Replies come from `reply_fn(model, messages)` (default: echo the last user message), split into
word-sized pieces. `fail_after={model: n}` sends an error line after n pieces. Every request is kept
in `.requests` so tests can check what a client sent (e.g. keep_alive)."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
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

NDJSON = "application/x-ndjson"


@dataclass
class FakeModel:
    name: str
    parent: str = ""
    files: dict[str, str] = field(default_factory=dict)
    adapters: dict[str, str] = field(default_factory=dict)
    template: str = ""
    system: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)
    license: str = ""
    modified_at: str = field(default_factory=lambda: _now())

    @property
    def digest(self) -> str:
        return hashlib.sha256(json.dumps(self.__dict__, sort_keys=True).encode()).hexdigest()

    def modelfile(self) -> str:
        lines = [f"FROM {self.parent or next(iter(self.files), self.name)}"]
        lines += [f"ADAPTER {name}" for name in self.adapters]
        if self.template:
            lines.append(f'TEMPLATE """{self.template}"""')
        if self.system:
            lines.append(f'SYSTEM """{self.system}"""')
        for key, value in self.parameters.items():
            for v in value if isinstance(value, list) else [value]:
                lines.append(f"PARAMETER {key} {json.dumps(v) if isinstance(v, str) else v}")
        return "\n".join(lines) + "\n"


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _full(name: str) -> str:
    return name if ":" in name else f"{name}:latest"


class FakeOllama(FakeHTTPServer):
    version = "0.12.0"

    def __init__(
        self,
        models: list[str] | None = None,
        reply_fn: ReplyFn | None = None,
        fail_after: dict[str, int] | None = None,
        chunk_delay_s: float = 0.0,
        context_length: int = 8192,
        no_embed: list[str] | None = None,
    ) -> None:
        super().__init__()
        self.models: dict[str, FakeModel] = {_full(m): FakeModel(_full(m)) for m in (models or ["llama3.2"])}
        self.context_length = context_length
        self.no_embed = {_full(m) for m in (no_embed or [])}
        self.blobs: dict[str, bytes] = {}
        self.reply_fn = reply_fn or echo_reply
        self.fail_after = {_full(k): v for k, v in (fail_after or {}).items()}
        self.chunk_delay_s = chunk_delay_s
        self.loaded: dict[str, Any] = {}  # model -> keep_alive of the last request

    # ---- routing ----------------------------------------------------------------------------
    def handle(self, req: Request) -> Response:
        path = req.path.split("?")[0]
        if path.startswith("/api/blobs/"):
            return self._blob(req, path.removeprefix("/api/blobs/"))
        routes = {
            ("GET", "/"): lambda: Response(200, b"Ollama is running", "text/plain; charset=utf-8"),
            ("HEAD", "/"): lambda: Response(200, b"", "text/plain; charset=utf-8"),
            ("GET", "/api/version"): lambda: Response.json({"version": self.version}),
            ("GET", "/api/tags"): self._tags,
            ("GET", "/api/ps"): self._ps,
            ("POST", "/api/show"): lambda: self._show(req),
            ("POST", "/api/chat"): lambda: self._generate(req, chat=True),
            ("POST", "/api/generate"): lambda: self._generate(req, chat=False),
            ("POST", "/api/create"): lambda: self._create(req),
            ("POST", "/api/embed"): lambda: self._embed(req),
            ("DELETE", "/api/delete"): lambda: self._delete(req),
        }
        route = routes.get((req.method, path))
        if route is None:
            return Response(404, b"404 page not found", "text/plain")
        try:
            return route()
        except (ValueError, KeyError, TypeError) as exc:
            return Response.json({"error": f"invalid request: {exc}"}, 400)

    # ---- models -----------------------------------------------------------------------------
    def _tags(self) -> Response:
        return Response.json({"models": [self._entry(m) for m in self.models.values()]})

    def _ps(self) -> Response:
        return Response.json(
            {"models": [self._entry(self.models[n]) | {"expires_at": _now()} for n in self.loaded if n in self.models]}
        )

    def _entry(self, m: FakeModel) -> dict[str, Any]:
        return {
            "name": m.name,
            "model": m.name,
            "modified_at": m.modified_at,
            "size": 1000,
            "digest": m.digest,
            "details": self._details(m),
        }

    def _details(self, m: FakeModel) -> dict[str, Any]:
        return {
            "parent_model": m.parent,
            "format": "gguf",
            "family": "fake",
            "families": ["fake"],
            "parameter_size": "135M",
            "quantization_level": "Q4_1",
        }

    def _unknown(self, name: str) -> Response:
        short = name.removesuffix(":latest")
        return Response.json({"error": f'model "{short}" not found, try pulling it first'}, 404)

    def _show(self, req: Request) -> Response:
        body = req.json()
        name = _full(body.get("model") or body.get("name") or "")
        m = self.models.get(name)
        if m is None:
            return self._unknown(name)
        params = "\n".join(f"{k} {v}" for k, v in m.parameters.items())
        return Response.json(
            {
                "modelfile": m.modelfile(),
                "parameters": params,
                "template": m.template,
                "system": m.system,
                "license": m.license,
                "details": self._details(m),
                "model_info": {"general.architecture": "fake", "fake.context_length": self.context_length},
                "capabilities": ["completion"],
                "modified_at": m.modified_at,
            }
        )

    def _embed(self, req: Request) -> Response:
        body = req.json()
        name = _full(body.get("model") or "")
        if name not in self.models:
            return self._unknown(name)
        if name in self.no_embed:
            return Response.json({"error": "this model does not support embeddings"}, 501)
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        counts = [len(split_pieces(str(text), None, None)[0]) for text in inputs]
        vectors = [[float(len(str(t)) % 7), float(c), 1.0] for t, c in zip(inputs, counts, strict=True)]
        return Response.json(
            {
                "model": name,
                "embeddings": vectors,
                "total_duration": 1000,
                "load_duration": 10,
                "prompt_eval_count": sum(counts),
            }
        )

    def _delete(self, req: Request) -> Response:
        name = _full(req.json().get("model") or "")
        if self.models.pop(name, None) is None:
            return self._unknown(name)
        return Response(200, b"")

    # ---- blobs and create -------------------------------------------------------------------
    def _blob(self, req: Request, digest: str) -> Response:
        if not digest.startswith("sha256:") or len(digest) != 71:
            return Response.json({"error": f"invalid digest format: {digest}"}, 400)
        if req.method == "HEAD":
            return Response(200 if digest in self.blobs else 404, b"")
        if req.method != "POST":
            return Response(405, b"")
        got = "sha256:" + hashlib.sha256(req.body).hexdigest()
        if got != digest:
            return Response.json({"error": f'digest mismatch, expected "{digest}", got "{got}"'}, 400)
        self.blobs[digest] = req.body
        return Response(201, b"")

    def _create(self, req: Request) -> Response:
        body = req.json()
        name = _full(body["model"])
        parent = body.get("from") or ""
        files: dict[str, str] = body.get("files") or {}
        adapters: dict[str, str] = body.get("adapters") or {}
        if not parent and not files:
            return Response.json({"error": "neither 'from' or 'files' was specified"}, 400)
        if parent and _full(parent) not in self.models:
            return Response.json({"error": f"pull model manifest: model '{parent}' not found"}, 404)
        missing = [d for d in [*files.values(), *adapters.values()] if d not in self.blobs]
        if missing:
            return Response.json({"error": f"blob {missing[0]} not found; upload it first"}, 400)
        statuses = ["parsing GGUF" if files else f"using existing model {parent}"]
        statuses += [f"using existing layer {d}" for d in [*files.values(), *adapters.values()]]
        statuses += ["writing manifest", "success"]
        lic = body.get("license") or ""
        self.models[name] = FakeModel(
            name,
            parent=_full(parent) if parent else "",
            files=files,
            adapters=adapters,
            template=body.get("template") or "",
            system=body.get("system") or "",
            parameters=body.get("parameters") or {},
            license="\n".join(lic) if isinstance(lic, list) else lic,
        )
        if body.get("stream") is False:
            return Response.json({"status": "success"})
        return Response(200, (json.dumps({"status": s}).encode() + b"\n" for s in statuses), NDJSON)

    # ---- generation -------------------------------------------------------------------------
    def _generate(self, req: Request, chat: bool) -> Response:
        body = req.json()
        name = _full(body.get("model") or "")
        m = self.models.get(name)
        if m is None:
            return self._unknown(name)
        self.loaded[name] = body.get("keep_alive")
        messages = list(body.get("messages") or []) if chat else [{"role": "user", "content": body["prompt"]}]
        system = body.get("system") or m.system
        if system and not any(x.get("role") == "system" for x in messages):
            messages.insert(0, {"role": "system", "content": system})
        opts = {**m.parameters, **(body.get("options") or {})}
        stop = opts.get("stop")
        reply = self.reply_fn(name, messages)
        if isinstance(body.get("format"), dict):
            reply = conform_to_schema(reply, body["format"])
        pieces, reason = split_pieces(reply, opts.get("num_predict"), [stop] if isinstance(stop, str) else stop)
        prompt_tokens = sum(len(str(x.get("content", "")).split()) for x in messages)
        if isinstance(opts.get("num_ctx"), int):
            prompt_tokens = min(prompt_tokens, opts["num_ctx"])  # Ollama keeps only what fits
        if body.get("stream", True) is False:
            if name in self.fail_after:
                return Response.json({"error": "model runner has unexpectedly stopped"}, 500)
            return Response.json(
                self._frame(name, "".join(pieces), chat) | self._final(reason, prompt_tokens, len(pieces))
            )
        return Response(200, self._ndjson(name, pieces, reason, prompt_tokens, chat), NDJSON)

    def _frame(self, name: str, text: str, chat: bool) -> dict[str, Any]:
        head: dict[str, Any] = {"model": name, "created_at": _now()}
        if chat:
            return head | {"message": {"role": "assistant", "content": text}, "done": False}
        return head | {"response": text, "done": False}

    def _final(self, reason: str, prompt_tokens: int, n: int) -> dict[str, Any]:
        return {
            "done": True,
            "done_reason": reason,
            "total_duration": 1_000_000 * (n + 1),
            "load_duration": 1000,
            "prompt_eval_count": prompt_tokens,
            "prompt_eval_duration": 1000,
            "eval_count": n,
            "eval_duration": 1_000_000 * max(n, 1),
        }

    def _ndjson(self, name: str, pieces: list[str], reason: str, prompt_tokens: int, chat: bool) -> Iterator[bytes]:
        fail = self.fail_after.get(name)
        for i, piece in enumerate(pieces):
            if fail is not None and i >= fail:
                yield json.dumps({"error": "model runner has unexpectedly stopped"}).encode() + b"\n"
                return
            if self.chunk_delay_s:
                time.sleep(self.chunk_delay_s)
            yield json.dumps(self._frame(name, piece, chat)).encode() + b"\n"
        if fail is not None:
            yield json.dumps({"error": "model runner has unexpectedly stopped"}).encode() + b"\n"
            return
        last = self._frame(name, "", chat) | self._final(reason, prompt_tokens, len(pieces))
        yield json.dumps(last).encode() + b"\n"
