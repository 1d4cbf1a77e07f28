"""The chat CLI as a user runs it: one turn with --json (its memories are written when the command
exits), personas from and to character cards, conversations, and errors rendered with hints."""

from __future__ import annotations

import asyncio
import json

from typer.testing import CliRunner

from twin.backends.embeddings_st import SentenceTransformerEmbeddings
from twin.chat.service import ChatService, TurnResult
from twin.cli.main import app
from twin.providers import registry
from twin.providers.llm import TextDelta


def cli(*args: str):
    res = CliRunner().invoke(app, list(args))
    return res, (json.loads(res.stdout) if "--json" in args and res.stdout.strip() else None)


def test_one_turn_then_memory_is_there(profile, monkeypatch) -> None:
    monkeypatch.setenv("TWIN_LLM_BACKEND", "fake")
    res, out = cli("chat", "--profile", "me", "--message", "I moved to Lisbon last year.", "--json")
    assert res.exit_code == 0, res.output
    assert set(out) >= {"conversation_id", "reply", "memories_used", "timings"}
    res, mem = cli("memory", "list", "--profile", "me", "--json")
    assert [i["text"] for i in mem["items"] if i["kind"] == "fact"] == [
        "Thota lives in Lisbon (said on " + mem["items"][0]["created"][:10] + ")."
    ]
    fact = mem["items"][0]
    res, shown = cli("memory", "show", fact["id"], "--profile", "me", "--json")
    assert shown["sources"][0]["text"] == "I moved to Lisbon last year." and shown["reason"]
    res, again = cli(
        "chat", "--profile", "me", "--conversation", out["conversation_id"], "-m", "where do I live?", "--json"
    )
    assert fact["id"] in again["memories_used"]
    res, convs = cli("conversation", "list", "--profile", "me", "--json")
    assert convs["conversations"][0]["messages"] == 4
    res, found = cli("memory", "search", "Lisbon", "--profile", "me", "--json")
    assert found["items"][0]["id"] == fact["id"] and "score" in found["items"][0]
    res, _ = cli("conversation", "delete", out["conversation_id"], "--profile", "me", "--json")
    assert res.exit_code == 0
    res, err = cli("conversation", "show", out["conversation_id"], "--profile", "me", "--json")
    assert res.exit_code == 2 and err["error"]["code"] == "not_found"


def test_persona_cards_through_the_cli(profile, tmp_path) -> None:
    prompt = tmp_path / "p.txt"
    prompt.write_text("You are a calm climbing coach.")
    res, made = cli(
        "persona",
        "create",
        "coach",
        "--prompt-file",
        str(prompt),
        "--description",
        "Climbing",
        "--profile",
        "me",
        "--json",
    )
    assert res.exit_code == 0 and made["prompt"] == "You are a calm climbing coach."
    png = tmp_path / "coach.png"
    res, _ = cli("persona", "export", "coach", "--format", "card-png", "--out", str(png), "--profile", "me", "--json")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    res, copy = cli("persona", "create", "coach2", "--from-card", str(png), "--profile", "me", "--json")
    assert (
        res.exit_code == 0 and copy["prompt"] == "You are a calm climbing coach." and copy["description"] == "Climbing"
    )
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)
    res, err = cli("persona", "create", "bad", "--from-card", str(bad), "--profile", "me", "--json")
    assert res.exit_code == 2 and err["error"]["hint"]
    res, listed = cli("persona", "list", "--profile", "me", "--json")
    assert [p["name"] for p in listed["personas"]] == ["twin", "coach", "coach2"]
    res, err = cli("persona", "delete", "twin", "--profile", "me", "--json")
    assert res.exit_code == 2 and "cannot be deleted" in err["error"]["message"]
    res, err = cli("memory", "forget", "--profile", "me", "--json")
    assert res.exit_code == 2 and err["error"]["code"] == "invalid_input"


def test_openai_style_message_list(profile) -> None:
    svc = ChatService(profile, llm=registry.create("llm", "fake", replies=["Hello Thota."]))

    async def go() -> tuple[str, TurnResult]:
        text, final = "", None
        messages = [{"role": "system", "content": "ignored"}, {"role": "user", "content": "hi, I'm a nurse"}]
        async for event in svc.stream_messages(messages, persona="twin"):
            if isinstance(event, TextDelta):
                text += event.text
            else:
                final = event
        await svc.drain()
        assert final is not None
        return text, final

    text, final = asyncio.run(go())
    assert text == final.reply == "Hello Thota." and final.persona == "twin"
    assert [i.text for i in svc.memory.store.query(kind="fact")] == ["Thota is a nurse."]
    svc.close()


def test_a_cold_one_turn_command_recalls_within_its_budget(profile, twin_home) -> None:
    """`twin chat --message` in a new process loads the model and the embeddings side by side before
    the turn, so its recall is not cut short while the embedding model loads."""
    import os
    import subprocess
    import sys

    from tests.support.ingest_cli import cli_env

    (profile.root / "memory.json").write_text('{"recall_budget_ms": 100}')
    env = {**cli_env(twin_home), "TWIN_LLM_BACKEND": "fake", "TWIN_CACHE": os.environ["TWIN_CACHE"]}
    SentenceTransformerEmbeddings(cache_dir=os.environ["TWIN_CACHE"] + "/embeddings").embed(["cached"])
    proc = subprocess.run(
        [sys.executable, "-m", "twin", "chat", "--profile", "me", "-m", "My sister lives in Porto.", "--json"],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["timings"]["recall_degraded"] == 0
