"""Plumbing shared by the in-process fake LLM servers (fake_ollama, fake_openai).

A threaded stdlib HTTP/1.1 server bound to 127.0.0.1 on an ephemeral port; streamed bodies go out with
real chunked transfer encoding, so clients see the same framing as from Ollama or vLLM. The stdlib
server is used (rather than uvicorn) so the fakes need nothing beyond the core install and start in
milliseconds inside a test. Also holds the fake "model" that turns messages into reply pieces."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

ReplyFn = Callable[[str, list[dict[str, Any]]], str]


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"{}")


@dataclass
class Response:
    status: int = 200
    body: bytes | Iterable[bytes] = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, obj: Any, status: int = 200) -> Response:
        return cls(status, json.dumps(obj).encode())


def echo_reply(model: str, messages: list[dict[str, Any]]) -> str:
    """Default fake model: answers with the last user message."""
    users = [str(m.get("content", "")) for m in messages if m.get("role") == "user"]
    return users[-1] if users else ""


def split_pieces(text: str, max_tokens: int | None, stop: list[str] | None) -> tuple[list[str], str]:
    """Word-sized pieces of `text`, cut at a stop string and at max_tokens; plus the finish reason."""
    reason = "stop"
    for s in stop or []:
        if s and s in text:
            text = text[: text.index(s)]
    pieces = re.findall(r"\S+\s*|\s+", text)
    if max_tokens is not None and len(pieces) > max_tokens:
        pieces, reason = pieces[:max_tokens], "length"
    return pieces, reason


class FakeHTTPServer:
    """Subclasses implement handle(request) -> Response. Use as a context manager or start()/stop()."""

    def __init__(self) -> None:
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.requests: list[Request] = []
        self.disconnects = 0
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host.decode() if isinstance(host, bytes) else host}:{port}"

    def start(self) -> Self:
        handler = type("Handler", (_Handler,), {"server_ref": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.05,), name=type(self).__name__, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def handle(self, request: Request) -> Response:  # pragma: no cover - overridden
        return Response.json({"error": "not found"}, 404)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_ref: FakeHTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return bytes(out)
                out += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _dispatch(self) -> None:
        req = Request(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, self._body())
        with self.server_ref.lock:
            self.server_ref.requests.append(req)
        try:
            resp = self.server_ref.handle(req)
        except Exception as exc:  # a bug in a fake should be visible, not a hung client
            resp = Response.json({"error": f"fake server error: {exc!r}"}, 500)
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.content_type)
        for k, v in resp.headers.items():
            self.send_header(k, v)
        if isinstance(resp.body, bytes):
            self.send_header("Content-Length", str(len(resp.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(resp.body)
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self._write_chunks(resp.body)

    def _write_chunks(self, chunks: Iterable[bytes]) -> None:
        it: Iterator[bytes] = iter(chunks)
        try:
            for chunk in it:
                if chunk:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            with self.server_ref.lock:
                self.server_ref.disconnects += 1
            self.close_connection = True
        finally:
            close = getattr(it, "close", None)
            if close:
                close()

    do_GET = do_POST = do_HEAD = do_DELETE = _dispatch


# ---- JSON-schema-constrained output for the fakes ------------------------------------------------


def conform_to_schema(text: str, schema: dict[str, Any]) -> str:
    """What a grammar-constrained engine would return: `text` when it already is JSON matching `schema`,
    else the smallest instance of the schema (the fake's stand-in for constrained decoding)."""
    import jsonschema

    try:
        jsonschema.validate(json.loads(text), schema)
        return text
    except (ValueError, jsonschema.ValidationError, jsonschema.SchemaError):
        return json.dumps(minimal_instance(schema, schema))


def minimal_instance(node: dict[str, Any], root: dict[str, Any]) -> Any:
    """The smallest value a schema accepts: required properties only, minItems items, first enum value."""
    if "$ref" in node:
        ref = str(node["$ref"]).removeprefix("#/")
        target: Any = root
        for part in ref.split("/"):
            target = target[part]
        return minimal_instance(target, root)
    if "const" in node:
        return node["const"]
    if node.get("enum"):
        return node["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if node.get(key):
            return minimal_instance(node[key][0], root)
    kind = node.get("type", "object")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        props = node.get("properties", {})
        return {name: minimal_instance(props.get(name, {}), root) for name in node.get("required", [])}
    if kind == "array":
        item = node.get("items", {})
        return [minimal_instance(item, root) for _ in range(int(node.get("minItems", 0)))]
    if kind == "string":
        return "x" * int(node.get("minLength", 0))
    if kind in ("number", "integer"):
        return node.get("minimum", 0)
    return {"boolean": False, "null": None}.get(kind)
