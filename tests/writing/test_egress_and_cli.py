"""The whole write path under the zero-egress guard, and the `twin write` command."""

from __future__ import annotations

import json
import socket

import pytest
from typer.testing import CliRunner

from twin.backends.fake_ollama import FakeOllama
from twin.cli.main import app
from twin.ops.egress import EgressBlocked, egress_guard, no_egress
from twin.profiles import ProfileManager
from twin.providers.llm import LLMConfig, save_llm_config
from twin.settings import load_settings
from twin.writing import WritingService

egress = pytest.fixture(egress_guard)


def test_guard_blocks_non_loopback(egress) -> None:
    with pytest.raises(EgressBlocked):
        socket.create_connection(("93.184.216.34", 80), timeout=1)
    with pytest.raises(EgressBlocked):
        socket.getaddrinfo("example.com", 443)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s, pytest.raises(EgressBlocked):
        s.sendto(b"x", ("8.8.8.8", 53))
    assert len(egress) == 3


def test_guard_restores_sockets() -> None:
    with no_egress():
        pass
    assert socket.socket.connect.__qualname__ == "socket.connect"


def test_write_path_over_http_has_zero_egress(tmp_path, monkeypatch, egress) -> None:
    monkeypatch.setenv("TWIN_HOME", str(tmp_path))
    profile = ProfileManager(load_settings()).create("me")
    with FakeOllama(models=["me-writing"], reply_fn=lambda m, msgs: "Here's a draft:\n\nCheers, Sam.") as srv:
        save_llm_config(profile, LLMConfig(backend="ollama", model="me-writing", ollama_url=srv.url))
        draft = WritingService(profile).draft_sync("thank sam", max_tokens=20)
    assert draft.text == "Cheers, Sam." and egress == []


def test_remote_runtime_is_refused(tmp_path, monkeypatch, egress) -> None:
    monkeypatch.setenv("TWIN_HOME", str(tmp_path))
    svc = WritingService(None, backend="openai", model="m", openai_base_url="http://10.1.2.3:8000/v1")
    with pytest.raises(Exception):  # noqa: B017 - httpx may wrap it in an ExceptionGroup
        svc.draft_sync("hi")
    assert egress == ["('10.1.2.3', 8000)"]


def test_cli_write_json_and_stream(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TWIN_HOME", str(tmp_path))
    monkeypatch.setenv("TWIN_LLM_BACKEND", "fake")
    for name in ("default", "me"):
        ProfileManager(load_settings()).create(name)
    runner = CliRunner()
    ref = tmp_path / "ref.txt"
    ref.write_text("Short. Dry. No fluff.")
    res = runner.invoke(app, ["write", "Thanks for the help", "--style-ref", str(ref), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["text"] == "Thanks for the help"
    assert set(out["usage"]) == {"prompt_tokens", "completion_tokens"}
    assert set(out["timings"]) == {"first_token_s", "tokens_per_s", "total_s"}
    res = runner.invoke(app, ["write", "Ping me later", "--profile", "me"])
    assert res.exit_code == 0 and "Ping me later" in res.stdout
    res = runner.invoke(app, ["write", "x", "--backend", "nope", "--json"])
    assert res.exit_code == 2 and json.loads(res.stdout)["error"]["code"] == "invalid_input"
