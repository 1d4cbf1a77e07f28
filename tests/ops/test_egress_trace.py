"""The strace-based egress check itself: parsing real strace lines and classifying what leaks."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from twin.ops.egress_trace import classify, parse_trace, strace_usable, telemetry_spools, trace_command

# Recorded from onnxruntime's telemetry uploader (before it was switched off), trimmed.
ORT_TELEMETRY = """\
14681 connect(8, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = -1 ENOENT (No such file or directory)
14681 connect(8, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.255.255.53")}, 16) = 0
14681 sendto(8, "\\356[\\1\\0\\0\\1\\0\\0\\0\\0\\0\\0\\6mobile\\6events\\4data\\t"..., 50, MSG_NOSIGNAL, NULL, 0) = 50
14714 connect(9, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.255.255.53")}, 16 <unfinished ...>
14713 sendto(5, "\\0", 1, 0, NULL, 0)    = 1
14714 <... connect resumed>)            = 0
"""


def test_dns_lookups_of_a_native_uploader_are_violations() -> None:
    events = parse_trace(ORT_TELEMETRY)
    reasons = [(v.reason, v.event.call, v.event.address, v.event.port) for v in classify(events)]
    assert reasons == [
        ("DNS query", "connect", "10.255.255.53", 53),
        ("DNS query", "sendto", "10.255.255.53", 53),
        ("DNS query", "connect", "10.255.255.53", 53),
    ]


def test_a_failed_nscd_connect_and_user_lookups_are_not_violations() -> None:
    user_lookup = (
        '1 connect(3, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = 0\n'
        '1 sendto(3, "\\2\\0\\0\\0\\1\\0\\0\\0\\2\\0\\0\\0000\\0", 14, MSG_NOSIGNAL, NULL, 0) = 14\n'
    )
    assert classify(parse_trace(ORT_TELEMETRY.splitlines()[0] + "\n" + user_lookup)) == []
    host_lookup = user_lookup.replace("\\2\\0\\0\\0\\1\\0", "\\2\\0\\0\\0\\16\\0")  # GETAI
    assert [v.reason for v in classify(parse_trace(host_lookup))] == ["host lookup through nscd"]


def test_payload_text_is_never_read_as_an_address() -> None:
    sneaky = (
        '7 sendto(4, "{sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr(\\"8.8.8.8\\")}", 9, 0, NULL, 0) = 9\n'
    )
    assert parse_trace(sneaky) == []


def test_resolver_sockets_and_mapped_loopback() -> None:
    lines = (
        '2 connect(5, {sa_family=AF_UNIX, sun_path="/run/systemd/resolve/io.systemd.Resolve"}, 42) = 0\n'
        "2 connect(6, {sa_family=AF_INET6, sin6_port=htons(3000), sin6_flowinfo=htonl(0), "
        'inet_pton(AF_INET6, "::ffff:127.0.0.1", &sin6_addr), sin6_scope_id=0}, 28) = 0\n'
    )
    assert [v.reason for v in classify(parse_trace(lines))] == ["name lookup through systemd-resolved"]


def test_telemetry_spools(tmp_path: Path) -> None:
    assert telemetry_spools(tmp_path) == []
    (tmp_path / ".cache" / "Microsoft" / "DeveloperTools").mkdir(parents=True)
    assert telemetry_spools(tmp_path) == [tmp_path / ".cache" / "Microsoft"]


@pytest.mark.skipif(not strace_usable(), reason="strace is not installed or may not trace here (CI installs it)")
def test_live_trace_sees_what_a_process_sends(tmp_path: Path) -> None:
    script = tmp_path / "net.py"
    script.write_text(
        textwrap.dedent(
            """
            import socket
            srv = socket.socket(socket.AF_INET6)
            srv.bind(("::1", 0))
            srv.listen()
            socket.create_connection(("::1", srv.getsockname()[1])).close()
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            u.connect(("192.0.2.1", 9))  # a UDP connect sends no packet: harmless, but an egress attempt
            u.close()
            d = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            d.sendto(b"\\x12\\x34query", ("127.0.0.53", 53))  # a DNS query to a local stub resolver
            d.close()
            a, b = socket.socketpair()  # reuses the fd numbers above: must not inherit their peers
            a.send(b"x")
            """
        )
    )
    report, _out = trace_command([sys.executable, str(script)], home=tmp_path, timeout=120)
    assert report.returncode == 0
    found = [(v.reason, v.event.address, v.event.port) for v in report.violations]
    assert found == [("non-loopback connection", "192.0.2.1", 9), ("DNS query", "127.0.0.53", 53)]
    assert any(e.address == "::1" for e in report.events) and not report.clean
