from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from twin.cli.main import app
from twin.train.smoke import real_text


def test_train_smoke_json_is_one_document_and_checks_the_text(tiny_base: Path) -> None:
    pytest.importorskip("llama_cpp")
    res = CliRunner().invoke(app, ["train", "--smoke", "--json"])
    assert res.exit_code == 0, res.output
    final = json.loads(res.stdout)  # one document; progress went to stderr
    assert [e["step"] for e in final["steps"]] == ["tiny_model", "train", "gguf", "generate"]
    assert all(e["seconds"] >= 0 for e in final["steps"])
    assert final["ok"] and final["generated_tokens"] > 0 and real_text(final["text"])
    for key in ("adapter", "lora_gguf", "base_gguf"):
        assert Path(final["artifacts"][key]).exists()
    assert "train: smoke step (step generate" in res.stderr
    from twin.cli.common import console
    from twin.cli.train import print_smoke

    with console.capture() as shown:
        print_smoke(final)
    assert "Smoke test passed" in shown.get() and "generate" in shown.get() and "{'" not in shown.get()


def test_real_text_check() -> None:
    assert not real_text("\n\n\n\n\n\n\n\n")
    assert not real_text("............")
    assert not real_text("<|im_end|><|im_start|>")
    assert real_text("Sure, noon works.") and real_text("SureSure_ghost")
