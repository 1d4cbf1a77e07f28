"""Zero egress, layer 2: watch a whole process tree, native code included, with strace.

The socket guard (ops/egress.py) sees only Python sockets. Under `strace -f` every connect/send of every
thread and child is visible, so a check here also catches native libraries phoning home. A trace is
clean when nothing reached a non-loopback address and no name was looked up (a DNS query on port 53 to
any address, including a loopback stub resolver; a host lookup through nscd; systemd-resolved or avahi).

No maintained library parses strace's output, so the few syscall shapes used here are parsed by hand.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import ipaddress
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from twin.errors import MissingDependency, Timeout

# socket, socketpair and accept are traced only to know when an fd number is reused for a new socket.
TRACED_CALLS = "execve,socket,socketpair,accept,accept4,connect,sendto,sendmsg,sendmmsg"
_NEW_FD_CALLS = ("socket", "socketpair", "accept", "accept4")
# Folders where a native library queues telemetry to send later (relative to $HOME).
TELEMETRY_SPOOLS = (".cache/Microsoft",)

_NSCD_SOCKETS = {"/var/run/nscd/socket", "/run/nscd/socket"}
_RESOLVER_SOCKETS = {
    "/run/systemd/resolve/io.systemd.Resolve": "systemd-resolved",
    "/var/run/avahi-daemon/socket": "avahi (mDNS)",
    "/run/avahi-daemon/socket": "avahi (mDNS)",
}
# nscd request types that look up hosts (glibc nscd-client.h): GETHOSTBYNAME(v6), GETHOSTBYADDR(v6),
# GETFDHST (maps the host cache, after which lookups need no socket at all) and GETAI (getaddrinfo).
_NSCD_HOST_REQUESTS = {4, 5, 6, 7, 13, 14}
_DNS_PORTS = {53, 853}

_CALL = re.compile(r"^(?P<pid>\d+)\s+(?P<call>\w+)\((?P<args>.*)$")
_RESUMED = re.compile(r"^(?P<pid>\d+)\s+<\.\.\. (?P<call>\w+) resumed>(?P<args>.*)$")
_RESULT = re.compile(r"\)\s*=\s*(?P<ret>-?\d+)(?:\s+(?P<err>E[A-Z0-9]+))?")
_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
_SOCKADDR = re.compile(r"\{sa_family=(?P<family>AF_\w+)(?P<body>[^{}]*)\}")
_INET = re.compile(r'sin_port=htons\((?P<port>\d+)\),\s*sin_addr=inet_addr\("#(?P<addr>\d+)"\)')
_INET6 = re.compile(r'sin6_port=htons\((?P<port>\d+)\).*?inet_pton\(AF_INET6,\s*"#(?P<addr>\d+)"')
_UNIX = re.compile(r'sun_path=(?P<abstract>@?)"#(?P<path>\d+)"')


@dataclass(frozen=True)
class NetEvent:
    """One traced send or connect that has a destination."""

    pid: int
    call: str
    fd: int
    family: str
    address: str
    port: int | None
    result: int | None
    payload: bytes = b""

    def describe(self) -> str:
        where = f"{self.address}:{self.port}" if self.port is not None else self.address
        return f"{self.call} {self.family} {where} (pid {self.pid})"


@dataclass(frozen=True)
class Violation:
    event: NetEvent
    reason: str

    def __str__(self) -> str:
        return f"{self.reason}: {self.event.describe()}"


@dataclass
class EgressReport:
    """What a traced run did on the network, and which of it breaks the zero-egress promise."""

    events: list[NetEvent] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    spools: list[Path] = field(default_factory=list)
    returncode: int | None = None

    @property
    def clean(self) -> bool:
        return not self.violations and not self.spools

    def summary(self) -> str:
        if self.clean:
            return f"no egress ({len(self.events)} local connection(s) seen)"
        lines = [str(v) for v in self.violations] + [f"telemetry queued in {p}" for p in self.spools]
        return "\n".join(lines)


def strace_path() -> str | None:
    return shutil.which("strace")


@functools.cache
def strace_usable() -> bool:
    """strace is installed and may trace here (a container can forbid ptrace)."""
    path = strace_path()
    if path is None:
        return False
    try:
        done = subprocess.run([path, "-f", "-qq", "-e", "trace=none", "--", "true"], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _require_strace() -> str:
    path = strace_path()
    if path is None:
        raise MissingDependency(
            "The egress check needs strace, which is not installed.",
            "Install it with your package manager, e.g. apt-get install strace.",
        )
    return path


def _mask_strings(args: str) -> tuple[str, list[str]]:
    """Replace string literals by "#N" so payload bytes can never be read as syscall structure."""
    strings: list[str] = []

    def keep(m: re.Match[str]) -> str:
        strings.append(m.group(1))
        return f'"#{len(strings) - 1}"'

    return _STRING.sub(keep, args), strings


def _unescape(text: str) -> bytes:
    try:
        value = ast.literal_eval('b"' + text + '"')
    except (SyntaxError, ValueError):
        return text.encode("utf-8", "replace")
    return value if isinstance(value, bytes) else b""


def _sockaddr(masked: str, strings: list[str]) -> tuple[str, str, int | None] | None:
    m = _SOCKADDR.search(masked)
    if m is None:
        return None
    family, body = m.group("family"), m.group("body")
    if family == "AF_INET" and (a := _INET.search(body)):
        return family, strings[int(a.group("addr"))], int(a.group("port"))
    if family == "AF_INET6" and (a := _INET6.search(body)):
        return family, strings[int(a.group("addr"))], int(a.group("port"))
    if family == "AF_UNIX" and (a := _UNIX.search(body)):
        return family, a.group("abstract") + _unescape(strings[int(a.group("path"))]).decode("utf-8", "replace"), None
    return family, "", None


def _destination(call: str, masked: str, strings: list[str]) -> tuple[str, str, int | None] | None:
    if call == "connect":
        return _sockaddr(masked, strings)
    if call == "sendto":
        return _sockaddr(masked, strings)  # NULL (no address) for a connected socket
    name = masked.find("msg_name=")  # sendmsg / sendmmsg: the first message's destination
    return _sockaddr(masked[name:], strings) if name >= 0 and masked[name + 9 : name + 13] != "NULL" else None


def _new_fds(call: str, args: str) -> list[int]:
    if call == "socketpair":
        pair = re.search(r"\[(\d+),\s*(\d+)\]\)\s*=\s*0", args)
        return [int(pair.group(1)), int(pair.group(2))] if pair else []
    res = _RESULT.search(_mask_strings(args)[0])
    return [int(res.group("ret"))] if res and int(res.group("ret")) >= 0 else []


def parse_trace(text: str) -> list[NetEvent]:
    """NetEvents from `strace -f` output (lines start with the pid). Sends without an address are kept
    only on sockets whose connect was seen, with the connect's destination."""
    events: list[NetEvent] = []
    pending: dict[int, tuple[str, str]] = {}  # pid -> (call, args) of an <unfinished ...> line
    peers: dict[int, tuple[str, str, int | None]] = {}  # fd -> last connect destination
    for line in text.splitlines():
        if m := _RESUMED.match(line):
            call, head = pending.pop(int(m.group("pid")), (m.group("call"), ""))
            line = f"{m.group('pid')} {call}({head}{m.group('args')}"
        m = _CALL.match(line)
        if m is None:
            continue
        pid, call, args = int(m.group("pid")), m.group("call"), m.group("args")
        if args.endswith("<unfinished ...>"):
            pending[pid] = (call, args[: -len("<unfinished ...>")])
            continue
        if call == "execve":
            continue
        if call in _NEW_FD_CALLS:
            for fd in _new_fds(call, args):
                peers.pop(fd, None)
            continue
        fd_text, _, rest = args.partition(",")
        if not fd_text.strip().isdigit():
            continue
        fd = int(fd_text)
        masked, strings = _mask_strings(rest)
        res = _RESULT.search(masked)
        result = int(res.group("ret")) if res else None
        dest = _destination(call, masked, strings)
        if call == "connect" and dest is not None:
            if result == 0 or (res is not None and res.group("err") == "EINPROGRESS"):
                peers[fd] = dest
            else:
                peers.pop(fd, None)
        elif dest is None and fd in peers and call != "connect":
            dest = peers[fd]
        if dest is None:
            continue
        payload = _unescape(strings[0]) if call == "sendto" and strings else b""
        events.append(NetEvent(pid, call, fd, dest[0], dest[1], dest[2], result, payload))
    return events


