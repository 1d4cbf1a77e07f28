"""Faults: an engine that dies mid-stream, a disk that fills during ingest and voice import, and kill -9
during voice import, voice prepare and dataset build. Each ends with a clear error (never a hung request
or a corrupt database), and running the same command again completes with nothing duplicated or lost."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from twin.cli.main import app
from twin.profiles import Profile, ProfileManager
from twin.providers import registry
from twin.settings import load_settings
from twin.voice.synth.engine_loop import reset_backends

SRC = Path(__file__).resolve().parents[2] / "src"
runner = CliRunner()


def _wavs(folder: Path, n: int, seconds: float = 8.0, rate: int = 22050) -> list[Path]:
    import soundfile as sf

    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        t = np.arange(int(seconds * rate)) / rate
        audio = (0.2 * np.sin(2 * np.pi * (180 + 7 * i) * t)).astype(np.float32)
        path = folder / f"take{i:02d}.wav"
        sf.write(path, audio, rate, subtype="PCM_16")
        out.append(path)
    return out


def _integrity(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


def _count(db: Path, table: str) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
    finally:
        conn.close()


def _env(home: Path) -> dict[str, str]:
    return {**os.environ, "TWIN_HOME": str(home), "PYTHONPATH": str(SRC)}


def _kill_when(argv: list[str], home: Path, ready: callable, timeout: float = 300) -> bool:  # type: ignore[valid-type]
    """Start `twin argv`, freeze it (SIGSTOP) the moment `ready()` holds, then kill -9 it. True when it was
    caught mid-way, False when it finished first."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "twin", *argv], env=_env(home), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if ready():
                proc.send_signal(signal.SIGSTOP)
                proc.send_signal(signal.SIGKILL)
                proc.wait(30)
                return proc.returncode == -signal.SIGKILL
            time.sleep(0.005)
        return False
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)


def _rerun(argv: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    """Run `twin argv` again in a new process, as the user does after a crash. (In this test process the
    leftovers would be newer than its own start, so its cleanup rightly keeps them as possibly in use.)"""
    return subprocess.run(
        [sys.executable, "-m", "twin", *argv], env=_env(home), capture_output=True, text=True, timeout=600
    )


# ---- an engine dies mid-stream ---------------------------------------------------------------------


@pytest.fixture
def dying_engine() -> Iterator[None]:
    registry.register("tts", "dies", "reliability.engines:DiesMidStream")
    reset_backends()
    yield
    reset_backends()


def test_engine_dying_mid_stream_falls_back(dying_engine: None) -> None:
    pytest.importorskip("piper")
    from twin.voice.synth import Synthesizer
    from twin.voice.synth.config import TTSConfig

    profile = ProfileManager(load_settings()).create("me")
    synth = Synthesizer(profile, config=TTSConfig(engine="dies", fallback=["piper"], cache_max_mb=0))
    result = synth.synthesize("The first clause is fine. The second one kills the engine. The third is spoken too.")
    assert result.engines == ["dies", "piper"]
    assert result.fallbacks and result.fallbacks[0]["engine"] == "dies"
    assert result.chunks == 3 and result.duration_s > 2.0


def test_engine_dying_mid_stream_ends_the_response_cleanly(dying_engine: None) -> None:
    pytest.importorskip("fastapi")
    import httpx

    from twin.api.config import ServerSettings
    from twin.api.main import build_app
    from twin.keys import KeyStore

    settings = load_settings()
    ProfileManager(settings).create("me")
    keys = KeyStore(settings)
    auth = {"Authorization": f"Bearer {keys.create('me').secret}"}
    keys.close()
    app_ = build_app(settings, ServerSettings(tts_engine="dies", llm_backend="fake"))

    async def main() -> tuple[httpx.Response, httpx.Response, httpx.Response]:
        transport = httpx.ASGITransport(app=app_)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1", headers=auth) as client:
            text = "The first clause is fine. The second one kills the engine."
            audio = await client.post("/api/tts/clone", json={"text": text, "stream": True}, timeout=30)
            piped = await client.post("/api/tts/pipeline", json={"prompt": text, "stream": True}, timeout=30)
            after = await client.get("/api/health", timeout=10)
            return audio, piped, after

    import asyncio

    audio, piped, after = asyncio.run(main())
    assert audio.status_code == 200 and audio.content[:4] == b"RIFF"
    assert 16000 < len(audio.content) < 16000 * 2 * 4  # the first clause only, then a clean end
    events = [json.loads(line) for line in piped.text.splitlines() if line.strip()]
    assert events[-1]["type"] == "error" and events[-1]["error"]["code"] == "unavailable"
    assert after.status_code == 200


# ---- disk full -------------------------------------------------------------------------------------


@pytest.fixture
def tiny_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """TWIN_HOME on a 3 MiB tmpfs (root only, as in CI); it can be grown with `grow`."""
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    try:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=3m,mode=0700", "tmpfs", str(mnt)], capture_output=True
        )
    except FileNotFoundError:
        pytest.skip("no mount command")
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    monkeypatch.setenv("TWIN_HOME", str(mnt))
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def _grow(mnt: Path) -> None:
    subprocess.run(["mount", "-o", "remount,size=256m", str(mnt)], check=True)


