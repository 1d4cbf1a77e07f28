"""Tiny-model training through the CLI and the runner: run dir, masks, resume, resource check, launchers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from twin.cli.main import app
from twin.errors import TooLarge
from twin.profiles import ProfileManager
from twin.settings import load_settings
from twin.train.data import dataset_hash, read_jsonl
from twin.train.smoke import write_fixture_dataset

TRAIN_YAML = (
    "batch_size: 2\ngrad_accum: 1\nmax_seq_len: 128\neval_steps: 1\nsave_steps: 1\nreport_drafts: 2\n"
    "draft_max_new_tokens: 4\n"
)


def _lines(stdout: str) -> tuple[list[dict], dict]:
    """--json prints exactly one document; the step records are in its metrics."""
    final = json.loads(stdout)
    return final["metrics"], final


@pytest.fixture
def profile_with_dataset(tmp_path: Path):  # noqa: ANN201
    profile = ProfileManager(load_settings()).create("owner")
    write_fixture_dataset(profile.dataset_dir("style"))
    return profile


def test_cli_train_writes_a_complete_run(tiny_base: Path, profile_with_dataset, tmp_path: Path) -> None:
    cfg = tmp_path / "train.yaml"
    cfg.write_text(TRAIN_YAML)
    res = CliRunner().invoke(
        app,
        [
            "train",
            "--profile",
            "owner",
            "--dataset",
            "style",
            "--base",
            str(tiny_base),
            "--config",
            str(cfg),
            "--max-steps",
            "2",
            "--run",
            "r1",
            "--json",
            "--export-llamafactory",
        ],
    )
    assert res.exit_code == 0, res.output
    events, final = _lines(res.stdout)
    assert "train: step 1/2 · loss " in res.stderr and "train: step 2/2" in res.stderr  # not a TTY: plain lines
    assert final["base"]["requested"] == str(tiny_base)
    steps = [e for e in events if e["event"] == "train"]
    assert [e["step"] for e in steps] == [1, 2] and all("loss" in e and "eta_s" in e for e in steps)
    assert any(e["event"] == "eval" and "eval_loss" in e for e in events)
    run = Path(final["run_dir"])
    manifest = json.loads((run / "manifest.json").read_text())
    ds = profile_with_dataset.dataset_dir("style")
    assert manifest["status"] == "complete"
    assert manifest["dataset"]["sha256"] == dataset_hash(ds / "train.jsonl", ds / "val.jsonl")
    assert manifest["libraries"]["torch"] and manifest["libraries"]["peft"] and manifest["libraries"]["trl"]
    assert manifest["template"]["family"] == "chatml" and manifest["hardware"]["device"] == "cpu"
    assert manifest["estimate"]["memory_bytes"] > 0
    assert yaml.safe_load((run / "config.yaml").read_text())["max_steps"] == 2
    assert (run / "adapter" / "adapter_model.safetensors").is_file()
    assert sorted(p.name for p in (run / "checkpoints").glob("checkpoint-*")) == ["checkpoint-1", "checkpoint-2"]
    metrics = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert {m["event"] for m in metrics} >= {"train", "eval", "summary"}
    report = json.loads((run / "report.json").read_text())
    p = report["perplexity"]
    assert p["base_ppl"] > 1 and p["adapter_ppl"] > 1 and p["base_loss"] != p["adapter_loss"]
    assert len(report["drafts"]) == 2 and {"prompt", "reference", "base", "adapter"} <= set(report["drafts"][0])
    assert "| base |" in (run / "report.md").read_text()
    lf = yaml.safe_load((run / "llamafactory" / "train.yaml").read_text())
    assert lf["lora_rank"] == 16 and lf["lora_target"] == "q_proj,v_proj" and lf["template"] == "qwen"
    info = json.loads((run / "llamafactory" / "dataset_info.json").read_text())
    assert info["twin_train"]["formatting"] == "sharegpt" and info["twin_train"]["file_name"].endswith("train.jsonl")


def test_cli_refuses_high_rank_before_loading_anything(profile_with_dataset) -> None:
    res = CliRunner().invoke(app, ["train", "--profile", "owner", "--dataset", "style", "--rank", "64", "--json"])
    assert res.exit_code == 2
    err = json.loads(res.stdout)["error"]
    assert err["code"] == "invalid_input" and "--force" in err["hint"]
    assert not profile_with_dataset.runs_dir.exists() or not any(profile_with_dataset.runs_dir.iterdir())


def test_loss_mask_covers_assistant_turns_only(tiny_base: Path) -> None:
    from transformers import AutoTokenizer

    from twin.train.data import tokenize_conversation

    tok = AutoTokenizer.from_pretrained(str(tiny_base))
    conv = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Lunch?"},
        {"role": "assistant", "content": "Noon works."},
        {"role": "user", "content": "Where?"},
        {"role": "assistant", "content": "Usual place."},
    ]
    row = tokenize_conversation(tok, conv, tok.chat_template, 512)
    trained = [i for i, m in zip(row["input_ids"], row["assistant_masks"], strict=True) if m]
    assert tok.decode(trained) == "Noon works.<|im_end|>\nUsual place.<|im_end|>\n"
    assert tok.decode(row["input_ids"]) == tok.apply_chat_template(conv, tokenize=False)
    assert tokenize_conversation(tok, conv, tok.chat_template, 8) is None  # truncated before any answer


def test_bad_dataset_lines_are_skipped_not_fatal(tmp_path: Path) -> None:
    f = tmp_path / "train.jsonl"
    f.write_text(
        '{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}\n'
        "not json\n"
        '{"messages": [{"role": "user", "content": "no answer"}]}\n'
        '{"messages": [{"role": "robot", "content": "x"}, {"role": "assistant", "content": "y"}]}\n\n'
    )
    split = read_jsonl(f)
    assert len(split.conversations) == 1 and [s["line"] for s in split.skipped] == [2, 3, 4]


class _Interrupt(Exception):
    pass


def test_resume_after_interruption(tiny_base: Path, tmp_path: Path) -> None:
    from twin.train.config import TrainConfig
    from twin.train.rundir import RunDir
    from twin.train.runner import execute_run, prepare_run

    ds = write_fixture_dataset(tmp_path / "ds")
    run = RunDir(tmp_path / "run")
    cfg = TrainConfig(
        base=str(tiny_base),
        max_steps=3,
        batch_size=2,
        grad_accum=1,
        max_seq_len=128,
        eval_steps=10,
        save_steps=1,
        report_drafts=0,
    )
    prepare_run(run, cfg, ds, "ds")

    def stop_at_two(event: dict) -> None:
        if event.get("event") == "train" and event["step"] == 2:
            raise _Interrupt

    with pytest.raises(_Interrupt):
        execute_run(run, on_event=stop_at_two)
    assert run.manifest()["status"] == "training"
    assert run.latest_checkpoint().name == "checkpoint-1"
    report = execute_run(run, resume=True)
    assert report["train"]["global_step"] == 3
    manifest = run.manifest()
    assert manifest["status"] == "complete" and manifest["resumed_from"].endswith("checkpoint-1")
    steps = [m["step"] for m in run.metrics() if m["event"] == "train"]
    assert steps[-2:] == [2, 3]


def test_memory_check_runs_before_anything_is_written(
    tiny_base: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import twin.train.runner as runner
    from twin.train.config import TrainConfig
    from twin.train.rundir import RunDir

    monkeypatch.setattr(runner, "available", lambda plan, path: {"memory_bytes": 1024, "disk_bytes": 1024**4})
    run = RunDir(tmp_path / "run")
    with pytest.raises(TooLarge) as err:
        runner.prepare_run(run, TrainConfig(base=str(tiny_base)), write_fixture_dataset(tmp_path / "ds"), "ds")
    assert "GiB" in err.value.message and "batch_size" in err.value.hint
    assert not run.exists()


def test_accelerate_launcher_config(trained_run) -> None:
    from twin.train.launchers import accelerate_command, write_accelerate_config

    path = write_accelerate_config(trained_run, 4, "fsdp")
    cfg = yaml.safe_load(path.read_text())
    assert cfg["num_processes"] == 4 and cfg["distributed_type"] == "FSDP" and "fsdp_config" in cfg
    cmd = accelerate_command(trained_run, path, resume=True)
    assert "--config_file" in cmd and cmd[-4:] == ["-m", "twin.train.worker", str(trained_run.path), "--resume"]
    single = yaml.safe_load(write_accelerate_config(trained_run, 1).read_text())
    assert single["distributed_type"] == "NO"


def test_cli_accelerate_launcher_runs_the_worker(tiny_base: Path, profile_with_dataset, tmp_path: Path) -> None:
    cfg = tmp_path / "train.yaml"
    cfg.write_text(TRAIN_YAML)
    res = CliRunner().invoke(
        app,
        [
            "train",
            "--profile",
            "owner",
            "--dataset",
            "style",
            "--base",
            str(tiny_base),
            "--config",
            str(cfg),
            "--max-steps",
            "1",
            "--run",
            "acc",
            "--launcher",
            "accelerate",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    _, final = _lines(res.stdout)
    assert "train: launch (command " in res.stderr and "twin.train.worker" in res.stderr
    run = Path(final["run_dir"])
    assert (run / "accelerate.yaml").is_file() and (run / "adapter" / "adapter_model.safetensors").is_file()
    assert json.loads((run / "manifest.json").read_text())["status"] == "complete"


def test_without_base_the_best_present_model_is_used_and_named(tiny_base: Path, profile_with_dataset) -> None:
    runner = CliRunner()
    added = runner.invoke(app, ["model", "add", str(tiny_base), "--name", "tiny", "-p", "owner", "--json"])
    assert added.exit_code == 0, added.output
    res = runner.invoke(
        app, ["train", "-p", "owner", "--dataset", "style", "--max-steps", "1", "--run", "auto1", "--json"]
    )
    assert res.exit_code == 0, res.output
    final = json.loads(res.stdout)
    base = final["base"]
    assert base["requested"] == "auto" and base["label"] == "tiny" and base["spec"] == str(tiny_base.resolve())
    assert "tiny (registered): the best base model on this machine" in base["chosen"]
    assert "train: base chosen (base tiny" in res.stderr
    run = profile_with_dataset.run_dir("auto1")
    assert yaml.safe_load((run / "config.yaml").read_text())["base"] == str(tiny_base.resolve())
