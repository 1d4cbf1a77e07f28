"""Always-on services: the API server, the TTS server and Ollama as launchd agents (macOS), systemd user
units (Linux) or, where neither exists, tmux sessions with a restart loop.

Rendering is pure (specs in, file text out) so tests can parse what would be installed; the service
manager is only ever called through `ServiceManager.runner`, which tests replace."""

from __future__ import annotations

import os
import plistlib
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from twin.errors import InvalidInput, NotFound
from twin.ids import check_name
from twin.settings import Settings

Manager = Literal["launchd", "systemd", "tmux"]
SERVICES = ("server", "tts", "ollama")
LABEL_PREFIX = "com.twin."
UNIT_PREFIX = "twin-"
Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]


@dataclass(frozen=True)
class ServiceSpec:
    """One long-running process: what to run and with which environment."""

    name: str
    description: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return LABEL_PREFIX + self.name

    @property
    def unit(self) -> str:
        return f"{UNIT_PREFIX}{self.name}.service"

    @property
    def session(self) -> str:
        return UNIT_PREFIX + self.name


def parse_what(what: str) -> list[str]:
    """'server,tts' → ['server', 'tts'], refusing unknown names."""
    names = [w.strip().lower() for w in what.split(",") if w.strip()]
    bad = [n for n in names if n not in SERVICES]
    if bad or not names:
        raise InvalidInput(
            f"Unknown service {', '.join(bad) or '(none)'}.", f"Choose from: {', '.join(SERVICES)} (comma-separated)."
        )
    return list(dict.fromkeys(names))


def twin_argv() -> list[str]:
    """How a service runs twin: this interpreter (an absolute path, so no PATH is needed) with -m twin."""
    return [str(Path(sys.executable).absolute()), "-m", "twin"]


def build_specs(
    names: Sequence[str], settings: Settings, *, profile: str, port: int = 3000, tts_port: int = 8000
) -> list[ServiceSpec]:
    """The services to install. Everything binds 127.0.0.1; data comes from this install's TWIN_HOME."""
    env = {"TWIN_HOME": str(settings.home.absolute()), "PYTHONUNBUFFERED": "1"}
    out = []
    for name in names:
        if name == "server":
            argv = [*twin_argv(), "serve", "--host", "127.0.0.1", "--port", str(port), "--no-demo"]
            out.append(ServiceSpec("server", "twin API server and web UI (127.0.0.1)", argv, env))
        elif name == "tts":
            argv = [
                *twin_argv(),
                "tts-server",
                "--profile",
                check_name(profile, "profile name"),
                "--port",
                str(tts_port),
            ]
            out.append(ServiceSpec("tts", "twin TTS server (127.0.0.1)", argv, env))
        elif name == "ollama":
            exe = shutil.which("ollama")
            if exe is None:
                raise NotFound(
                    "Ollama is not installed, so there is no Ollama service to install.",
                    "Install Ollama (https://ollama.com/download) or leave 'ollama' out of --what.",
                )
            out.append(
                ServiceSpec(
                    "ollama", "Ollama LLM runtime (127.0.0.1)", [exe, "serve"], {"OLLAMA_HOST": "127.0.0.1:11434"}
                )
            )
    return out


def render_launchd(spec: ServiceSpec, log_dir: Path) -> bytes:
    """A LaunchAgent plist: started at login, restarted whenever it exits, logs under log_dir."""
    plist = {
        "Label": spec.label,
        "ProgramArguments": spec.argv,
        "EnvironmentVariables": spec.env,
        "RunAtLoad": True,
        "KeepAlive": True,
        "ThrottleInterval": 10,
        "ProcessType": "Interactive",
        "Umask": 0o077,
        "StandardOutPath": str(log_dir / f"{spec.name}.log"),
        "StandardErrorPath": str(log_dir / f"{spec.name}.err.log"),
    }
    return plistlib.dumps(plist, sort_keys=False)


def _quote_systemd(arg: str) -> str:
    """One ExecStart argument; systemd expands % and $ unless doubled."""
    arg = arg.replace("%", "%%").replace("$", "$$")
    if any(c in arg for c in " \"'\\\t"):
        return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return arg


