"""End-of-run report: validation perplexity base vs adapter and drafts side by side."""

from __future__ import annotations

import json
import math
from typing import Any

from twin.profiles import write_text_atomic
from twin.train.config import TrainConfig
from twin.train.rundir import RunDir


def _ppl(loss: float | None) -> float | None:
    if loss is None or not math.isfinite(loss):
        return None
    return round(math.exp(min(loss, 50.0)), 4)


def evaluate_both(trainer: Any) -> dict[str, float | None]:
    """Validation loss and perplexity with the adapter on and with it disabled (the base model)."""
    if trainer.eval_dataset is None:
        return {"adapter_loss": None, "base_loss": None, "adapter_ppl": None, "base_ppl": None}
    final = [h for h in trainer.state.log_history if "eval_loss" in h and h.get("step") == trainer.state.global_step]
    # The trainer already evaluated at the final step; reuse it rather than run the same pass again.
    adapter_loss = final[-1]["eval_loss"] if final else trainer.evaluate()["eval_loss"]
    with trainer.model.disable_adapter():
        base_loss = trainer.evaluate(metric_key_prefix="base")["base_loss"]
    return {
        "adapter_loss": round(adapter_loss, 5),
        "base_loss": round(base_loss, 5),
        "adapter_ppl": _ppl(adapter_loss),
        "base_ppl": _ppl(base_loss),
    }


def _prompt_of(conv: list[dict[str, str]]) -> tuple[list[dict[str, str]], str]:
    last = max(i for i, m in enumerate(conv) if m["role"] == "assistant")
    return conv[:last], conv[last]["content"]


def drafts(
    model: Any, tokenizer: Any, template: str, convs: list[list[dict[str, str]]], n: int, max_new_tokens: int
) -> list[dict[str, str]]:
    """Greedy drafts for the first n validation prompts, base (adapter off) and adapter."""
    import torch

    out = []
    model.eval()
    for conv in convs[:n]:
        prompt_msgs, reference = _prompt_of(conv)
        ids = tokenizer.apply_chat_template(
            prompt_msgs, chat_template=template, add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        ids = {k: v.to(model.device) for k, v in ids.items()}
        n_in = ids["input_ids"].shape[1]
        gen = {"max_new_tokens": max_new_tokens, "do_sample": False, "pad_token_id": tokenizer.pad_token_id}
        with torch.no_grad():
            tuned = model.generate(**ids, **gen)[0][n_in:]
            with model.disable_adapter():
                base = model.generate(**ids, **gen)[0][n_in:]
        out.append(
            {
                "prompt": prompt_msgs[-1]["content"] if prompt_msgs else "",
                "reference": reference,
                "base": tokenizer.decode(base, skip_special_tokens=True).strip(),
                "adapter": tokenizer.decode(tuned, skip_special_tokens=True).strip(),
            }
        )
    return out


def _md_cell(text: str, limit: int = 300) -> str:
    text = text if len(text) <= limit else text[:limit] + "…"
    return text.replace("|", "\\|").replace("\n", "<br>")


def render_markdown(report: dict[str, Any]) -> str:
    p = report["perplexity"]
    lines = [
        f"# Run {report['run']}",
        "",
        f"Base: `{report['base']}` · steps: {report['train']['global_step']} "
        f"· train loss: {report['train']['train_loss']:.4f}",
        "",
        "## Validation",
        "",
        "| | loss | perplexity |",
        "|---|---|---|",
        f"| base | {p['base_loss']} | {p['base_ppl']} |",
        f"| adapter | {p['adapter_loss']} | {p['adapter_ppl']} |",
        "",
        "## Drafts (greedy, base vs adapter)",
        "",
    ]
    if report["drafts"]:
        lines += ["| prompt | reference | base | adapter |", "|---|---|---|---|"]
        lines += [
            f"| {_md_cell(d['prompt'])} | {_md_cell(d['reference'])} | {_md_cell(d['base'])} | "
            f"{_md_cell(d['adapter'])} |"
            for d in report["drafts"]
        ]
    else:
        lines.append("No validation prompts.")
    return "\n".join(lines) + "\n"


def write_report(
    run: RunDir,
    trainer: Any,
    tokenizer: Any,
    cfg: TrainConfig,
    val_convs: list[list[dict[str, str]]],
    train_stats: dict[str, Any],
) -> dict[str, Any]:
    template = run.template_path.read_text(encoding="utf-8")
    report = {
        "run": run.path.name,
        "base": cfg.base,
        "train": train_stats,
        "perplexity": evaluate_both(trainer),
        "drafts": drafts(trainer.model, tokenizer, template, val_convs, cfg.report_drafts, cfg.draft_max_new_tokens),
    }
    write_text_atomic(run.report_json, json.dumps(report, indent=2, ensure_ascii=False))
    write_text_atomic(run.report_md, render_markdown(report))
    return report