def _leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.endswith(".tmp")]


def test_disk_full_during_voice_import_then_rerun(tiny_home: Path, tmp_path: Path) -> None:
    files = _wavs(tmp_path / "neutral", 6, seconds=16.0)  # 6 x 700 KB: about half fit
    profile = ProfileManager(load_settings()).create("me")
    res = runner.invoke(app, ["voice", "import", str(tmp_path / "neutral"), "--profile", "me", "--json"])
    first = json.loads(res.stdout)
    statuses = [r["status"] for r in first["results"]] if isinstance(first, dict) else [r["status"] for r in first]
    assert "error" in statuses and "imported" in statuses, statuses
    assert _integrity(profile.db_path) == "ok"
    assert _leftovers(profile.voice_dir) == []
    _grow(tiny_home)
    res = runner.invoke(app, ["voice", "import", str(tmp_path / "neutral"), "--profile", "me", "--json"])
    assert res.exit_code == 0, res.output
    assert _count(profile.db_path, "voice_sources") == len(files)
    assert len(list((profile.voice_dir / "raw").rglob("*.wav"))) == len(files)


_TEXT = (
    "trip plan train hotel dinner friday monday report budget call garden river coffee late early ticket "
    "museum rain weekend birthday cake project deadline sister brother music concert beach mountain book"
)
WORDS = _TEXT.split()


def _chat(path: Path, lines: int) -> Path:
    rng = np.random.default_rng(7)
    with path.open("w", encoding="utf-8") as f:
        for i in range(lines):
            who = "Priya" if i % 2 else "Thota Rao"
            words = " ".join(rng.choice(WORDS, size=int(rng.integers(6, 14))))
            f.write(f"{1 + i % 28:02d}/02/2024, {i % 24:02d}:{i % 60:02d} - {who}: {words} ({i})\n")
    return path


def test_disk_full_during_ingest_then_rerun(tiny_home: Path, tmp_path: Path) -> None:
    chat = _chat(tmp_path / "WhatsApp Chat with Priya.txt", 40_000)
    ProfileManager(load_settings()).create("me")
    args = ["ingest", str(chat), "--profile", "me", "--me", "Thota Rao", "--json"]
    res = runner.invoke(app, args)
    assert res.exit_code != 0
    assert "disk" in res.stdout.lower()
    profile = ProfileManager(load_settings()).get("me")
    if profile.db_path.exists():
        assert _integrity(profile.db_path) == "ok"
    _grow(tiny_home)
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    again = runner.invoke(app, args)  # a third run adds nothing
    assert again.exit_code == 0
    assert _count(profile.db_path, "messages") == 40_000


# ---- kill -9 ---------------------------------------------------------------------------------------


def test_kill_during_voice_import_then_rerun(tmp_path: Path, twin_home: Path) -> None:
    files = _wavs(tmp_path / "neutral", 40, seconds=20.0)
    profile = ProfileManager(load_settings()).create("me")
    raw = profile.voice_dir / "raw"

    def some_imported() -> bool:
        return raw.is_dir() and len(list(raw.rglob("*.wav"))) >= 2

    caught = _kill_when(["voice", "import", str(tmp_path / "neutral"), "--profile", "me"], twin_home, some_imported)
    assert caught, "the import finished before it could be killed"
    assert _integrity(profile.db_path) == "ok"
    assert 0 < _count(profile.db_path, "voice_sources") < len(files)
    res = _rerun(["voice", "import", str(tmp_path / "neutral"), "--profile", "me", "--json"], twin_home)
    assert res.returncode == 0, res.stdout + res.stderr
    assert _count(profile.db_path, "voice_sources") == len(files)
    stored = sorted(p.name for p in raw.rglob("*") if p.is_file())
    assert len(stored) == len(files) and not any(n.endswith(".tmp") for n in stored)