def _escape_env(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%")


def render_systemd(spec: ServiceSpec, writable: Sequence[Path] = ()) -> str:
    """A systemd user unit: restarted on failure, enabled for the user's default target, hardened."""
    env = [f'Environment="{k}={_escape_env(v)}"' for k, v in spec.env.items()]
    rw = " ".join(_quote_systemd(str(p)) for p in writable)
    lines = [
        "[Unit]",
        f"Description={spec.description}",
        "After=network.target",
        "StartLimitIntervalSec=300",
        "StartLimitBurst=10",
        "",
        "[Service]",
        "Type=simple",
        "ExecStart=" + " ".join(_quote_systemd(a) for a in spec.argv),
        *env,
        "Restart=on-failure",
        "RestartSec=3",
        "UMask=0077",
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "ProtectSystem=strict",
        "ProtectHome=read-only",
        *([f"ReadWritePaths={rw}"] if rw else []),
        "ProtectKernelTunables=yes",
        "ProtectKernelModules=yes",
        "ProtectControlGroups=yes",
        "RestrictSUIDSGID=yes",
        "RestrictRealtime=yes",
        "LockPersonality=yes",
        "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
        "",
        "[Install]",
        "WantedBy=default.target",
        "",
    ]
    return "\n".join(lines)


def render_tmux(spec: ServiceSpec, log_dir: Path) -> str:
    """A shell script that keeps the service running inside a tmux session (restarts it when it dies)."""
    env = " ".join(f"{k}={shlex.quote(v)}" for k, v in spec.env.items())
    cmd = shlex.join(spec.argv)
    log = shlex.quote(str(log_dir / f"{spec.name}.log"))
    return (
        "#!/bin/sh\n"
        f"# {spec.description}: run inside tmux session {spec.session}; restarted 3 s after it exits.\n"
        "umask 077\n"
        f"while true; do env {env} {cmd} >>{log} 2>&1; sleep 3; done\n"
    )


def detect_manager() -> Manager:
    """launchd on macOS, systemd where systemctl exists, else tmux."""
    if sys.platform == "darwin":
        return "launchd"
    if shutil.which("systemctl"):
        return "systemd"
    return "tmux"


def _run(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=60, check=False)


@dataclass
class ServiceStatus:
    name: str
    manager: Manager
    installed: bool
    running: bool | None  # None: the manager could not be asked
    path: str
    detail: str = ""

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "manager": self.manager,
            "installed": self.installed,
            "running": self.running,
            "path": self.path,
            "detail": self.detail,
        }


