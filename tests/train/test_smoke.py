from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from twin.cli.main import app


def test_train_smoke_json_reports_each_step(tiny_base: Path) -> None:
    pytest.importorskip("llama_cpp")
    res = CliRunner().invoke(app, ["train", "--smoke", "--json"])
    assert res.exit_code == 0, res.output
    start = res.stdout.index("{\n")
    events = [json.loads(line) for line in res.stdout[:start].splitlines() if line.strip()]
    assert [e["step"] for e in events] == ["tiny_model", "train", "gguf", "generate"]
    assert all(e["seconds"] >= 0 for e in events)
    final = json.loads(res.stdout[start:])
    assert final["ok"] and final["generated_tokens"] > 0
    for key in ("adapter", "lora_gguf", "base_gguf"):
        assert Path(final["artifacts"][key]).exists()
