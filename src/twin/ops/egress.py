"""Zero egress, layer 1: a guard that refuses every network connection that is not loopback.

`no_egress()` patches socket connect/sendto and name resolution for the duration of a block, so any
attempt to reach another host (or even to resolve a public name, which would leak a DNS query) raises
EgressBlocked and is recorded. Unix sockets and 127.0.0.0/8, ::1 and "localhost" stay allowed.
Tests run the whole write path inside it; `egress_guard` is the same thing as a pytest fixture body."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from twin.errors import TwinError

_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", ""}


class EgressBlocked(TwinError):
    code = "egress_blocked"
    http_status = 403


def is_loopback(host: Any) -> bool:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    host = str(host).strip("[]").lower()
    if host in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _check(address: Any, attempts: list[str]) -> None:
    if isinstance(address, (str, bytes)):  # AF_UNIX path
        return
    host = address[0] if isinstance(address, tuple) and address else address
    if not is_loopback(host):
        attempts.append(str(address))
        raise EgressBlocked(
            f"Blocked a network connection to {address}: twin never leaves this machine.",
            "Only loopback (127.0.0.1, ::1) runtimes are allowed; check the configured URLs.",
        )


@contextmanager
def no_egress() -> Iterator[list[str]]:
    """Refuse non-loopback connections inside the block; yields the list of blocked attempts."""
    attempts: list[str] = []
    orig_connect, orig_connect_ex = socket.socket.connect, socket.socket.connect_ex
    orig_sendto, orig_getaddrinfo = socket.socket.sendto, socket.getaddrinfo

    def connect(self: socket.socket, address: Any) -> Any:
        _check(address, attempts)
        return orig_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> Any:
        _check(address, attempts)
        return orig_connect_ex(self, address)

    def sendto(self: socket.socket, data: Any, *args: Any) -> Any:
        _check(args[-1], attempts)
        return orig_sendto(self, data, *args)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None:
            _check((host, 0), attempts)
        return orig_getaddrinfo(host, *args, **kwargs)

    patched: list[tuple[object, str, object]] = [
        (socket.socket, "connect", connect),
        (socket.socket, "connect_ex", connect_ex),
        (socket.socket, "sendto", sendto),
        (socket, "getaddrinfo", getaddrinfo),
    ]
    originals = [(owner, name, getattr(owner, name)) for owner, name, _ in patched]
    for owner, name, replacement in patched:
        setattr(owner, name, replacement)
    try:
        yield attempts
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)


def egress_guard() -> Iterator[list[str]]:
    """Body of a pytest fixture: `egress = pytest.fixture(egress_guard)`."""
    with no_egress() as attempts:
        yield attempts
