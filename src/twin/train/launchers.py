"""Other ways to run the same training: a LLaMA-Factory config, and multi-GPU through accelerate."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import yaml

from twin.profiles import write_text_atomic
from twin.train.config import TrainConfig
from twin.train.rundir import RunDir

# LLaMA-Factory's template names for the families twin detects.
_LF_TEMPLATE = {"chatml": "qwen", "llama3": "llama3"}


def export_llamafactory(run: RunDir, cfg: TrainConfig, dataset_dir: Path) -> dict[str, str]:
    """Write llamafactory/{train.yaml, dataset_info.json} equivalent to this run's config."""
    manifest = run.manifest()
    out = run.path / "llamafactory"
    out.mkdir(parents=True, exist_ok=True)
    info = {
        "twin_train": {
            "file_name": str(dataset_dir / "train.jsonl"),
            "formatting": "sharegpt",
            "columns": {"messages": "messages"},
            "tags": {
                "role_tag": "role",
                "content_tag": "content",
                "user_tag": "user",
                "assistant_tag": "assistant",
                "system_tag": "system",
            },
        }
    }
    if (dataset_dir / "val.jsonl").is_file():
        info["twin_val"] = dict(info["twin_train"], file_name=str(dataset_dir / "val.jsonl"))
    plan = manifest["hardware"]
    config: dict[str, Any] = {
        "model_name_or_path": manifest["base"]["checkpoint"],
        "stage": "sft",
        "do_train": True,
        "finetuning_type": "lora",
        "lora_rank": cfg.rank,
        "lora_alpha": cfg.alpha,
        "lora_dropout": cfg.dropout,
        "lora_target": ",".join(cfg.target_modules),
        "dataset": "twin_train",
        "dataset_dir": str(out),
        "template": _LF_TEMPLATE.get(manifest["template"]["family"], "default"),
        "cutoff_len": cfg.max_seq_len,
        "output_dir": str(run.path / "llamafactory-output"),
        "logging_steps": cfg.logging_steps,
        "save_steps": cfg.save_steps,
        "per_device_train_batch_size": cfg.batch_size,
        "gradient_accumulation_steps": cfg.grad_accum,
        "learning_rate": cfg.learning_rate,
        "num_train_epochs": cfg.epochs,
        "lr_scheduler_type": cfg.lr_scheduler,
        "warmup_ratio": cfg.warmup_ratio,
        "bf16": plan["precision"] == "bf16",
        "fp16": plan["precision"] == "fp16",
        "seed": cfg.seed,
        "train_on_prompt": False,
        "report_to": "none",
    }
    if cfg.max_steps:
        config["max_steps"] = cfg.max_steps
    if plan["quantization"] == "nf4":
        config.update(quantization_bit=4, quantization_method="bitsandbytes")
    if "twin_val" in info:
        config.update(eval_dataset="twin_val", eval_strategy="steps", eval_steps=cfg.eval_steps)
    write_text_atomic(out / "dataset_info.json", json.dumps(info, indent=2))
    write_text_atomic(out / "train.yaml", yaml.safe_dump(config, sort_keys=False))
    return {
        "config": str(out / "train.yaml"),
        "dataset_info": str(out / "dataset_info.json"),
        "command": f"llamafactory-cli train {out / 'train.yaml'}",
    }


def write_accelerate_config(run: RunDir, num_processes: int, strategy: str = "ddp") -> Path:
    """An accelerate config for multi-GPU DDP, FSDP or DeepSpeed ZeRO-2 (written into the run folder)."""
    cfg: dict[str, Any] = {
        "compute_environment": "LOCAL_MACHINE",
        "machine_rank": 0,
        "num_machines": 1,
        "num_processes": num_processes,
        "mixed_precision": "no",
        "use_cpu": False,
        "main_training_function": "main",
        "rdzv_backend": "static",
        "same_network": True,
    }
    plan = run.manifest()["hardware"]
    if plan["precision"] in ("bf16", "fp16"):
        cfg["mixed_precision"] = plan["precision"]
    cfg["distributed_type"] = {"ddp": "MULTI_GPU", "fsdp": "FSDP", "deepspeed": "DEEPSPEED"}[strategy]
    if strategy == "fsdp":
        cfg["fsdp_config"] = {
            "fsdp_sharding_strategy": "FULL_SHARD",
            "fsdp_auto_wrap_policy": "TRANSFORMER_BASED_WRAP",
            "fsdp_use_orig_params": True,
            "fsdp_state_dict_type": "SHARDED_STATE_DICT",
        }
    elif strategy == "deepspeed":
        cfg["deepspeed_config"] = {"zero_stage": 2, "gradient_accumulation_steps": run.load_config().grad_accum}
    if num_processes <= 1:
        cfg["distributed_type"] = "NO"
    path = run.path / "accelerate.yaml"
    write_text_atomic(path, yaml.safe_dump(cfg, sort_keys=False))
    return path


def accelerate_command(run: RunDir, config_path: Path, resume: bool = False) -> list[str]:
    """The command that runs this prepared run under `accelerate launch`."""
    launcher = shutil.which("accelerate")
    head = [launcher, "launch"] if launcher else [sys.executable, "-m", "accelerate.commands.launch"]
    cmd = [*head, "--config_file", str(config_path), "-m", "twin.train.worker", str(run.path)]
    return [*cmd, "--resume"] if resume else cmd
