"""Every command's --json prints exactly one JSON document on stdout (a result or an error), whatever
else it reports: progress and notices go to stderr. Commands are discovered from the typer app, so a new
command is covered the moment it is registered; ARGS says what each needs to finish quickly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from twin.cli.main import app

DATA = Path(__file__).resolve().parents[1] / "data"
CHAT = DATA / "whatsapp" / "WhatsApp Chat with Priya.txt"

# Long-running servers: no JSON result to print (they print their URL and serve until stopped).
NO_JSON = {"serve"}

# Arguments per command (after the command path); "{tmp}" is a scratch folder. Commands not listed get
# "-p me" when they take --profile and "x" for each required argument — an error is one JSON document too.
ARGS: dict[str, list[str]] = {
    "backup create": ["-p", "me", "--out", "{tmp}/me.twinbak"],
    "conversation export": ["x", "-p", "me", "--out", "{tmp}/conversation.json"],
    "ingest": [str(CHAT), "-p", "me"],
    "dataset build": ["-p", "me", "--force"],
    "dataset review": ["-p", "me", "--limit", "1"],
    "export": ["-p", "me", "--run", "no-such-run"],
    "media chat": ["-p", "me", "--character", "Ann"],
    "media export": ["x", "-p", "me", "--character", "Ann"],
    "media persona": ["x", "-p", "me", "--character", "Ann"],
    "media run": ["x", "-p", "me", "--character", "Ann"],
    "media train-voice": ["x", "-p", "me", "--character", "Ann"],
    "memory edit": ["x", "-p", "me", "--text", "I live in Leeds."],
    "memory export": ["-p", "me", "--out", "{tmp}/memories.jsonl"],
    "persona export": ["x", "-p", "me", "--out", "{tmp}/card.png"],
    "messages export": ["-p", "me", "--out", "{tmp}/messages.jsonl"],
    "model add": ["{tmp}/missing.gguf", "-p", "me"],
    "model use": ["--base", "-p", "me"],
    "profile create": ["other"],
    "profile delete": ["other", "--yes"],
    "profile set-me": ["Thota Rao", "-p", "me"],
    "speak": ["hi", "-p", "me", "--out", "{tmp}/hi.wav"],
    "train": ["-p", "me", "--dataset", "no-such-dataset"],
    "tts-server": ["-p", "no-such-profile"],
    "tts-engine start": ["no-such-engine", "-p", "me"],
    "voice import": ["{tmp}/no-recordings", "-p", "me"],
    "write": ["Thank Sam for the help", "-p", "me", "--backend", "fake"],
}
# Commands that must run after others (the dataset needs messages, delete needs the profile).
ORDER = ["profile create", "ingest", "dataset build"]


def commands() -> dict[str, Any]:
    out: dict[str, Any] = {}

    def walk(cmd: Any, path: list[str]) -> None:
        if hasattr(cmd, "commands"):
            for name, sub in sorted(cmd.commands.items()):
                walk(sub, [*path, name])
        else:
            out[" ".join(path)] = cmd

    walk(typer.main.get_command(app), [])
    return out


def _args(name: str, cmd: Any, tmp: Path) -> list[str]:
    if name in ARGS:
        return [a.replace("{tmp}", str(tmp)) for a in ARGS[name]]
    args = ["x" for p in cmd.params if type(p).__name__.endswith("Argument") and p.required]
    options = {o for p in cmd.params for o in getattr(p, "opts", [])}
    return args + (["-p", "me"] if "--profile" in options else [])


def test_every_command_has_json_and_prints_one_document(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWIN_LLM_BACKEND", "fake")
    runner = CliRunner()
    assert runner.invoke(app, ["profile", "create", "me"]).exit_code == 0
    found = commands()
    assert {"write", "train", "export", "model list", "dataset build"} <= set(found)
    without = [n for n, c in found.items() if not any("--json" in getattr(p, "opts", []) for p in c.params)]
    assert sorted(without) == sorted(NO_JSON & set(found)), f"commands without --json: {without}"
    names = sorted(found, key=lambda n: (ORDER.index(n) if n in ORDER else len(ORDER), n == "profile delete", n))
    problems: list[str] = []
    outcomes: dict[str, str] = {}
    for name in names:
        if name in NO_JSON:
            continue
        argv = [*name.split(), *_args(name, found[name], tmp_path), "--json"]
        res = runner.invoke(app, argv, catch_exceptions=True)
        try:
            doc = json.loads(res.stdout)
        except ValueError:
            problems.append(
                f"twin {' '.join(argv)}: stdout is not one JSON document: {res.stdout[:300]!r} ({res.exception!r})"
            )
            continue
        if res.exception is not None and not isinstance(res.exception, SystemExit):
            problems.append(f"twin {' '.join(argv)}: raised {res.exception!r}")
        elif res.exit_code != 0 and not (isinstance(doc, dict) and "error" in doc):
            problems.append(f"twin {' '.join(argv)}: exit {res.exit_code} without an error document")
        outcomes[name] = "error" if isinstance(doc, dict) and "error" in doc else "ok"
    assert not problems, "\n".join(problems)
    print(outcomes)
    # the ones that should work on this small profile did, so their real output was checked
    assert all(outcomes[n] == "ok" for n in ("ingest", "dataset build", "dataset show", "write", "model list"))
