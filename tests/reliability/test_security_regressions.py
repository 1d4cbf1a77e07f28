"""One regression test per attack class of the home-server threat model, each through the path a user (or
an attacker with the network) would take: the HTTP API, the CLI, the archive and audio readers, the
artifacts on disk and the egress guard."""

from __future__ import annotations

import json
import re
import struct
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

pytest.importorskip("fastapi")

from api.conftest import Env, make_env, speech_wav, tone_wav  # noqa: E402
from twin.cli.main import app  # noqa: E402
from twin.errors import TwinError  # noqa: E402
from twin.ops.egress import no_egress  # noqa: E402

runner = CliRunner()
SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.fixture
def env(twin_home: Path) -> Iterator[Env]:
    e = make_env(twin_home, max_body_bytes=64 * 1024, max_upload_bytes=2 * 1024 * 1024)
    with e.client:
        yield e


def _no_leaks(env: Env, body: str) -> None:
    """Error bodies never name server paths, and never carry a stack trace."""
    assert str(env.settings.home) not in body and "/tmp/" not in body and "Traceback" not in body, body
    assert not re.search(r'File "[^"]+", line \d+', body), body


@pytest.mark.parametrize("bad", ["../bob", "..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd", "a%00b", "..", "a%5Cb"])
def test_path_traversal_and_absolute_paths_in_ids(env: Env, bad: str) -> None:
    r = env.client.get(f"/api/voice/{bad}", headers=env.auth())
    assert r.status_code in (404, 422), (bad, r.status_code)
    _no_leaks(env, r.text)
    r = env.client.post("/api/tts/clone", headers=env.auth(), json={"text": "hi", "voice_id": bad.replace("%2F", "/")})
    assert r.status_code == 422


@pytest.mark.parametrize("name", ["../../../../etc/cron.d/x.wav", "/etc/passwd.wav", "..\\..\\win.wav", "\x00.wav"])
def test_upload_filenames_never_become_paths(env: Env, name: str) -> None:
    r = env.client.post("/api/voice/upload", headers=env.auth(), files={"file": (name, b"RIFF garbage" * 8)})
    assert r.status_code in (415, 422)
    _no_leaks(env, r.text)
    assert not any("etc" in p.parts or p.name.startswith("passwd") for p in env.settings.home.rglob("*"))


def _zip(path: Path, members: dict[str, bytes], compress: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression=compress) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def test_zip_slip_is_refused(tmp_path: Path) -> None:
    chat = b"01/02/2024, 10:00 - Priya: hi\n"
    bad = _zip(tmp_path / "WhatsApp Chat with Priya.zip", {"../../evil.txt": chat, "/abs/evil.txt": chat})
    res = runner.invoke(app, ["ingest", str(bad), "--profile", "me", "--create", "--json"])
    [found] = json.loads(res.stdout)["files"]
    assert "unsafe member path" in found["error"] and "Nothing was extracted" in found["hint"]
    assert not (tmp_path.parent / "evil.txt").exists() and not Path("/abs/evil.txt").exists()


def test_zip_bomb_is_refused_before_expanding(tmp_path: Path) -> None:
    bomb = _zip(tmp_path / "WhatsApp Chat with Priya.zip", {"WhatsApp Chat with Priya.txt": b"\0" * (64 * 1024**2)})
    assert bomb.stat().st_size < 1024**2  # ratio ~1000:1
    res = runner.invoke(app, ["ingest", str(bomb), "--profile", "me", "--create", "--json"])
    [found] = json.loads(res.stdout)["files"]
    assert "compression ratio" in found["error"] and found["messages"] == 0


def _wav_header(declared_bytes: int, rate: int = 16000) -> bytes:
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16)
    return (
        b"RIFF"
        + struct.pack("<I", 36 + declared_bytes)
        + b"WAVEfmt "
        + struct.pack("<I", 16)
        + fmt
        + b"data"
        + struct.pack("<I", declared_bytes)
    )


def test_audio_bombs_are_refused_from_the_header(env: Env) -> None:
    bomb = _wav_header(0xFFFFFF00) + b"\0" * 1024  # claims 4 GiB of samples, holds 1 KiB
    r = env.client.post("/api/voice/upload", headers=env.auth(), files={"file": ("bomb.wav", bomb)})
    assert r.status_code in (413, 422), r.text
    _no_leaks(env, r.text)
    import base64

    r = env.client.post(
        "/api/tts/clone", headers=env.auth(), json={"text": "hi", "reference_audio": base64.b64encode(bomb).decode()}
    )
    assert r.status_code in (413, 422), r.text
    from twin.audio.probe import probe

    weird = _wav_header(1000, rate=0) + b"\0" * 1000
    with pytest.raises(TwinError):
        probe(weird)


def test_multipart_floods_are_refused(env: Env) -> None:
    fields = "".join(f'--B\r\nContent-Disposition: form-data; name="f{i}"\r\n\r\nx\r\n' for i in range(3000))
    body = (fields + "--B--\r\n").encode()
    r = env.client.post(
        "/api/voice/upload",
        headers={**env.auth(), "Content-Type": "multipart/form-data; boundary=B"},
        content=body,
    )
    assert r.status_code in (400, 413, 422), r.status_code
    _no_leaks(env, r.text)
    assert env.client.get("/api/health").status_code == 200


def test_oversized_bodies_are_413(env: Env) -> None:
    r = env.client.post("/api/tts/lora/generate", headers=env.auth(), json={"prompt": "x" * (128 * 1024)})
    assert r.status_code == 413
    big = tone_wav(seconds=80.0)  # 2.5 MB over the 2 MiB upload limit
    r = env.client.post("/api/voice/upload", headers=env.auth(), files={"file": ("big.wav", big)})
    assert r.status_code == 413


