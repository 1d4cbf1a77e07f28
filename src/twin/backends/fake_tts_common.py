"""Base of the in-process fake TTS servers (stdlib http.server on 127.0.0.1, an ephemeral port, a thread).

Each fake speaks one engine's real wire format, records every request (method, path, query, headers,
JSON body, form fields, uploaded files) for assertions, can be told to fail the next requests, and
answers with a deterministic "speech" signal whose length follows the text (0.06 s per character), so
tests can check that audio survives resampling, chunking and encoding with the right length.
"""

from __future__ import annotations

import email.parser
import email.policy
import io
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np

SECONDS_PER_CHAR = 0.06


def speech_like(text: str, sample_rate: int, pitch: float = 140.0) -> np.ndarray:
    """A voiced, formant-coloured buzz of len(text) * SECONDS_PER_CHAR seconds (float32)."""
    n = max(1, int(len(text) * SECONDS_PER_CHAR * sample_rate))
    t = np.arange(n) / sample_rate
    sig = sum(np.sin(2 * np.pi * pitch * k * t) / k for k in range(1, 12))
    envelope = 0.6 + 0.4 * np.sin(2 * np.pi * 3.0 * t)
    return (0.3 * sig * envelope / np.max(np.abs(sig))).astype(np.float32)


def wav_bytes(samples: np.ndarray, sample_rate: int) -> bytes:
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, samples, sample_rate, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def pcm_bytes(samples: np.ndarray) -> bytes:
    return (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any = None
    form: dict[str, str] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    body: bytes = b""


def _parse_multipart(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, bytes]]:
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    form: dict[str, str] = {}
    files: dict[str, bytes] = {}
    for part in msg.iter_parts():
        name = str(part.get_param("name", header="content-disposition") or "")
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        if part.get_filename():
            files[name] = data
        else:
            form[name] = data.decode("utf-8")
    return form, files


class FakeHandler(BaseHTTPRequestHandler):
    server: FakeServer
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:  # keep test output quiet
        pass

    def _record(self) -> Recorded:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        rec = Recorded(
            self.command,
            parts.path,
            {k: v[-1] for k, v in parse_qs(parts.query).items()},
            {k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        ctype = self.headers.get("Content-Type", "")
        if ctype.startswith("application/json") and body:
            try:
                rec.json = json.loads(body)
            except ValueError:
                rec.json = None
        elif ctype.startswith("multipart/form-data"):
            rec.form, rec.files = _parse_multipart(ctype, body)
        self.server.requests.append(rec)
        return rec

    def send_bytes(self, status: int, data: bytes, ctype: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def send_json(self, status: int, obj: Any) -> None:
        self.send_bytes(status, json.dumps(obj).encode(), "application/json")

    def send_chunked(self, pieces: list[bytes], ctype: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for piece in pieces:
            self.wfile.write(f"{len(piece):X}\r\n".encode() + piece + b"\r\n")
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")

    def _dispatch(self) -> None:
        rec = self._record()
        if self.server.failures:
            status, payload = self.server.failures.pop(0)
            self.send_json(status, payload)
            return
        self.handle_request(rec)

    do_GET = do_POST = _dispatch  # noqa: N815 - http.server's naming

    def handle_request(self, rec: Recorded) -> None:  # overridden per engine
        self.send_json(404, {"detail": "Not Found"})


class FakeServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, handler: type[FakeHandler]) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.requests: list[Recorded] = []
        self.failures: list[tuple[int, Any]] = []
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def fail_next(self, status: int, payload: Any, times: int = 1) -> None:
        self.failures.extend([(status, payload)] * times)

    def start(self) -> FakeServer:
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