class ServiceManager:
    """Writes, removes and inspects the service files of one manager; `runner` talks to the manager."""

    def __init__(self, settings: Settings, manager: Manager | None = None, runner: Runner = _run) -> None:
        self.settings = settings
        self.manager: Manager = manager or detect_manager()
        self.runner = runner

    @property
    def log_dir(self) -> Path:
        if self.manager == "launchd":
            return Path.home() / "Library" / "Logs" / "twin"
        return self.settings.home / "logs"

    def path_for(self, spec_name: str) -> Path:
        if self.manager == "launchd":
            return Path.home() / "Library" / "LaunchAgents" / f"{LABEL_PREFIX}{spec_name}.plist"
        if self.manager == "systemd":
            config = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
            return config / "systemd" / "user" / f"{UNIT_PREFIX}{spec_name}.service"
        return self.settings.home / "services" / f"{UNIT_PREFIX}{spec_name}.sh"

    def render(self, spec: ServiceSpec) -> bytes:
        if self.manager == "launchd":
            return render_launchd(spec, self.log_dir)
        if self.manager == "systemd":
            writable = [self.settings.home.absolute()]
            return render_systemd(spec, writable).encode()
        return render_tmux(spec, self.log_dir).encode()

    def install(self, specs: Sequence[ServiceSpec], start: bool = True) -> list[dict[str, object]]:
        """Write each service's file (0600, or 0700 for the tmux script) and, with start, load it."""
        done: list[dict[str, object]] = []
        self.log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        for spec in specs:
            path = self.path_for(spec.name)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.tmp")
            tmp.write_bytes(self.render(spec))
            tmp.chmod(0o700 if self.manager == "tmux" else 0o600)
            os.replace(tmp, path)
            commands = self._start_commands(spec, path) if start else []
            done.append({"name": spec.name, "path": str(path), "commands": [self._check(c) for c in commands]})
        return done

    def uninstall(self, names: Sequence[str]) -> list[dict[str, object]]:
        done: list[dict[str, object]] = []
        for name in names:
            path = self.path_for(name)
            spec = ServiceSpec(name, "", [])
            results = [self._check(c, tolerate=True) for c in self._stop_commands(spec, path)] if path.exists() else []
            path.unlink(missing_ok=True)
            done.append({"name": name, "path": str(path), "removed": True, "commands": results})
        return done

    def status(self, names: Sequence[str]) -> list[ServiceStatus]:
        return [self._status(name) for name in names]

    def _status(self, name: str) -> ServiceStatus:
        path = self.path_for(name)
        spec = ServiceSpec(name, "", [])
        argv = {
            "launchd": ["launchctl", "print", f"gui/{os.getuid()}/{spec.label}"],
            "systemd": ["systemctl", "--user", "is-active", spec.unit],
            "tmux": ["tmux", "has-session", "-t", spec.session],
        }[self.manager]
        try:
            proc = self.runner(argv)
        except (OSError, subprocess.SubprocessError) as exc:
            return ServiceStatus(name, self.manager, path.exists(), None, str(path), f"{argv[0]}: {exc}")
        lines = (proc.stdout or proc.stderr or "").strip().splitlines()[:1]
        detail = lines[0] if lines else ""
        running: bool | None = proc.returncode == 0
        if "Failed to connect to bus" in (proc.stderr or ""):  # no user session manager to ask
            running = None
        return ServiceStatus(name, self.manager, path.exists(), running, str(path), detail)

    def _start_commands(self, spec: ServiceSpec, path: Path) -> list[list[str]]:
        if self.manager == "launchd":
            domain = f"gui/{os.getuid()}"
            return [["launchctl", "bootout", f"{domain}/{spec.label}"], ["launchctl", "bootstrap", domain, str(path)]]
        if self.manager == "systemd":
            return [["systemctl", "--user", "daemon-reload"], ["systemctl", "--user", "enable", "--now", spec.unit]]
        return [
            ["tmux", "kill-session", "-t", spec.session],
            ["tmux", "new-session", "-d", "-s", spec.session, str(path)],
        ]

    def _stop_commands(self, spec: ServiceSpec, path: Path) -> list[list[str]]:
        if self.manager == "launchd":
            return [["launchctl", "bootout", f"gui/{os.getuid()}/{spec.label}"]]
        if self.manager == "systemd":
            return [["systemctl", "--user", "disable", "--now", spec.unit], ["systemctl", "--user", "daemon-reload"]]
        return [["tmux", "kill-session", "-t", spec.session]]

    def _check(self, argv: list[str], tolerate: bool = False) -> dict[str, object]:
        """Run one manager command; a stop of something not running (bootout, kill-session) may fail."""
        stoppish = tolerate or argv[1:2] in (["bootout"], ["kill-session"])
        try:
            proc = self.runner(argv)
        except (OSError, subprocess.SubprocessError) as exc:
            if stoppish:
                return {"argv": argv, "ok": False, "output": str(exc)}
            raise InvalidInput(
                f"Could not run {argv[0]}: {exc}.", "Install it, or pass --no-start and load the file yourself."
            ) from None
        output = (proc.stderr or proc.stdout or "").strip()[:300]
        if proc.returncode != 0 and not stoppish:
            raise InvalidInput(
                f"'{shlex.join(argv)}' failed: {output}", "The service file was written; see the output."
            )
        return {"argv": argv, "ok": proc.returncode == 0, "output": output}
