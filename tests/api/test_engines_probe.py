"""The Engines view reports what was actually probed: the URL, the answer and the latency for engines
reached over HTTP (against the fake servers and against a closed port), and only an install check for
in-process engines, which are never called "reachable"."""

from __future__ import annotations

from twin.backends import fake_tts_openvoice, fake_tts_xtts
from twin.backends.fake_ollama import FakeOllama
from twin.profiles import ProfileManager
from twin.providers.llm import LLMConfig, save_llm_config
from twin.voice.synth.config import TTSConfig, save_config

from .conftest import Env, closed_port


def _by_name(env: Env) -> dict[tuple[str, str], dict]:
    r = env.client.get("/api/engines", headers=env.auth())
    assert r.status_code == 200, r.text
    return {(e["capability"], e["name"]): e for e in r.json()["engines"]}


def test_probes_report_what_answered(env: Env) -> None:
    closed = f"http://127.0.0.1:{closed_port()}"
    alice = ProfileManager(env.settings).get("alice")
    with FakeOllama(models=["me-writing"]) as ollama, fake_tts_xtts.serve() as xtts:
        ollama_url, xtts_url = ollama.url, xtts.url
        save_llm_config(
            alice,
            LLMConfig(backend="ollama", model="me-writing", ollama_url=ollama.url, openai_base_url=closed + "/v1"),
        )
        save_config(
            alice,
            TTSConfig(
                engines={
                    "xtts": {"base_url": xtts.url},
                    "gptsovits": {"base_url": closed},
                    "openvoice": {"base_url": closed},
                    "openai_speech": {"base_url": closed},
                }
            ),
        )
        env.client.app.state.twin.server.llm_backend = ""  # use the profile's llm.json
        engines = _by_name(env)
    got = engines[("llm", "ollama")]
    assert got["kind"] == "http" and got["configured"] and got["reachable"] is True
    assert got["probe"]["target"] == ollama_url + "/api/tags" and got["probe"]["result"] == "HTTP 200"
    assert got["probe"]["ok"] and got["probe"]["latency_ms"] >= 0
    down = engines[("llm", "openai")]
    assert down["reachable"] is False and not down["probe"]["ok"] and not down["configured"]
    assert down["probe"]["target"] == closed + "/v1/models" and "refused" in down["probe"]["result"]
    assert engines[("tts", "xtts")]["reachable"] is True
    assert engines[("tts", "xtts")]["probe"]["target"] == xtts_url + "/speakers_list"
    for name in ("gptsovits", "openvoice", "openai_speech"):
        row = engines[("tts", name)]
        assert row["kind"] == "http" and row["reachable"] is False, row
        assert row["probe"]["target"].startswith(closed) and "refused" in row["probe"]["result"]
    piper = engines[("tts", "piper")]
    assert piper["kind"] == "in_process" and piper["reachable"] is None and piper["installed"]
    assert piper["probe"]["method"] == "import check"


def test_an_answering_engine_with_errors_is_reachable_but_not_ok(env: Env) -> None:
    alice = ProfileManager(env.settings).get("alice")
    with fake_tts_openvoice.serve() as openvoice:
        openvoice.fail_next(500, {"error": "model not loaded"})
        save_config(alice, TTSConfig(engines={"openvoice": {"base_url": openvoice.url}}))
        row = _by_name(env)[("tts", "openvoice")]
    assert row["configured"] and row["reachable"] is True
    assert row["probe"]["result"] == "HTTP 500" and row["probe"]["ok"] is False


def test_warm_means_loaded(env: Env) -> None:
    from twin.voice.synth.engine_loop import reset_backends

    reset_backends()  # backends stay warm for the whole process: start from none loaded
    assert _by_name(env)[("tts", "piper")]["warm"] is False
    assert env.client.post("/api/tts/clone", headers=env.auth(), json={"text": "Warm up."}).status_code == 200
    assert _by_name(env)[("tts", "piper")]["warm"] is True


def test_a_broken_tts_config_is_reported(env: Env) -> None:
    alice = ProfileManager(env.settings).get("alice")
    (alice.voice_dir / "tts.json").parent.mkdir(parents=True, exist_ok=True)
    (alice.voice_dir / "tts.json").write_text('{"engine": 3}')
    rows = [e for e in env.client.get("/api/engines", headers=env.auth()).json()["engines"] if e["capability"] == "tts"]
    assert rows and all(not e["probe"]["ok"] and "tts.json" in e["detail"] for e in rows)
    assert str(env.settings.home) not in str(rows)
