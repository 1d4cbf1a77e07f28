"""The CLI as a user runs it (one JSON document on stdout with --json), and resuming after kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.media.conftest import Film
from typer.testing import CliRunner

from twin.cli.main import app
from twin.media.segments import load_segments

SRC = Path(__file__).resolve().parents[2] / "src"


def _json(result) -> dict:  # noqa: ANN001
    assert result.stdout.count("\n{") == 0, result.stdout  # exactly one document
    return json.loads(result.stdout)


def test_run_then_rerun_skips_finished_stages(film: Film, profile, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("TWIN_LLM_BACKEND", "fake")  # the character's chat turn below
    runner = CliRunner()
    ann = next(ln for ln in film.scene.lines if ln.speaker == "Ann")
    args = ["media", "run", str(film.mkv), "--subtitles", str(film.good_srt), "--character", "Ann"]
    args += ["--sample-at", f"{(ann.start + ann.end) / 2:.2f}", "--no-train-voice", "--profile", "me", "--json"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    out = _json(first)
    assert out["characters"]["Ann"]["clips"] >= 4 and out["characters"]["Ann"]["seconds"] > 15
    assert Path(out["persona"]).is_file()
    again = runner.invoke(app, args)
    assert again.exit_code == 0 and _json(again)["project_id"] == out["project_id"]
    listing = _json(runner.invoke(app, ["media", "list", "--profile", "me", "--json"]))
    assert [p["id"] for p in listing["projects"]] == [out["project_id"]]
    assert listing["projects"][0]["stages"]["segment"] == "done"
    chars = _json(runner.invoke(app, ["media", "characters", out["project_id"], "--profile", "me", "--json"]))
    assert {c["character"] for c in chars["characters"]} >= {"Ann"}
    text = runner.invoke(app, ["media", "characters", out["project_id"], "--profile", "me"])
    assert "Ann" in text.stdout and "sample:" in text.stdout
    exported = _json(
        runner.invoke(app, ["media", "export", out["project_id"], "-c", "Ann", "--profile", "me", "--json"])
    )
    assert {"file", "start", "end", "text", "speaker", "character", "quality"} <= set(exported["clips"][0])
    chat = _json(runner.invoke(app, ["media", "chat", "--character", "Ann", "--profile", "me", "--json"]))
    assert chat["persona"] == "ann" and chat["chat"].startswith("twin chat --persona ann")
    turn = _json(runner.invoke(app, ["media", "chat", "-c", "Ann", "-m", "Who are you?", "--profile", "me", "--json"]))
    assert turn["reply"] and turn["conversation_id"]
    listed = runner.invoke(app, ["persona", "list", "--profile", "me", "--json"])
    assert "ann" in listed.stdout


def test_cli_errors_are_clear_json(film: Film, profile, tmp_path: Path) -> None:  # noqa: ANN001
    runner = CliRunner()
    res = runner.invoke(app, ["media", "transcribe", str(tmp_path / "missing.mkv"), "--profile", "me", "--json"])
    assert res.exit_code == 2
    err = _json(res)["error"]
    assert err["code"] == "not_found" and "missing.mkv" in err["message"]
    res = runner.invoke(app, ["media", "align", "not-an-id", "--profile", "me", "--json"])
    assert res.exit_code == 2 and _json(res)["error"]["code"] == "invalid_input"
    res = runner.invoke(app, ["media", "run", str(film.mkv), "-c", "Ann", "--profile", "me"])
    assert res.exit_code == 2 and "--sample-at" in res.output


def test_kill_9_in_the_middle_of_segment_resumes(project, twin_home: Path) -> None:  # noqa: ANN001
    before = [(s.start, s.end, s.speaker) for s in load_segments(project)]
    env = {
        **os.environ,
        "TWIN_HOME": str(twin_home),
        "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
    }
    cmd = [sys.executable, "-m", "twin", "media", "segment", project.id, "--profile", "me", "--json"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first_block = project.work_dir / "embeddings" / "block-000000.npy"
    deadline = time.monotonic() + 300
    while not first_block.is_file() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "the stage finished before it could be interrupted"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert project.load().stage("segment").status == "running"  # interrupted, not done
    assert [(s.start, s.end, s.speaker) for s in load_segments(project)] == before  # earlier results intact
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["resumed_windows"] >= 32  # the blocks embedded before the kill were reused
    assert project.load().stage("segment").status == "done"
    assert not (project.work_dir / "embeddings").exists()
    assert [(s.start, s.end, s.speaker) for s in load_segments(project)] == before