def _speech_recordings(folder: Path, n: int) -> Path:
    import soundfile as sf

    from twin.backends.tts_piper import PiperTTS

    folder.mkdir(parents=True)
    tts = PiperTTS()
    for i in range(n):
        text = f"This is recording number {i}. I am reading a few sentences so that there is speech to prepare."
        audio = np.concatenate([c.samples for c in tts.synthesize_sync(text)])
        sf.write(folder / f"rec{i}.wav", audio, 22050, subtype="PCM_16")
    return folder


def _clip_state(profile: Profile) -> tuple[int, int, int]:
    rows = _count(profile.db_path, "voice_clips")
    files = len(list((profile.voice_dir / "clean").rglob("*.wav"))) if (profile.voice_dir / "clean").is_dir() else 0
    conn = sqlite3.connect(profile.db_path)
    prepared = conn.execute("SELECT COUNT(*) FROM voice_sources WHERE prepared_at IS NOT NULL").fetchone()[0]
    conn.close()
    return rows, files, int(prepared)


def test_kill_during_voice_prepare_then_rerun(tmp_path: Path, twin_home: Path) -> None:
    pytest.importorskip("piper")
    recs = _speech_recordings(tmp_path / "neutral", 3)
    pm = ProfileManager(load_settings())
    clean, killed = pm.create("clean"), pm.create("killed")
    for p in (clean, killed):
        assert runner.invoke(app, ["voice", "import", str(recs), "--profile", p.name]).exit_code == 0
    assert runner.invoke(app, ["voice", "prepare", "--profile", "clean"]).exit_code == 0
    expected = _clip_state(clean)
    assert expected[0] > 0 and expected[0] == expected[1] and expected[2] == 3

    def first_prepared() -> bool:
        try:
            return _clip_state(killed)[2] >= 1
        except sqlite3.Error:
            return False

    caught = _kill_when(["voice", "prepare", "--profile", "killed"], twin_home, first_prepared)
    assert _integrity(killed.db_path) == "ok"
    res = _rerun(["voice", "prepare", "--profile", "killed"], twin_home)
    assert res.returncode == 0, res.stdout + res.stderr
    assert _clip_state(killed) == expected, f"caught mid-way: {caught}"


def test_kill_during_dataset_build_then_rerun(tmp_path: Path, twin_home: Path) -> None:
    chat = _chat(tmp_path / "WhatsApp Chat with Priya.txt", 3000)
    for name in ("clean", "killed"):
        args = ["ingest", str(chat), "--profile", name, "--me", "Thota Rao", "--create"]
        res = runner.invoke(app, args)
        if res.exit_code != 0:  # older ingest without --create
            ProfileManager(load_settings()).get_or_create(name)
            res = runner.invoke(app, args[:-1])
        assert res.exit_code == 0, res.output
    built = runner.invoke(app, ["dataset", "build", "--profile", "clean", "--force"])
    assert built.exit_code == 0, built.output
    pm = ProfileManager(load_settings())
    out = pm.get("killed").datasets_dir

    def started_writing() -> bool:
        return out.is_dir() and any(out.rglob("*"))

    _kill_when(["dataset", "build", "--profile", "killed", "--force"], twin_home, started_writing)
    res = _rerun(["dataset", "build", "--profile", "killed", "--force"], twin_home)
    assert res.returncode == 0, res.stdout + res.stderr
    assert _integrity(pm.get("killed").db_path) == "ok"

    def records(base: Path) -> list[str]:  # ids differ between profiles, so splits may too: compare all records
        return sorted(line for split in ("train.jsonl", "val.jsonl") for line in _lines(base / "default" / split))

    assert records(out) == records(pm.get("clean").datasets_dir) != []
    assert _leftovers(out) == []


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []
