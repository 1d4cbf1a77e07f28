"""The ollama backend against the fake Ollama server, and the real `ollama` client against the same fake."""

from __future__ import annotations

import asyncio
import hashlib
import socket

import pytest

from twin.errors import NotFound, Unavailable
from twin.providers import registry
from twin.providers.llm import LLMOptions, TextDelta


def _llm(server, model="me-writing", **kw):
    return registry.create("llm", "ollama", model=model, base_url=server.url, **kw)


def test_streams_ndjson_with_usage_and_keep_alive(fake_ollama) -> None:
    llm = _llm(fake_ollama, keep_alive="5m")

    async def go():
        return [
            i
            async for i in llm.stream_chat(
                [{"role": "system", "content": "be brief"}, {"role": "user", "content": "thanks for the help today"}]
            )
        ]

    items = asyncio.run(go())
    deltas = [i.text for i in items if isinstance(i, TextDelta)]
    assert len(deltas) == 5
    result = items[-1]
    assert result.text == "thanks for the help today"
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (7, 5)
    assert result.model == "me-writing:latest"
    sent = fake_ollama.requests[-1].json()
    assert sent["keep_alive"] == "5m" and sent["stream"] is True
    assert sent["options"]["num_predict"] == 256


def test_max_tokens_maps_to_num_predict(fake_ollama) -> None:
    result = _llm(fake_ollama).complete_sync("a b c d e f", LLMOptions(max_tokens=3, stop=["zzz"]))
    assert result.text == "a b c " and result.finish_reason == "length"


def test_unknown_model_is_not_found_with_hint(fake_ollama) -> None:
    with pytest.raises(NotFound) as exc:
        _llm(fake_ollama, model="nope").complete_sync("hi")
    assert "ollama pull nope" in exc.value.hint and "twin export --register" in exc.value.hint


def test_unreachable_says_how_to_start() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(Unavailable) as exc:
        registry.create("llm", "ollama", base_url=f"http://127.0.0.1:{port}").complete_sync("hi")
    assert "ollama serve" in exc.value.hint


def test_list_models(fake_ollama) -> None:
    assert "me-writing:latest" in asyncio.run(_llm(fake_ollama).list_models())


# ---- the real client against the same fake ----------------------------------------------------


def test_real_client_chat_stream_and_errors(fake_ollama) -> None:
    ollama = pytest.importorskip("ollama")
    c = ollama.Client(host=fake_ollama.url)
    parts = list(
        c.chat(model="me-writing", messages=[{"role": "user", "content": "hello there"}], stream=True, keep_alive="1m")
    )
    assert "".join(p.message.content for p in parts) == "hello there"
    assert parts[-1].done and parts[-1].eval_count == 2 and parts[-1].done_reason == "stop"
    one = c.chat(model="me-writing", messages=[{"role": "user", "content": "x y"}])
    assert one.message.content == "x y"
    gen = c.generate(model="me-writing", prompt="p q", options={"num_predict": 1})
    assert gen.response == "p " and gen.done_reason == "length"
    with pytest.raises(ollama.ResponseError) as exc:
        c.chat(model="nope", messages=[{"role": "user", "content": "x"}])
    assert exc.value.status_code == 404
    with pytest.raises(ollama.ResponseError):
        list(c.chat(model="broken", messages=[{"role": "user", "content": "a b c d"}], stream=True))
    assert {m.model for m in c.list().models} >= {"me-writing:latest", "llama3.2:latest"}


def test_real_client_create_from_blobs(fake_ollama, tmp_path) -> None:
    ollama = pytest.importorskip("ollama")
    c = ollama.Client(host=fake_ollama.url)
    gguf = tmp_path / "adapter.gguf"
    gguf.write_bytes(b"GGUF" + bytes(range(200)))
    digest = c.create_blob(gguf)
    assert digest == "sha256:" + hashlib.sha256(gguf.read_bytes()).hexdigest()
    assert digest in fake_ollama.blobs
    progress = c.create(
        model="me-style",
        from_="llama3.2",
        adapters={"adapter.gguf": digest},
        system="You write like me.",
        parameters={"temperature": 0.6},
        stream=True,
    )
    statuses = [p.status for p in progress]
    assert statuses[-1] == "success" and any(digest in s for s in statuses)
    shown = c.show("me-style")
    assert "ADAPTER adapter.gguf" in shown.modelfile and "SYSTEM" in shown.modelfile
    reply = c.chat(model="me-style", messages=[{"role": "user", "content": "hi"}])
    assert reply.message.content == "hi"
    assert fake_ollama.requests[-1].json()["model"] == "me-style"


def test_blob_digest_is_verified(fake_ollama) -> None:
    import httpx

    bad = "sha256:" + "0" * 64
    with httpx.Client(base_url=fake_ollama.url, trust_env=False) as http:
        assert http.head(f"/api/blobs/{bad}").status_code == 404
        r = http.post(f"/api/blobs/{bad}", content=b"data")
        assert r.status_code == 400 and "digest mismatch" in r.json()["error"]
        r = http.post("/api/create", json={"model": "x", "files": {"m.gguf": bad}})
        assert r.status_code == 400
        r = http.post("/api/create", json={"model": "x", "from": "ghost"})
        assert r.status_code == 404
