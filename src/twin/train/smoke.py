"""`twin train --smoke`: the whole chain on a tiny random Qwen2 model, to check an installation.

tiny model (real Qwen2 tokenizer) → a few LoRA steps → adapter → GGUF LoRA + base GGUF → load both in
llama.cpp → generate, and check the generation is real text. Each step is reported as an event with
its duration and artifact paths.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from twin.errors import MissingDependency, Unavailable
from twin.train.assets import cache_dir
from twin.train.extra import require_train_extra

FIXTURE = [
    ("Can you send me the report by Friday?", "Sure, it'll be in your inbox Thursday night."),
    ("Are we still on for lunch?", "Yep. Noon, usual place."),
    ("Did you see the game last night?", "Caught the second half. Brutal ending."),
    ("Can you review my pull request?", "On it after standup."),
]


def write_fixture_dataset(folder: Path, n_train: int = 8, n_val: int = 2) -> Path:
    """A small ChatML dataset (train.jsonl + val.jsonl) in the format `twin dataset` writes."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(n_train + n_val):
        q, a = FIXTURE[i % len(FIXTURE)]
        rows.append(
            {
                "messages": [
                    {"role": "system", "content": "You write like the owner."},
                    {"role": "user", "content": f"{q} ({i})"},
                    {"role": "assistant", "content": a},
                ]
            }
        )
    (folder / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[:n_train]), encoding="utf-8")
    (folder / "val.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[n_train:]), encoding="utf-8")
    return folder


def train_fixture_run(work: Path, steps: int = 2, **overrides: Any) -> Any:
    """Train the tiny model on the fixture dataset for a few steps; returns the finished RunDir."""
    from twin.train.assets import tiny_qwen2
    from twin.train.config import TrainConfig
    from twin.train.rundir import RunDir
    from twin.train.runner import execute_run, prepare_run

    dataset = write_fixture_dataset(work / "dataset")
    run = RunDir(work / "run")
    settings: dict[str, Any] = {
        "base": str(tiny_qwen2()),
        "max_steps": steps,
        "batch_size": 2,
        "grad_accum": 1,
        "max_seq_len": 128,
        "eval_steps": steps,
        "save_steps": steps,
        "report_drafts": 1,
        "draft_max_new_tokens": 8,
    } | overrides
    prepare_run(run, TrainConfig(**settings), dataset, "smoke")
    execute_run(run)
    return run


# Enough steps, at a high rate on every projection, that even a random tiny model learns the first
# words of the fixture replies: greedy output is then real text, not whitespace.
SMOKE_TRAINING: dict[str, Any] = {
    "learning_rate": 8e-3,
    "warmup_ratio": 0.0,
    "max_seq_len": 64,
    "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
    "eval_steps": 1000,
    "save_steps": 1000,
    "report_drafts": 0,
}
_WORD = re.compile(r"[^\W\d_]{2,}")


def real_text(text: str) -> bool:
    """At least one word of two letters or more (not whitespace, punctuation or template tokens)."""
    return bool(_WORD.search(re.sub(r"<\|[^|>]*\|>", " ", text)))


def _fresh_workdir() -> Path:
    """A new smoke folder; older ones are removed so repeated checks do not fill the cache."""
    for old in cache_dir().glob("smoke-*"):
        shutil.rmtree(old, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix="smoke-", dir=cache_dir()))


def _generate(llama_cpp: Any, base_gguf: Path, lora: Path) -> tuple[str, int]:
    """Greedy reply to a fixture prompt through llama.cpp with the GGUF LoRA applied."""
    llm = llama_cpp.Llama(model_path=str(base_gguf), lora_path=str(lora), n_ctx=256, verbose=False, seed=0)
    messages: list[Any] = [
        {"role": "system", "content": "You write like the owner."},
        {"role": "user", "content": FIXTURE[1][0]},
    ]
    out: Any = llm.create_chat_completion(messages=messages, max_tokens=12, temperature=0)
    llm.close()
    return out["choices"][0]["message"]["content"] or "", int(out["usage"]["completion_tokens"])


def run_smoke(on_event: Callable[[dict[str, Any]], None] | None = None, steps: int = 16) -> dict[str, Any]:
    """Train, convert, load and generate; raises Unavailable when the result is not real text."""
    emit = on_event or (lambda _e: None)
    require_train_extra("The smoke test")
    try:
        import llama_cpp
    except ImportError:
        raise MissingDependency.for_extra("The smoke test", "llm", "llama_cpp") from None
    from twin.export.gguf_lora import adapter_to_gguf
    from twin.export.gguf_model import model_to_gguf
    from twin.train.assets import qwen2_vocab_gguf, tiny_qwen2
    from twin.train.runner import read_report

    work = _fresh_workdir()
    artifacts: dict[str, str] = {"work": str(work)}
    timeline: list[dict[str, Any]] = []
    t = time.perf_counter()

    def step(name: str, **info: Any) -> None:
        nonlocal t
        now = time.perf_counter()
        event = {"event": "smoke_step", "step": name, "seconds": round(now - t, 2), **info}
        timeline.append(event)
        emit(event)
        t = now

    base = tiny_qwen2()
    step("tiny_model", path=str(base))
    run = train_fixture_run(work, steps, **SMOKE_TRAINING)
    report = read_report(run)
    artifacts["adapter"] = str(run.adapter)
    step("train", steps=report["train"]["global_step"], loss=report["train"]["train_loss"], path=str(run.adapter))
    lora = adapter_to_gguf(run.adapter, base / "config.json", work / "smoke-lora.gguf")
    template = run.template_path.read_text(encoding="utf-8")
    base_gguf = base / "tiny-base.gguf"  # built once per cache, like the tiny checkpoint
    if not base_gguf.is_file():
        model_to_gguf(base, base_gguf, template=template, tokenizer_gguf=qwen2_vocab_gguf(), f16=False)
    artifacts.update(lora_gguf=str(lora), base_gguf=str(base_gguf))
    step("gguf", lora=str(lora), base=str(base_gguf))
    text, tokens = _generate(llama_cpp, base_gguf, lora)
    step("generate", tokens=tokens, text=text)
    if not real_text(text):
        raise Unavailable(
            f"The smoke test trained, converted and loaded a model, but it generated no text ({text!r}).",
            "The LoRA did not apply in llama.cpp: check that llama-cpp-python and gguf are the tested versions "
            f"(see pyproject.toml) and run `twin train --smoke` again; the files are in {work}.",
        )
    return {
        "ok": True,
        "text": text,
        "generated_tokens": tokens,
        "steps": timeline,
        "artifacts": artifacts,
        "perplexity": report["perplexity"],
    }
