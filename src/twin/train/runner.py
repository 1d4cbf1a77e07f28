"""LoRA/QLoRA training with TRL's SFTTrainer and PEFT, driven by a run directory."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from twin.chat_template import detect_family, jinja_for
from twin.errors import InvalidInput
from twin.profiles import Profile
from twin.train.base_models import resolve_base
from twin.train.config import TrainConfig
from twin.train.data import dataset_files, dataset_hash, read_jsonl, tokenize_split
from twin.train.extra import require_train_extra
from twin.train.hardware import available, check_resources, estimate, plan_hardware
from twin.train.rundir import RunDir, library_versions, now

Event = Callable[[dict[str, Any]], None]


def _pick_base(cfg: TrainConfig, plan: Any, run_path: Path, profile: Profile | None) -> dict[str, Any]:
    """Resolve `base: auto` to the best base present that fits; returns what to record about the choice."""
    if cfg.base != "auto":
        return {"requested": cfg.base}
    from twin.train.base_choice import choose_base

    per_param = 0.55 if plan.quantization == "nf4" else 2.0 if plan.precision in ("bf16", "fp16") else 4.0
    choice = choose_base(profile, available(plan, run_path)["memory_bytes"], per_param)
    cfg.base = choice.spec
    return {"requested": "auto", "chosen": choice.reason, "label": choice.label, "skipped": choice.skipped}


def prepare_run(
    run: RunDir,
    cfg: TrainConfig,
    dataset_dir: Path,
    dataset_name: str,
    profile: Profile | None = None,
    on_event: Event | None = None,
) -> dict[str, Any]:
    """Create the run directory: resolved config, manifest and the chat template; check resources."""
    require_train_extra()
    from transformers import AutoConfig, AutoTokenizer

    train_path, val_path = dataset_files(dataset_dir)
    plan = plan_hardware(cfg)
    picked = _pick_base(cfg, plan, run.path, profile)
    if on_event and "chosen" in picked:
        on_event({"event": "base_chosen", "base": picked["label"], "why": picked["chosen"]})
    base = resolve_base(cfg.base, profile)
    tokenizer = AutoTokenizer.from_pretrained(str(base.path))
    template = jinja_for(tokenizer.chat_template)
    family = detect_family(template)
    mcfg = AutoConfig.from_pretrained(str(base.path))
    need = estimate(base.path, cfg, plan, mcfg.num_hidden_layers, mcfg.hidden_size)
    check_resources(need, available(plan, run.path), plan.device)
    run.path.mkdir(parents=True, exist_ok=True)
    run.write_config(cfg)
    run.template_path.write_text(template, encoding="utf-8")
    manifest = {
        "run": run.path.name,
        "created": now(),
        "status": "prepared",
        "dataset": {"name": dataset_name, "dir": str(dataset_dir), "sha256": dataset_hash(train_path, val_path)},
        "base": {
            "spec": cfg.base,
            "checkpoint": str(base.path),
            "gguf": str(base.gguf) if base.gguf else None,
            "architecture": mcfg.model_type,
            **picked,
        },
        "template": {"family": family.name, "file": run.template_path.name},
        "hardware": plan.to_dict(),
        "estimate": need,
        "libraries": library_versions(),
    }
    manifest.update(training_prompts(dataset_dir, train_path))
    run.write_manifest(manifest)
    return manifest


def training_prompts(dataset_dir: Path, train_path: Path) -> dict[str, Any]:
    """The system prompts the training conversations carry, per channel (from the dataset manifest), and
    the most common one; export and drafting serve the model with the very same text."""
    from collections import Counter

    counts = Counter(c[0]["content"] for c in read_jsonl(train_path).conversations if c[0]["role"] == "system")
    common = counts.most_common(1)[0][0] if counts else None
    out: dict[str, Any] = {"system_prompt": common}
    manifest_path = dataset_dir / "manifest.json"
    if manifest_path.is_file():
        data = json.loads(manifest_path.read_text(encoding="utf-8"))
        prompts = {ch: p for ch, p in (data.get("system_prompts") or {}).items() if p in counts}
        if prompts:
            main = data.get("main_channel") if data.get("main_channel") in prompts else next(iter(prompts))
            out.update(system_prompts=prompts, main_channel=main, system_prompt=prompts[main])
    if "system_prompts" not in out and common:
        out.update(system_prompts={"default": common}, main_channel="default")
    return out


def _load_model(base_path: str, plan: Any, cfg: TrainConfig) -> Any:
    import torch
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training
    from transformers import AutoModelForCausalLM

    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[plan.precision]
    kwargs: dict[str, Any] = {"dtype": dtype}
    if plan.quantization == "nf4":
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True, bnb_4bit_compute_dtype=dtype
        )
        kwargs["device_map"] = {"": 0}
    model = AutoModelForCausalLM.from_pretrained(base_path, **kwargs)
    if plan.quantization == "nf4":
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=cfg.gradient_checkpointing)
    lora = LoraConfig(
        r=cfg.rank,
        lora_alpha=cfg.alpha,
        lora_dropout=cfg.dropout,
        target_modules=list(cfg.target_modules),
        bias="none",
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, lora)


def _sft_args(run: RunDir, cfg: TrainConfig, plan: Any, has_eval: bool) -> Any:
    from trl import SFTConfig

    return SFTConfig(
        output_dir=str(run.checkpoints),
        per_device_train_batch_size=cfg.batch_size,
        per_device_eval_batch_size=cfg.batch_size,
        gradient_accumulation_steps=cfg.grad_accum,
        learning_rate=cfg.learning_rate,
        lr_scheduler_type=cfg.lr_scheduler,
        warmup_steps=cfg.warmup_ratio,
        num_train_epochs=cfg.epochs,
        max_steps=cfg.max_steps or -1,
        logging_steps=cfg.logging_steps,
        eval_strategy="steps" if has_eval else "no",
        eval_steps=cfg.eval_steps,
        save_strategy="steps",
        save_steps=cfg.save_steps,
        save_total_limit=cfg.save_total_limit,
        seed=cfg.seed,
        bf16=plan.precision == "bf16",
        fp16=plan.precision == "fp16",
        optim=plan.optimizer,
        use_cpu=plan.device == "cpu",
        gradient_checkpointing=cfg.gradient_checkpointing,
        max_length=cfg.max_seq_len,
        report_to=[],
        disable_tqdm=True,
        dataset_num_proc=None,
        packing=False,
        assistant_only_loss=False,
        completion_only_loss=False,
    )


def build_trainer(
    run: RunDir, on_event: Event | None = None, progress: bool | str = False
) -> tuple[Any, Any, dict[str, Any]]:
    """SFTTrainer, tokenizer and the tokenized splits for a prepared run."""
    import datasets
    import transformers
    from datasets import Dataset
    from transformers import AutoTokenizer, PrinterCallback
    from trl import SFTTrainer

    from twin.train.progress import RunCallback

    # The libraries' own bars ("Truncating train dataset", "Loading weights") would flood logs; twin
    # reports training progress itself.
    datasets.disable_progress_bars()
    transformers.utils.logging.disable_progress_bar()
    cfg, manifest = run.load_config(), run.manifest()
    base_path = manifest["base"]["checkpoint"]
    template = run.template_path.read_text(encoding="utf-8")
    tokenizer = AutoTokenizer.from_pretrained(base_path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    train_path, val_path = dataset_files(Path(manifest["dataset"]["dir"]))
    train, val = read_jsonl(train_path), read_jsonl(val_path) if val_path.is_file() else None
    train_rows, dropped = tokenize_split(tokenizer, train.conversations, template, cfg.max_seq_len)
    if not train_rows:
        raise InvalidInput(
            f"No usable training conversations in {train_path}.",
            "Each line needs a messages list with at least one assistant message.",
        )
    val_convs = val.conversations[: cfg.eval_samples] if val else []
    val_rows, _ = tokenize_split(tokenizer, val_convs, template, cfg.max_seq_len)
    plan = _plan_from(manifest)
    model = _load_model(base_path, plan, cfg)
    trainer = SFTTrainer(
        model=model,
        args=_sft_args(run, cfg, plan, bool(val_rows)),
        processing_class=tokenizer,
        train_dataset=Dataset.from_list(train_rows),
        eval_dataset=Dataset.from_list(val_rows) if val_rows else None,
        callbacks=[RunCallback(run, on_event, progress)],
    )
    trainer.remove_callback(PrinterCallback)  # progress is ours: quiet stdout keeps --json clean
    info = {
        "train_rows": len(train_rows),
        "val_rows": len(val_rows),
        "dropped_too_long": dropped,
        "skipped_lines": {"train": train.skipped[:50], "val": (val.skipped[:50] if val else [])},
        "val_conversations": val_convs,
    }
    return trainer, tokenizer, info


def _plan_from(manifest: dict[str, Any]) -> Any:
    from twin.train.hardware import HardwarePlan

    return HardwarePlan(**manifest["hardware"])


def execute_run(
    run: RunDir, *, resume: bool = False, on_event: Event | None = None, progress: bool | str = False
) -> dict[str, Any]:
    """Train (or resume), save the adapter, evaluate base vs adapter and write the report."""
    from twin.train.report import write_report

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    cfg = run.load_config()
    emit = on_event or (lambda _e: None)
    trainer, tokenizer, info = build_trainer(run, on_event, progress)
    checkpoint = run.latest_checkpoint() if resume else None
    if trainer.is_world_process_zero():
        run.update_manifest(
            status="training", started=now(), data=_counts(info), resumed_from=str(checkpoint) if checkpoint else None
        )
    emit({"event": "train_start", "rows": info["train_rows"], "resume_from": str(checkpoint) if checkpoint else None})
    t0, c0 = time.perf_counter(), time.process_time()
    result = trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    seconds, cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
    if not trainer.is_world_process_zero():
        return {}  # other ranks of a multi-GPU run: the main process saves and reports
    trainer.model.save_pretrained(str(run.adapter))
    tokenizer.save_pretrained(str(run.adapter))
    emit({"event": "adapter_saved", "path": str(run.adapter)})
    train_stats = {
        "global_step": result.global_step,
        "train_loss": result.training_loss,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
    }
    report = write_report(run, trainer, tokenizer, cfg, info["val_conversations"], train_stats)
    run.update_manifest(status="complete", finished=now(), train=train_stats)
    emit({"event": "report", "path": str(run.report_md), **report["perplexity"]})
    return report


def _counts(info: dict[str, Any]) -> dict[str, Any]:
    return {k: info[k] for k in ("train_rows", "val_rows", "dropped_too_long")} | {
        "skipped_lines": {k: len(v) for k, v in info["skipped_lines"].items()}
    }


def read_report(run: RunDir) -> dict[str, Any]:
    return json.loads(run.report_json.read_text(encoding="utf-8"))
