"""Lifecycle of external TTS engines the user installed locally (GPT-SoVITS, XTTS, an OpenVoice server…).

An engine is declared in the profile's tts.json under `engines.<name>` with `command` (argv list), an
optional `cwd`, `env` and `health_url`. `start` launches it detached with output going to a log file and
records a pid file (JSON: pid, command, started); `status` checks the pid and the health URL; `stop`
sends SIGTERM then SIGKILL; `logs` returns the log's tail. State lives in the profile, under
`<profile>/voice/engines/` (user-only files), so two profiles never share or stop each other's engines.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

from twin.errors import InvalidInput, NotFound, Timeout, Unavailable
from twin.ids import check_name
from twin.profiles import Profile


@dataclass
class EngineStatus:
    name: str
    running: bool
    pid: int | None
    healthy: bool | None
    health_url: str | None
    log: str
    started: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class EngineManager:
    def __init__(self, profile: Profile, engines: dict[str, dict[str, Any]]) -> None:
        self.dir = profile.voice_dir / "engines"
        self.engines = engines

    def _spec(self, name: str) -> dict[str, Any]:
        spec = self.engines.get(check_name(name, "engine name"))
        if not spec or not spec.get("command"):
            raise NotFound(
                f"No start command is configured for engine '{name}'.",
                f"Add engines.{name}.command (an argv list) to the profile's voice/tts.json.",
            )
        if not isinstance(spec["command"], list) or not all(isinstance(a, str) for a in spec["command"]):
            raise InvalidInput(f"engines.{name}.command must be a list of strings.", 'e.g. ["python", "api_v2.py"]')
        return spec

    def pid_file(self, name: str) -> Path:
        return self.dir / f"{check_name(name, 'engine name')}.pid"

    def log_file(self, name: str) -> Path:
        return self.dir / f"{check_name(name, 'engine name')}.log"

    def _read_pid(self, name: str) -> dict[str, Any]:
        try:
            data = json.loads(self.pid_file(name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    @staticmethod
    def _alive(pid: int) -> bool:
        try:
            finished, _ = os.waitpid(pid, os.WNOHANG)  # reap our own child if it exited
            if finished == pid:
                return False
        except ChildProcessError:
            pass
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def _healthy(self, url: str | None) -> bool | None:
        if not url:
            return None
        try:
            return httpx.get(url, timeout=2.0).status_code < 500
        except httpx.HTTPError:
            return False

    def status(self, name: str) -> EngineStatus:
        info = self._read_pid(name)
        pid = info.get("pid")
        running = isinstance(pid, int) and pid > 0 and self._alive(pid)
        url = (self.engines.get(name) or {}).get("health_url")
        return EngineStatus(
            name,
            running,
            pid if running else None,
            self._healthy(url) if running else False,
            url,
            str(self.log_file(name)),
            info.get("started"),
        )

    def start(self, name: str, wait_s: float = 30.0) -> EngineStatus:
        spec = self._spec(name)
        current = self.status(name)
        if current.running:
            return current
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        env = {**os.environ, **{str(k): str(v) for k, v in (spec.get("env") or {}).items()}}
        log_fd = os.open(self.log_file(name), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with open(log_fd, "ab") as log:
            try:
                proc = subprocess.Popen(
                    spec["command"],
                    cwd=spec.get("cwd") or None,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
            except OSError as exc:
                raise Unavailable(
                    f"Engine '{name}' could not be started: {exc}.", "Check engines.<name>.command and cwd in tts.json."
                ) from None
        started = time.strftime("%Y-%m-%dT%H:%M:%S")
        self.pid_file(name).write_text(
            json.dumps({"pid": proc.pid, "command": spec["command"], "started": started}), encoding="utf-8"
        )
        return self._wait_healthy(name, spec.get("health_url"), wait_s)

    def _wait_healthy(self, name: str, url: str | None, wait_s: float) -> EngineStatus:
        deadline = time.monotonic() + wait_s
        while True:
            st = self.status(name)
            if not st.running:
                raise Unavailable(
                    f"Engine '{name}' exited right after starting.", f"Read its log: twin tts-engine logs {name}"
                )
            if not url or st.healthy:
                return st
            if time.monotonic() > deadline:
                raise Timeout(
                    f"Engine '{name}' did not answer {url} within {wait_s:g} s.",
                    f"It may still be loading; check `twin tts-engine status {name}` and its log.",
                )
            time.sleep(0.2)

    def stop(self, name: str, grace_s: float = 10.0) -> EngineStatus:
        st = self.status(name)
        if st.running and st.pid:
            os.kill(st.pid, signal.SIGTERM)
            deadline = time.monotonic() + grace_s
            while self._alive(st.pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            if self._alive(st.pid):
                os.kill(st.pid, signal.SIGKILL)
        self.pid_file(name).unlink(missing_ok=True)
        return self.status(name)

    def logs(self, name: str, lines: int = 50) -> str:
        path = self.log_file(name)
        if not path.is_file():
            return ""
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
