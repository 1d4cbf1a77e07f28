"""A keyless client can make the server hold nothing: the key (and Host/Origin) are checked from the
headers before any byte of the body is read. Real uvicorn, raw sockets on loopback, bounded sends."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from starlette.types import Message, Receive, Scope, Send

from .conftest import Env, make_env, tone_wav
from .live import serve

CHUNK = b"x" * 65536
CLIENTS = 20
PER_CLIENT = 24 * 1024**2  # what each keyless client tries to push (the upload limit is 25 MiB)


class Counted:
    """The app, wrapped to count the body bytes anything in it read."""

    def __init__(self, env: Env) -> None:
        self.app = env.client.app
        self.body_bytes = 0
        self.requests = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.requests += 1

        async def counting() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                self.body_bytes += len(message.get("body", b""))
            return message

        await self.app(scope, counting, send)


@pytest.fixture
def live(twin_home: Path) -> Iterator[tuple[Env, Counted, int]]:
    env = make_env(twin_home)
    counted = Counted(env)
    with serve(counted) as url:
        yield env, counted, int(url.rsplit(":", 1)[1])


def _chunked_head(path: str, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Transfer-Encoding: chunked"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def _status_line(sock: socket.socket) -> str:
    data = b""
    while b"\r\n" not in data:
        part = sock.recv(4096)
        if not part:
            break
        data += part
    return data.split(b"\r\n", 1)[0].decode()


def test_keyless_chunked_upload_is_refused_unread(live: tuple[Env, Counted, int]) -> None:
    env, counted, port = live
    multipart = {"Content-Type": "multipart/form-data; boundary=b"}
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(_chunked_head("/api/voice/upload", multipart) + _chunk(CHUNK))
        assert _status_line(sock) == "HTTP/1.1 401 Unauthorized"
    assert counted.body_bytes == 0
    # Foreign Host and Origin are refused unread too.
    for extra in ({"Host": "evil.example"}, {"Origin": "https://evil.example", "Authorization": "Bearer " + env.alice}):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            head = _chunked_head("/api/voice/upload", {**multipart, **extra}).replace(
                b"Host: 127.0.0.1\r\nHost: evil.example", b"Host: evil.example"
            )
            sock.sendall(head + _chunk(CHUNK))
            assert _status_line(sock).split()[1] in ("400", "403")
    assert counted.body_bytes == 0
    # With the key, the same chunked upload is read and served.
    body = b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\n'
    body += tone_wav(0.5) + b"\r\n--b--\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(_chunked_head("/api/voice/upload", {**multipart, **env.auth()}) + _chunk(body) + b"0\r\n\r\n")
        assert _status_line(sock).split()[1] in ("201", "415", "422")
    assert counted.body_bytes == len(body)


def _push(sock: socket.socket, limit: int) -> int:
    """Send chunks until the server stops reading (the socket buffers fill) or closes; bytes sent."""
    sent = 0
    sock.settimeout(0.2)
    try:
        while sent < limit:
            sock.sendall(_chunk(CHUNK))
            sent += len(CHUNK)
    except (TimeoutError, OSError):
        pass
    return sent


def test_twenty_keyless_uploads_hold_no_memory(live: tuple[Env, Counted, int]) -> None:
    _env, counted, port = live
    process = psutil.Process()
    before = process.memory_info().rss
    socks = []
    try:
        for _ in range(CLIENTS):
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            sock.sendall(_chunked_head("/api/tts/clone", {"Content-Type": "application/json"}))
            socks.append(sock)
        pushed = sum(_push(sock, PER_CLIENT) for sock in socks)
        grown = process.memory_info().rss - before
    finally:
        for sock in socks:
            sock.close()
    assert counted.requests == CLIENTS and counted.body_bytes == 0
    # Buffering the bodies would hold what was pushed; refusing them unread holds socket buffers at most.
    assert pushed > 0
    assert grown < 64 * 1024**2, (grown, pushed)
