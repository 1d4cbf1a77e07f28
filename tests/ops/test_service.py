"""Service files: launchd plists parsed with plistlib, systemd units checked by systemd-analyze, the tmux
restart loop run for real (on a harmless command). No real system service is ever started."""

from __future__ import annotations

import json
import os
import plistlib
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from twin.cli.main import app
from twin.ops.service import ServiceManager, ServiceSpec, build_specs, render_systemd
from twin.settings import load_settings

runner = CliRunner()


class Recorder:
    """Stands in for launchctl/systemctl/tmux: records the commands, answers like a stopped service."""

    def __init__(self, returncode: int = 0) -> None:
        self.calls: list[list[str]] = []
        self.returncode = returncode

    def __call__(self, argv):  # noqa: ANN001, ANN204 - subprocess.run's shape
        self.calls.append(list(argv))
        return subprocess.CompletedProcess(list(argv), self.returncode, "", "")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    fake = tmp_path / "user-home"
    fake.mkdir()
    monkeypatch.setenv("HOME", str(fake))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    return fake


def _profile() -> None:
    assert runner.invoke(app, ["profile", "create", "me"]).exit_code == 0


def test_launchd_plists_parse_and_keep_the_server_alive(home: Path) -> None:
    _profile()
    rec = Recorder()
    sm = ServiceManager(load_settings(), "launchd", runner=rec)
    specs = build_specs(["server", "tts"], sm.settings, profile="me", port=3111, tts_port=8111)
    done = sm.install(specs)
    server = plistlib.loads((home / "Library/LaunchAgents/com.twin.server.plist").read_bytes())
    assert server["Label"] == "com.twin.server"
    assert server["RunAtLoad"] is True and server["KeepAlive"] is True
    args = server["ProgramArguments"]
    assert args[0] == sys.executable or Path(args[0]).is_absolute()
    assert args[1:] == ["-m", "twin", "serve", "--host", "127.0.0.1", "--port", "3111", "--no-demo"]
    assert server["EnvironmentVariables"]["TWIN_HOME"] == str(sm.settings.home.absolute())
    assert server["StandardErrorPath"].startswith(str(home / "Library/Logs/twin"))
    assert server["Umask"] == 0o077
    tts = plistlib.loads((home / "Library/LaunchAgents/com.twin.tts.plist").read_bytes())
    assert tts["ProgramArguments"][3:] == ["tts-server", "--profile", "me", "--port", "8111"]
    assert oct((home / "Library/LaunchAgents/com.twin.server.plist").stat().st_mode & 0o777) == "0o600"
    uid = os.getuid()
    assert ["launchctl", "bootstrap", f"gui/{uid}", done[0]["path"]] in rec.calls
    assert all(c[0] == "launchctl" for c in rec.calls)


def _verify(unit: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    proc = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)
    # verify exits 0 on unknown keys and bad values too: only its silence means the unit is clean.
    assert proc.returncode == 0 and unit.name not in proc.stderr, proc.stderr


def test_systemd_units_verify_and_are_hardened(home: Path) -> None:
    _profile()
    rec = Recorder()
    sm = ServiceManager(load_settings(), "systemd", runner=rec)
    sm.install(build_specs(["server", "tts"], sm.settings, profile="me"))
    unit = home / ".config/systemd/user/twin-server.service"
    text = unit.read_text()
    for line in (
        "Restart=on-failure",
        "WantedBy=default.target",
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "ProtectSystem=strict",
        "UMask=0077",
        f"ReadWritePaths={sm.settings.home.absolute()}",
    ):
        assert line in text.splitlines(), line
    assert "--host 127.0.0.1" in text
    _verify(unit)
    _verify(home / ".config/systemd/user/twin-tts.service")
    assert ["systemctl", "--user", "enable", "--now", "twin-server.service"] in rec.calls


def test_systemd_quoting_survives_odd_paths(tmp_path: Path) -> None:
    odd = tmp_path / "my data 100%"
    spec = ServiceSpec("server", "x", ["/usr/bin/env", str(odd), "$HOME"], {"TWIN_HOME": str(odd)})
    unit = tmp_path / "twin-server.service"
    unit.write_text(render_systemd(spec, [tmp_path]))
    escaped = str(odd).replace("%", "%%")
    assert f'ExecStart=/usr/bin/env "{escaped}" $$HOME' in unit.read_text().splitlines()
    _verify(unit)


def test_uninstall_stops_and_removes(home: Path) -> None:
    rec = Recorder()
    sm = ServiceManager(load_settings(), "systemd", runner=rec)
    sm.install(build_specs(["server"], sm.settings, profile="me"), start=False)
    assert rec.calls == []
    path = Path(sm.path_for("server"))
    assert path.is_file()
    sm.uninstall(["server"])
    assert not path.exists()
    assert ["systemctl", "--user", "disable", "--now", "twin-server.service"] in rec.calls


def test_status_reports_installed_and_running(home: Path) -> None:
    sm = ServiceManager(load_settings(), "tmux", runner=Recorder(returncode=1))
    sm.install(build_specs(["server"], sm.settings, profile="me"), start=False)
    [st] = sm.status(["server"])
    assert st.installed and st.running is False
    sm.runner = Recorder(returncode=0)
    assert sm.status(["server"])[0].running is True
    assert sm.runner.calls == [["tmux", "has-session", "-t", "twin-server"]]


def test_tmux_loop_restarts_a_killed_process(tmp_path: Path) -> None:
    """The fallback's script restarts its command after a crash (kill -9)."""
    pids = tmp_path / "pids"
    code = f"import os, time; open({str(pids)!r}, 'a').write(f'{{os.getpid()}}\\n'); time.sleep(60)"
    spec = ServiceSpec("server", "test", [sys.executable, "-c", code], {"X": "1"})
    from twin.ops.service import render_tmux

    script = tmp_path / "loop.sh"
    script.write_text(render_tmux(spec, tmp_path).replace("sleep 3", "sleep 0.2"))
    loop = subprocess.Popen(["sh", str(script)], start_new_session=True)
    try:
        first = _wait_lines(pids, 1)[0]
        os.kill(int(first), signal.SIGKILL)
        second = _wait_lines(pids, 2)[1]
        assert second != first
    finally:
        os.killpg(loop.pid, signal.SIGKILL)
        loop.wait(timeout=10)


def _wait_lines(path: Path, n: int) -> list[str]:
    for _ in range(300):
        lines = path.read_text().split() if path.exists() else []
        if len(lines) >= n:
            return lines
        time.sleep(0.05)
    raise AssertionError(f"{path} never got {n} lines")


def test_cli_install_json_and_bad_names(home: Path) -> None:
    _profile()
    res = runner.invoke(app, ["service", "install", "--what", "server", "--manager", "systemd", "--no-start", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["manager"] == "systemd" and data["services"][0]["name"] == "server"
    bad = runner.invoke(app, ["service", "install", "--what", "server,nginx", "--json"])
    assert bad.exit_code == 2 and json.loads(bad.stdout)["error"]["code"] == "invalid_input"
    missing = runner.invoke(app, ["service", "install", "--what", "tts", "--profile", "nobody", "--json"])
    assert json.loads(missing.stdout)["error"]["code"] == "not_found"


def test_ollama_needs_ollama(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    res = runner.invoke(app, ["service", "install", "--what", "ollama", "--no-start", "--json"])
    assert res.exit_code == 2 and "Ollama is not installed" in json.loads(res.stdout)["error"]["message"]