def is_loopback_address(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def _nscd_request(payload: bytes) -> int | None:
    """The request type of an nscd client request (int32 version, int32 type, ...), if it is one."""
    if len(payload) < 8:
        return None
    return int.from_bytes(payload[4:8], "little")


def classify(events: Sequence[NetEvent]) -> list[Violation]:
    """The events that leak: any non-loopback destination and any name lookup."""
    out: list[Violation] = []
    for ev in events:
        if ev.family in ("AF_INET", "AF_INET6"):
            if ev.port in _DNS_PORTS:
                out.append(Violation(ev, "DNS query"))
            elif not is_loopback_address(ev.address):
                out.append(Violation(ev, "non-loopback connection"))
        elif ev.family == "AF_UNIX" and ev.address in _RESOLVER_SOCKETS:
            out.append(Violation(ev, f"name lookup through {_RESOLVER_SOCKETS[ev.address]}"))
        elif ev.family == "AF_UNIX" and ev.address in _NSCD_SOCKETS and ev.call != "connect":
            # A failed connect means no nscd (nothing sent); user and group lookups are harmless.
            if _nscd_request(ev.payload) in _NSCD_HOST_REQUESTS:
                out.append(Violation(ev, "host lookup through nscd"))
        elif ev.family not in ("AF_UNIX", "AF_NETLINK", "AF_UNSPEC"):
            out.append(Violation(ev, f"{ev.family} socket"))
    return out


def telemetry_spools(home: Path) -> list[Path]:
    """Telemetry queues a native library left under `home` (there should be none)."""
    return [home / rel for rel in TELEMETRY_SPOOLS if (home / rel).exists()]


def report_from(trace_file: Path, home: Path | None, returncode: int | None) -> EgressReport:
    events = parse_trace(trace_file.read_text(encoding="utf-8", errors="replace"))
    return EgressReport(
        events=events,
        violations=classify(events),
        spools=telemetry_spools(home) if home is not None else [],
        returncode=returncode,
    )


class TracedProcess:
    """`argv` running under strace until it exits or stop() is called; then `report` holds the result.

    Use as a context manager. `home` is where telemetry spools are looked for (the child's $HOME)."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        home: Path | None = None,
    ) -> None:
        self.argv = list(argv)
        self.env = dict(env if env is not None else os.environ)
        self.cwd = cwd
        self.home = home if home is not None else Path(self.env.get("HOME", str(Path.home())))
        self._dir = Path(tempfile.mkdtemp(prefix="twin-egress-"))
        self.trace_file = self._dir / "trace.txt"
        self.output_file = self._dir / "output.txt"
        self._proc: subprocess.Popen[bytes] | None = None
        self.report: EgressReport | None = None

    def start(self) -> TracedProcess:
        strace = _require_strace()
        cmd = [strace, "-f", "--seccomp-bpf", "-qq", "-s", "256", "-e", "signal=none", "-e", f"trace={TRACED_CALLS}"]
        cmd += ["-o", str(self.trace_file), "--", *self.argv]
        with self.output_file.open("wb") as out:
            self._proc = subprocess.Popen(cmd, env=self.env, cwd=self.cwd, stdout=out, stderr=subprocess.STDOUT)
        return self

    def output(self) -> str:
        """What the traced command printed so far (stdout and stderr)."""
        return self.output_file.read_text(encoding="utf-8", errors="replace") if self.output_file.exists() else ""

    def _tracee(self) -> int | None:
        """The pid of the command strace started: the first execve in the trace."""
        if not self.trace_file.exists():
            return None
        for line in self.trace_file.read_text(encoding="utf-8", errors="replace").splitlines():
            m = _CALL.match(line)
            if m and m.group("call") == "execve":
                return int(m.group("pid"))
        return None

    def wait(self, timeout: float) -> EgressReport:
        """Wait for the command to exit by itself."""
        assert self._proc is not None, "start() first"
        try:
            code = self._proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._kill()
            raise Timeout(
                f"The traced command did not finish within {timeout:.0f} s.", "Give it more time or check its output."
            ) from None
        return self._finish(code)

    def stop(self, grace: float = 20.0) -> EgressReport:
        """Interrupt the command (SIGINT, as Ctrl-C would) and collect the report."""
        assert self._proc is not None, "start() first"
        if self._proc.poll() is None and (pid := self._tracee()) is not None:
            os.kill(pid, signal.SIGINT)
        try:
            code = self._proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self._kill()
            code = self._proc.wait(timeout=grace)
        return self._finish(code)

    def _kill(self) -> None:
        assert self._proc is not None
        if (pid := self._tracee()) is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.2)
        if self._proc.poll() is None:
            self._proc.kill()

    def _finish(self, code: int) -> EgressReport:
        self.report = report_from(self.trace_file, self.home, code)
        return self.report

    def close(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._kill()
            self._proc.wait(timeout=30)
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> TracedProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def trace_command(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    home: Path | None = None,
    timeout: float = 600.0,
) -> tuple[EgressReport, str]:
    """Run `argv` to completion under strace; the report and what the command printed."""
    with TracedProcess(argv, env=env, cwd=cwd, home=home) as proc:
        report = proc.wait(timeout)
        return report, proc.output()
