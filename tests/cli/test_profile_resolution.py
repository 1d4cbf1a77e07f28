"""A mistyped --profile never becomes a new profile. Every command that takes --profile is found by walking
the typer app, so a new command is covered without editing this file."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from twin.cli.main import app
from twin.ids import new_id
from twin.profiles import ProfileManager
from twin.settings import load_settings

runner = CliRunner()
CHAT = Path(__file__).resolve().parents[1] / "data" / "whatsapp" / "WhatsApp Chat with Priya.txt"


def _commands(cmd: Any, path: list[str]) -> Iterator[tuple[list[str], Any]]:
    if hasattr(cmd, "commands"):
        for name, sub in sorted(cmd.commands.items()):
            yield from _commands(sub, [*path, name])
    else:
        yield path, cmd


def _takes_profile(cmd: Any) -> bool:
    return any("--profile" in getattr(p, "opts", []) for p in cmd.params)


# Commands whose --profile names the profile they create (a restore never writes into an existing one).
CREATES_PROFILE = {"backup restore"}
COMMANDS = list(_commands(typer.main.get_command(app), []))
PROFILE_COMMANDS = [path for path, cmd in COMMANDS if _takes_profile(cmd) and " ".join(path) not in CREATES_PROFILE]
# Values for required parameters that are valid on their own, so the command gets as far as the profile.
_VALUES = {"key_id": new_id(), "voice_id": new_id(), "name": "xtts", "run": "run1", "aliases": "me@example.com"}


def _argv(path: list[str], tmp_path: Path) -> list[str]:
    command = next(c for p, c in COMMANDS if p == path)
    argv = list(path)
    for param in command.params:
        if not param.required:
            continue
        value = _VALUES.get(param.name, str(CHAT) if param.name in ("paths",) else "hello")
        if param.name == "out":
            value = str(tmp_path / "out.jsonl")
        argv += [value] if param.param_type_name == "argument" else [param.opts[0], value]
    return argv


def test_the_walk_finds_the_commands_users_mistype_profiles_on() -> None:
    found = {" ".join(p) for p in PROFILE_COMMANDS}
    assert {"write", "ingest", "speak", "keys create", "voice import", "dataset build"} <= found


@pytest.mark.parametrize("path", PROFILE_COMMANDS, ids=" ".join)
def test_a_missing_profile_is_refused_and_not_created(path: list[str], tmp_path: Path, twin_home: Path) -> None:
    ProfileManager(load_settings()).create("alice")
    result = runner.invoke(app, [*_argv(path, tmp_path), "--profile", "alcie", "--json"])
    assert result.exit_code != 0, result.output
    error = json.loads(result.stdout)["error"]
    assert (error["code"], error["message"]) == ("not_found", "No profile 'alcie'."), error
    assert "Did you mean 'alice'?" in error["hint"] and "twin profile create alcie" in error["hint"]
    assert [p.name for p in ProfileManager(load_settings()).list()] == ["alice"]


@pytest.mark.parametrize("path", PROFILE_COMMANDS, ids=" ".join)
def test_an_empty_profile_name_is_refused(path: list[str], tmp_path: Path) -> None:
    result = runner.invoke(app, [*_argv(path, tmp_path), "--profile", "", "--json"])
    assert result.exit_code != 0, result.output
    assert json.loads(result.stdout)["error"]["code"] == "invalid_input"
    assert ProfileManager(load_settings()).list() == []


def test_no_profile_given_names_the_ones_there_are(twin_home: Path) -> None:
    ProfileManager(load_settings()).create("alice")
    result = runner.invoke(app, ["write", "hello", "--json"])
    error = json.loads(result.stdout)["error"]
    assert result.exit_code != 0 and error["message"] == "No profile 'default'."
    assert "--profile NAME (you have: alice)" in error["hint"]


def test_ingest_creates_a_profile_only_when_asked(twin_home: Path) -> None:
    refused = runner.invoke(app, ["ingest", str(CHAT), "--profile", "priya", "--json"])
    assert refused.exit_code != 0 and "--create" in json.loads(refused.stdout)["error"]["hint"]
    assert ProfileManager(load_settings()).list() == []
    made = runner.invoke(app, ["ingest", str(CHAT), "--profile", "priya", "--create", "--json"])
    assert made.exit_code == 0, made.output
    assert json.loads(made.stdout)["messages"] > 0
    assert [p.name for p in ProfileManager(load_settings()).list()] == ["priya"]


def test_ingest_on_a_terminal_asks_before_creating(tmp_path: Path, twin_home: Path) -> None:
    import os
    import pty
    import select
    import subprocess
    import sys

    def run(answer: bytes) -> str:
        leader, follower = pty.openpty()
        env = {**os.environ, "TWIN_HOME": str(twin_home), "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
        proc = subprocess.Popen(
            [sys.executable, "-m", "twin", "ingest", str(CHAT), "--profile", "priya"],
            stdin=follower,
            stdout=follower,
            stderr=follower,
            env=env,
            close_fds=True,
        )
        os.close(follower)
        seen = b""
        while proc.poll() is None or select.select([leader], [], [], 0)[0]:
            if select.select([leader], [], [], 60)[0]:
                try:
                    chunk = os.read(leader, 4096)
                except OSError:
                    break
                seen += chunk
                if b"Create it?" in seen and answer:
                    os.write(leader, answer)
                    answer = b""
        proc.wait(timeout=120)
        os.close(leader)
        return re.sub(r"\x1b\[[0-9;]*m", "", seen.decode(errors="replace"))  # without terminal colours

    assert "No profile 'priya'. Create it?" in run(b"n\n")
    assert ProfileManager(load_settings()).list() == []
    assert "Created profile 'priya'" in run(b"y\n")
    assert [p.name for p in ProfileManager(load_settings()).list()] == ["priya"]


def test_a_database_error_is_one_clear_message_not_a_traceback(twin_home: Path, monkeypatch) -> None:  # noqa: ANN001
    import sqlite3

    from typer.testing import CliRunner

    from twin.cli import persona as persona_cli

    ProfileManager(load_settings()).create("me")

    def broken(*_args: object, **_kw: object) -> object:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(persona_cli, "connect", broken)
    res = CliRunner().invoke(app, ["persona", "list", "--profile", "me", "--json"])
    assert res.exit_code == 2, res.output
    err = json.loads(res.stdout)["error"]
    assert err["code"] == "storage_error" and "disk I/O error" in err["message"] and "twin doctor" in err["hint"]
