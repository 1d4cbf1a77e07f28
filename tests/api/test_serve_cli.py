"""`twin serve` tells the user a command that works from their shell, never wraps it, and its access
log never records query strings (where a client may have put a key)."""

from __future__ import annotations

import io
import logging
import stat
import sys
from pathlib import Path

import httpx
import pytest
from rich.console import Console

from twin.api.logs import access_log_config
from twin.cli import serve as serve_cli

from .conftest import Env
from .live import serve


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_access_log_drops_query_strings(env: Env) -> None:
    seen = Lines()
    with serve(env.client.app, log_config=access_log_config(), log_level="info", access_log=True) as url:
        logging.getLogger("uvicorn.access").addHandler(seen)
        try:
            httpx.get(url + f"/api/engines?api_key={env.alice}", timeout=30)
            httpx.get(url + "/api/health?x=1", timeout=30)
            httpx.get(url + "/api/engines", headers=env.auth(), timeout=30)
        finally:
            logging.getLogger("uvicorn.access").removeHandler(seen)
    log = "\n".join(seen.lines)
    assert env.alice not in log and "api_key" not in log and "x=1" not in log
    assert '"GET /api/engines?[query dropped] HTTP/1.1" 401' in log
    assert '"GET /api/engines HTTP/1.1" 200' in log


def _script(folder: Path) -> Path:
    script = folder / ".venv" / "bin" / "twin"
    script.parent.mkdir(parents=True)
    script.write_text("#!/bin/sh\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def test_the_key_command_works_from_this_shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script = _script(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [str(script), "serve"])
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert serve_cli.twin_command() == ".venv/bin/twin"  # not activated: the venv's script, as typed here
    monkeypatch.setenv("PATH", f"{script.parent}:/usr/bin:/bin")
    assert serve_cli.twin_command() == "twin"  # activated: plain twin works
    monkeypatch.chdir("/")
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert serve_cli.twin_command() == str(script)
    monkeypatch.setattr(sys, "argv", ["-m"])  # python -m twin
    assert serve_cli.twin_command() == f"{sys.executable} -m twin"


def test_banner_lines_are_never_wrapped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(serve_cli, "twin_command", lambda: "/a/rather/long/path/to/the/venv/.venv/bin/twin")
    lines = serve_cli.serve_banner("http://127.0.0.1:3000")
    assert lines[1] == "API reference:   http://127.0.0.1:3000/docs"
    assert lines[2] == "Get a key with:  /a/rather/long/path/to/the/venv/.venv/bin/twin keys create --profile NAME"
    assert lines[3] == "Send it as:      Authorization: Bearer <key>"
    out = io.StringIO()
    narrow = Console(file=out, width=30)
    for line in lines:
        narrow.print(line, soft_wrap=True, highlight=False)
    assert out.getvalue().splitlines() == lines
