"""The `twin` command. Each stage's CLI module exposes register(root) and is listed in _MODULES."""

from __future__ import annotations

import importlib

import typer
from rich.console import Console
from rich.table import Table

from twin import __version__
from twin.ops.process import prepare_process

app = typer.Typer(
    name="twin",
    help="twin — a local-first personal AI twin. Nothing leaves this machine.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Stage modules under twin.cli, registered in this order.
_MODULES = [
    "profile",
    "ingest",
    "messages",
    "dataset",
    "train",
    "export",
    "model",
    "eval",
    "keys",
    "serve",
    "voice",
    "speech",
    "write",
    "media",
    "persona",
    "conversation",
    "memory",
    "chat",
    "service",
    "tunnel",
    "detect",
    "backup",
    "doctor",
    "talk",
]

_OVERVIEW = [
    ("twin serve", "start the API server and web UI on 127.0.0.1 (prints the URL and how to get a key)"),
    ("twin ingest PATH... --profile P", "import WhatsApp, email (mbox/eml/maildir/Takeout) and subtitle exports"),
    ("twin messages stats --profile P", "see what was imported (export it with: twin messages export)"),
    ("twin messages forget --source NAME", "undo an import (twin messages imports lists them)"),
    ("twin dataset build --profile P", "curate your own replies into a private ChatML training set"),
    ("twin train --profile P --dataset N", "fine-tune a LoRA adapter on it (twin train --smoke checks the install)"),
    ("twin export --profile P --run R --activate", "make it servable (Ollama, llama.cpp, vLLM) and draft with it"),
    ("twin model list|use|add --profile P", "the models you can draft with, and which one does"),
    ('twin write "PROMPT" --profile P', "draft text in your style"),
    ("twin eval style --profile P --run R", "measure how much more like you the adapter writes than the base"),
    ("twin chat --profile P", "talk with your twin (or any persona); it remembers what you tell it"),
    ("twin memory list --profile P", "see, search, edit and forget what it remembers"),
    ("twin voice import/prepare/create", "build your voice library and a voice from your recordings"),
    ('twin speak "TEXT" --profile P', "speak text in your voice"),
    ("twin talk --profile P", "talk with your twin out loud (or one turn: --input question.wav --output reply.wav)"),
    ("twin media run FILM -c NAME --sample-at S", "a film character's clips, voice and persona (twin media --help)"),
    ("twin keys create --profile P", "an API key for the server and web UI"),
    ("twin backup create --profile P --out F", "a verified copy of a profile (restore: twin backup restore F)"),
    ("twin doctor", "is this install healthy and private? each finding says how to fix it"),
    ("twin service install", "keep the server running after crashes and reboots (launchd, systemd, tmux)"),
    ("twin tunnel config cloudflared|tailscale", "reach the API from outside through an outbound tunnel"),
]


@app.callback(invoke_without_command=True)
def overview(
    ctx: typer.Context, version: bool = typer.Option(False, "--version", help="Print the version and exit.")
) -> None:
    """Show a friendly overview when run without a command."""
    if version:
        typer.echo(__version__)
        raise typer.Exit()
    if ctx.invoked_subcommand is not None:
        return
    console = Console()
    console.print(f"[bold]twin[/bold] {__version__} — your personal AI twin, local-first.\n")
    table = Table(show_header=False, box=None, padding=(0, 2))
    for cmd, what in _OVERVIEW:
        table.add_row(f"[cyan]{cmd}[/cyan]", what)
    console.print(table)
    console.print("\nRun [cyan]twin COMMAND --help[/cyan] for details.")


def _register() -> None:
    for name in _MODULES:
        importlib.import_module(f"twin.cli.{name}").register(app)


_register()


def run() -> None:
    prepare_process()
    app()
