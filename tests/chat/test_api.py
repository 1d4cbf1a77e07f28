"""The chat, persona, conversation and memory routes through the real app: auth on every route,
per-profile isolation (another profile's ids are simply not found), SSE streaming, the memory inspector
operations, and a scripted multi-session conversation checked through the API, the CLI and the store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from twin.api.config import ServerSettings
from twin.api.main import build_app
from twin.cli.main import app as cli
from twin.keys import KeyStore
from twin.profiles import Identity, ProfileManager
from twin.settings import load_settings


@pytest.fixture
def api(twin_home: Path) -> Iterator[tuple[TestClient, dict[str, str], dict[str, str]]]:
    settings = load_settings(home=twin_home)
    pm = ProfileManager(settings)
    pm.create("alice").set_identity(Identity(names=["Alice Smith"]))
    pm.create("bob")
    keys = KeyStore(settings)
    alice, bob = keys.create("alice").secret, keys.create("bob").secret
    keys.close()
    client = TestClient(build_app(settings, ServerSettings(llm_backend="fake")), base_url="http://127.0.0.1")
    with client:
        yield client, {"Authorization": f"Bearer {alice}"}, {"Authorization": f"Bearer {bob}"}


def settle(client: TestClient) -> None:
    """Wait for the background memory work of every chat service (extraction runs after the reply)."""
    for svc in client.app.state.twin.__dict__.get("_chat", {}).values():
        client.portal.call(svc.drain)


def post_chat(client: TestClient, headers: dict[str, str], **body: object):
    r = client.post("/api/chat", headers=headers, json=body)
    settle(client)
    return r


def _sse(text: str) -> list[tuple[str, dict]]:
    events = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((lines.get("event", ""), json.loads(lines["data"])))
    return events


def test_every_route_needs_a_key(api) -> None:
    client, _, _ = api
    for method, path in [
        ("GET", "/api/personas"), ("POST", "/api/chat"), ("GET", "/api/conversations"), ("GET", "/api/memories"),
        ("DELETE", "/api/memories/01a00000-0000-7000-8000-000000000000"), ("GET", "/api/memories/export"),
    ]:  # fmt: skip
        assert client.request(method, path).status_code == 401, path


def test_scripted_sessions_through_api_cli_and_store(api, twin_home, monkeypatch) -> None:
    client, alice, bob = api
    one = post_chat(client, alice, message="I work at Globex. My sister is called Priya.")
    assert one.status_code == 200, one.text
    conv = one.json()["conversation_id"]
    streamed = client.post(
        "/api/chat",
        headers=alice,
        json={"message": "I left Globex in March, I'm at Acme now", "conversation_id": conv, "stream": True},
    )
    events = _sse(streamed.text)
    assert [e for e, _ in events[:-1]] == ["delta"] * (len(events) - 1) and events[-1][0] == "done"
    done = events[-1][1]
    assert done["conversation_id"] == conv and isinstance(done["memories_used"], list)
    assert "".join(d["delta"] for e, d in events[:-1]) == done["reply"]
    post_chat(client, alice, message="my api key is sk-abcdefghijklmnopqrstuvwxyz012345")
    post_chat(client, alice, message="I'm at Acme now")  # a new session repeats it

    items = client.get("/api/memories", headers=alice, params={"include_superseded": True}).json()["items"]
    by_text = {i["text"]: i for i in items}
    assert by_text["Alice works at Globex."]["status"] == "superseded"
    assert by_text["Alice works at Acme."]["status"] == "active"
    assert "Alice's sister is called Priya." in by_text
    assert not any("sk-abc" in i["text"] for i in items)
    assert set(items[0]) >= {
        "id",
        "kind",
        "scope",
        "persona",
        "text",
        "status",
        "superseded_by",
        "importance",
        "reason",
        "source_message_ids",
        "created",
    }
    found = client.get("/api/memories", headers=alice, params={"q": "where does Alice work"}).json()["items"]
    assert found[0]["text"] == "Alice works at Acme." and "score" in found[0]
    acme = by_text["Alice works at Acme."]
    shown = client.get(f"/api/memories/{acme['id']}", headers=alice).json()
    assert shown["sources"][0]["text"] == "I left Globex in March, I'm at Acme now" and shown["mentions"] == 2

    # the other profile sees none of it, through any route
    assert client.get("/api/memories", headers=bob).json()["items"] == []
    assert client.get(f"/api/memories/{acme['id']}", headers=bob).status_code == 404
    assert client.delete(f"/api/memories/{acme['id']}", headers=bob).status_code == 404
    assert client.patch(f"/api/memories/{acme['id']}", headers=bob, json={"text": "x"}).status_code == 404
    assert client.get("/api/conversations", headers=bob).json()["conversations"] == []
    assert client.get(f"/api/conversations/{conv}", headers=bob).status_code == 404
    assert client.post("/api/chat", headers=bob, json={"message": "hi", "conversation_id": conv}).status_code == 404
    assert [p["name"] for p in client.get("/api/personas", headers=bob).json()["personas"]] == ["twin"]

    # the CLI sees the same store
    monkeypatch.setenv("TWIN_HOME", str(twin_home))
    res = CliRunner().invoke(cli, ["memory", "list", "--profile", "alice", "--json"])
    assert res.exit_code == 0, res.output
    assert "Alice works at Acme." in {i["text"] for i in json.loads(res.stdout)["items"]}
    res = CliRunner().invoke(cli, ["memory", "forget", acme["id"], "--profile", "alice", "--json"])
    assert json.loads(res.stdout) == {"forgotten": 1}
    assert client.get(f"/api/memories/{acme['id']}", headers=alice).status_code == 404
    res = CliRunner().invoke(cli, ["conversation", "show", conv, "--profile", "alice", "--json"])
    assert [t["role"] for t in json.loads(res.stdout)["turns"]] == ["user", "assistant"] * 2


def test_personas_routes_and_cards(api) -> None:
    client, alice, bob = api
    card = {
        "spec": "chara_card_v2",
        "spec_version": "2.0",
        "data": {"name": "Nova", "description": "A pilot.", "first_mes": "Hi!"},
    }
    made = client.post("/api/personas", headers=alice, json={"name": "nova", "card_v2": card})
    assert made.status_code == 201, made.text
    pid = made.json()["id"]
    assert client.get(f"/api/personas/{pid}", headers=bob).status_code == 404
    assert client.post("/api/personas", headers=alice, json={"name": "nova"}).status_code == 409
    assert client.post("/api/personas", headers=alice, json={"name": "Bad Name"}).status_code == 422
    hostile = {"spec": "chara_card_v2", "spec_version": "2.0", "data": {"name": "x", "first_mes": "y" * 9000}}
    refused = client.post("/api/personas", headers=alice, json={"name": "h", "card_v2": hostile})
    assert refused.status_code == 422 and "first_mes" in refused.json()["error"]["message"]
    patched = client.patch("/api/personas/nova", headers=alice, json={"greeting": "Cleared for takeoff."})
    assert patched.json()["greeting"] == "Cleared for takeoff."
    assert client.patch("/api/personas/nova", headers=alice, json={"bogus": 1}).status_code == 422
    assert client.get("/api/personas/nova/card", headers=alice).json()["data"]["first_mes"] == "Cleared for takeoff."
    reply = client.post("/api/chat", headers=alice, json={"message": "hello", "persona": "nova"}).json()
    assert reply["persona"] == "nova"
    assert client.delete("/api/personas/twin", headers=alice).status_code == 422
    assert client.delete("/api/personas/nova", headers=alice).status_code == 204
    assert client.get(f"/api/conversations/{reply['conversation_id']}", headers=alice).status_code == 404


def test_bad_chat_input(api) -> None:
    client, alice, _ = api
    for body in (
        {"message": ""},
        {"message": "x" * 9000},
        {"message": "hi", "extra": 1},
        {"message": "hi", "persona": "ghost"},
    ):
        r = client.post("/api/chat", headers=alice, json=body)
        assert r.status_code in (404, 413, 422), body
        assert set(r.json()["error"]) >= {"code", "message", "hint"}
    r = client.post("/api/chat", headers=alice, json={"message": "hi", "conversation_id": "../../etc"})
    assert r.status_code == 422 and "/" not in r.json()["error"]["message"].replace("../../etc", "")


def test_forget_all_export_import(api) -> None:
    client, alice, _ = api
    post_chat(client, alice, message="I live in Leeds. I love tea.")
    exported = client.get("/api/memories/export", headers=alice).text
    assert len(exported.splitlines()) == 2
    assert client.post("/api/memories/forget", headers=alice, json={"all": True}).json() == {"forgotten": 2}
    assert client.get("/api/memories", headers=alice).json()["items"] == []
    report = client.post("/api/memories/import", headers=alice, content=exported + "\nnot json\n").json()
    assert report["added"] == 2 and report["error_count"] == 1
    item = client.get("/api/memories", headers=alice).json()["items"][0]
    edited = client.patch(f"/api/memories/{item['id']}", headers=alice, json={"text": "Alice lives in York."}).json()
    assert edited["text"] == "Alice lives in York." and edited["extractor"] == "edited"