@pytest.mark.parametrize("host", ["evil.example.com", "127.0.0.1.evil.com", "attacker:3000"])
def test_dns_rebinding_host_is_refused(env: Env, host: str) -> None:
    r = env.client.get("/api/voice", headers={**env.auth(), "Host": host})
    assert r.status_code in (400, 403, 421)


@pytest.mark.parametrize("origin", ["null", "http://evil.example.com", "http://127.0.0.1.evil.com"])
def test_hostile_and_null_origins_are_refused(env: Env, origin: str) -> None:
    r = env.client.post("/api/tts/lora/generate", headers={**env.auth(), "Origin": origin}, json={"prompt": "hi"})
    assert r.status_code == 403


@pytest.mark.parametrize("origin", ["null", "http://evil.example.com"])
def test_cross_site_websocket_connects_are_refused(env: Env, origin: str) -> None:
    from starlette.websockets import WebSocketDisconnect

    with (
        pytest.raises(WebSocketDisconnect) as info,
        env.client.websocket_connect("/api/realtime", headers={**env.auth(), "Origin": origin}) as ws,
    ):
        ws.receive_text()
    assert info.value.code == 1008


def test_cross_profile_ids_are_not_found(env: Env) -> None:
    made = env.client.post("/api/voice/upload", headers=env.auth("alice"), files={"file": ("me.wav", speech_wav())})
    assert made.status_code == 201, made.text
    vid = made.json()["voice_id"]
    for method, path, body in (
        ("GET", f"/api/voice/{vid}", None),
        ("DELETE", f"/api/voice/{vid}", None),
        ("POST", "/api/tts/clone", {"text": "hi", "voice_id": vid}),
    ):
        assert env.client.request(method, path, headers=env.auth("bob"), json=body).status_code == 404


@pytest.mark.parametrize("param", ["key", "api_key", "token", "access_token"])
def test_keys_in_query_strings_are_refused(env: Env, param: str) -> None:
    r = env.client.get(f"/api/voice?{param}={env.alice}")
    assert r.status_code == 401
    assert env.alice not in r.text


def test_error_bodies_have_no_paths_or_stack_traces(env: Env) -> None:
    cases = [
        env.client.post("/api/voice/upload", headers=env.auth(), files={"file": ("x.wav", b"\x00" * 100)}),
        env.client.post(
            "/api/voice/upload", headers=env.auth(), files={"file": ("t.wav", _wav_header(5000) + b"\0" * 10)}
        ),
        env.client.post("/api/tts/clone", headers=env.auth(), json={"text": "hi", "reference_audio": "!!notbase64"}),
        env.client.get("/api/voice/0190a3c2-7b1e-7cc1-9f2a-3b4c5d6e7f80", headers=env.auth()),
        env.client.post(
            "/api/tts/clone",
            headers=env.auth(),
            content=b"{not json",
        ),
    ]
    for r in cases:
        assert r.status_code >= 400
        assert set(r.json()["error"]) >= {"code", "message", "hint"}
        _no_leaks(env, r.text)


def test_malformed_gguf_is_a_clear_error(tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp")
    from twin.backends.llm_llamacpp import LlamaCppLLM

    for data in (b"not a gguf", b"GGUF" + struct.pack("<I", 99), b"GGUF" + struct.pack("<IQQ", 3, 0, 2**60)):
        bad = tmp_path / "model.gguf"
        bad.write_bytes(data)
        with pytest.raises(TwinError) as info:
            LlamaCppLLM(model=bad)
        assert "not a valid GGUF" in info.value.message


def test_artifacts_are_pickle_free(env: Env, tmp_path: Path) -> None:
    """Every .npy/.npz a profile holds loads with allow_pickle=False, and no source loads pickles."""
    made = env.client.post("/api/voice/upload", headers=env.auth(), files={"file": ("me.wav", speech_wav())})
    assert made.status_code == 201
    arrays = [p for p in env.settings.home.rglob("*") if p.suffix in (".npy", ".npz")]
    assert arrays
    for path in arrays:
        np.load(path, allow_pickle=False)
    for path in arrays + [p for p in env.settings.home.rglob("*") if p.is_file()]:
        assert path.read_bytes()[:2] not in (b"\x80\x04", b"\x80\x05"), path  # pickle protocol 4/5 header
    offenders = []
    for py in SRC.rglob("*.py"):
        text = py.read_text(encoding="utf-8")
        if re.search(r"allow_pickle\s*=\s*True|pickle\.loads?\(|joblib\.load\(", text):
            offenders.append(str(py.relative_to(SRC)))
        for call in re.findall(r"torch\.load\(([^)]*)\)", text):
            if "weights_only=True" not in call:
                offenders.append(f"{py.relative_to(SRC)}: torch.load without weights_only=True")
    assert offenders == []


def test_no_egress_during_drafting_speech_and_chat(env: Env) -> None:
    """The socket guard sees nothing leave while the API drafts, speaks and chats (the strace check of
    native code lives in tests/ops/test_native_egress.py and the doctor)."""
    with no_egress() as attempts:
        draft = env.client.post("/api/tts/lora/generate", headers=env.auth(), json={"prompt": "Thank Sam for lunch."})
        chat = env.client.post(
            "/v1/chat/completions",
            headers=env.auth(),
            json={"model": "twin", "messages": [{"role": "user", "content": "hello"}]},
        )
        speech = env.client.post("/api/tts/clone", headers=env.auth(), json={"text": "Hello there."})
    assert draft.status_code == 200 and chat.status_code == 200, (draft.text, chat.text)
    assert speech.status_code in (200, 503)  # 503 only where no speech engine is installed
    assert attempts == []
