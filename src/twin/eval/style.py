"""`twin eval style`: how much more like the owner does each way of drafting write?

For N held-out prompts (the messages the owner actually replied to, from the dataset's validation
conversations) drafts come from three variants on the same base model: zero-shot, few-shot exemplars
plus the style card, and the trained adapter with its training prompt (when a run is given). Each is
scored by an authorship classifier trained on other conversations, by embedding similarity to the
real reply, by the style-card distance and by how often it wraps or refuses. Drafts are saved next to
the report so a person can read them."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from contextlib import closing
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from twin.eval.classifier import AuthorshipClassifier
from twin.eval.heldout import Prompt, classifier_texts, read_prompts
from twin.eval.metrics import Embedder, Generated, similarities, summarize
from twin.profiles import Profile, write_text_atomic
from twin.providers.llm import LLM, ChatMessage, LLMOptions
from twin.style.card import StyleCard, default_max_tokens, style_line
from twin.style.prompt import DRAFT_STOPS, render_system_prompt
from twin.writing.cleanup import clean_draft
from twin.writing.exemplars import find_exemplars
from twin.writing.prompt import few_shot_system

Progress = Callable[[dict[str, Any]], None]
SMALL_MODEL = 1_000_000_000  # below this, drafts barely follow instructions
ZERO_SHOT_STYLE = "in their own words"


@dataclass
class Variant:
    name: str
    llm: LLM
    system: Callable[[Prompt], str]


@dataclass
class Setup:
    """What an evaluation runs on; the CLI builds it from the profile (see twin.eval.setup)."""

    profile: Profile
    dataset_dir: Path
    owner: str
    card: StyleCard
    base_label: str
    base_params: int | None
    variants: list[Variant]
    run: str | None = None


def zero_shot(owner: str) -> Callable[[Prompt], str]:
    system = render_system_prompt(owner, ZERO_SHOT_STYLE)
    return lambda _p: system


def few_shot(profile: Profile, owner: str, card: StyleCard, held_out: frozenset[str]) -> Callable[[Prompt], str]:
    from twin.store.db import connect

    def system(p: Prompt) -> str:
        with closing(connect(profile)) as conn:
            found = find_exemplars(conn, p.context[-1]["content"], 4, exclude_conversations=held_out)
        return few_shot_system(owner, style_line(card.channel(p.channel)), found)

    return system


def trained(prompts: dict[str, str], main: str | None) -> Callable[[Prompt], str]:
    fallback = prompts[main] if main in prompts else next(iter(prompts.values()))
    return lambda p: prompts.get(p.channel) or fallback


def _generate(v: Variant, p: Prompt, card: StyleCard, seed: int) -> Generated:
    messages = [ChatMessage(role="system", content=v.system(p))]
    messages += [ChatMessage(role=m["role"], content=m["content"]) for m in p.context]  # type: ignore[arg-type]
    opts = LLMOptions(
        max_tokens=default_max_tokens(card.channel(p.channel)),
        temperature=0.7,
        seed=seed,
        stop=list(DRAFT_STOPS),
    )
    result = v.llm.complete_sync(messages, opts)
    return Generated(p.id, p.channel, p.reference, result.text, clean_draft(result.text), result.timings.tokens_per_s)


def _notes(setup: Setup, table: dict[str, dict[str, Any]], n: int) -> list[str]:
    notes = []
    if setup.base_params is not None and setup.base_params < SMALL_MODEL:
        notes.append(
            f"The base model {setup.base_label} has about {setup.base_params / 1e6:.0f}M parameters: at this size "
            "drafts barely follow instructions, so differences between variants are small and partly noise. "
            "For a meaningful comparison train and evaluate on a 1.5B+ base (twin model add, twin train --base)."
        )
    base = table.get("base", {}).get("attributed_to_owner", 0.0)
    for name in ("few_shot", "adapter"):
        if name in table:
            other = table[name]["attributed_to_owner"]
            se = math.sqrt(max(base * (1 - base) + other * (1 - other), 1e-9) / max(n, 1))
            if abs(other - base) < 2 * se:
                notes.append(f"With {n} prompts, {name} vs base ({other:.0%} vs {base:.0%}) is within noise.")
    return notes


def _ratio(a: Any, b: Any) -> float | None:
    return round(float(a) / float(b), 2) if b else None


def evaluate(
    setup: Setup, n_prompts: int, embedder: Embedder | None, progress: Progress | None = None
) -> dict[str, Any]:
    """Run the evaluation and write drafts.jsonl, report.json and report.md; returns the report."""
    emit = progress or (lambda _e: None)
    prompts = read_prompts(setup.dataset_dir, n_prompts)
    texts = classifier_texts(setup.profile, {p.conversation_id for p in prompts})
    clf = AuthorshipClassifier().fit([t for t, _ in texts.train], [y for _, y in texts.train])
    share = sum(y for _, y in texts.train) / len(texts.train)
    scores = clf.score([t for t, _ in texts.test], [y for _, y in texts.test], len(texts.train), share)
    emit({"event": "classifier", "accuracy": scores.accuracy, "test_messages": scores.n_test})
    results: dict[str, list[Generated]] = {}
    for v in setup.variants:
        items = []
        for i, p in enumerate(prompts):
            items.append(_generate(v, p, setup.card, seed=1000 + i))
            emit({"event": "draft", "variant": v.name, "done": i + 1, "of": len(prompts)})
        for g, prob in zip(items, clf.owner_probability([g.draft for g in items]), strict=True):
            g.owner_probability = round(prob, 4)
        sims = similarities(embedder, [g.draft for g in items], [g.reference for g in items])
        per_draft: list[float | None] = list(sims) if sims else [None] * len(items)
        for g, sim in zip(items, per_draft, strict=True):
            g.similarity = sim
        results[v.name] = items
    return _write(setup, prompts, scores, results, embedder is not None)


def _write(
    setup: Setup, prompts: list[Prompt], scores: Any, results: dict[str, list[Generated]], emb: bool
) -> dict[str, Any]:
    table = {name: summarize(items, setup.card) for name, items in results.items()}
    base = table["base"]["attributed_to_owner"] if "base" in table else 0.0
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    out_dir = setup.profile.root / "evals" / f"style-{stamp}"
    report: dict[str, Any] = {
        "profile": setup.profile.name,
        "run": setup.run,
        "dataset": setup.dataset_dir.name,
        "base_model": setup.base_label,
        "base_params": setup.base_params,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "prompts": len(prompts),
        "classifier": asdict(scores),
        "variants": table,
        "ratios": {
            f"{name}_vs_base": _ratio(t["attributed_to_owner"], base) for name, t in table.items() if name != "base"
        },
        # finite even when the base is never read as the owner
        "probability_ratios": {
            f"{name}_vs_base": _ratio(t["mean_owner_probability"], table["base"]["mean_owner_probability"])
            for name, t in table.items()
            if name != "base" and "base" in table
        },
        "embedding_similarity": "all-MiniLM-L6-v2" if emb else "unavailable (no embeddings backend installed)",
        "notes": _notes(setup, table, len(prompts)),
        "folder": str(out_dir),
    }
    by_prompt: dict[str, dict[str, Any]] = {
        p.id: {"id": p.id, "channel": p.channel, "prompt": p.context[-1]["content"], "reference": p.reference}
        for p in prompts
    }
    for name, items in results.items():
        for g in items:
            by_prompt[g.prompt_id][name] = {
                "draft": g.draft,
                "raw": g.raw,
                "owner_probability": g.owner_probability,
                "similarity": g.similarity,
            }
    out_dir.mkdir(parents=True, exist_ok=True)
    lines = "".join(json.dumps(v, ensure_ascii=False) + "\n" for v in by_prompt.values())
    write_text_atomic(out_dir / "drafts.jsonl", lines)
    write_text_atomic(out_dir / "report.json", json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    from twin.eval.report import render_markdown

    write_text_atomic(out_dir / "report.md", render_markdown(report, list(by_prompt.values())))
    return report
