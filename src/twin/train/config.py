"""TrainConfig: every knob of a LoRA run, with the seed's defaults and a help text on each field."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from twin.errors import InvalidInput, NotFound

MAX_RANK_WITHOUT_FORCE = 32
ALLOWED_TARGETS = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}


class TrainConfig(BaseModel):
    """A LoRA/QLoRA fine-tuning run. Defaults follow the project's training plan (style LoRA on Qwen2.5)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    base: str = Field(
        "auto",
        description="Base model: auto (the best one on this machine that fits: a model added with "
        "`twin model add`, a known alias in the local Hugging Face cache, else the embedded SmolLM2-135M), "
        "an alias (listed by `twin train --help`), a model name from `twin model list`, a local Hugging Face "
        "checkpoint folder, or a GGUF file (dequantized before training).",
    )
    rank: int = Field(
        16,
        ge=1,
        description="LoRA rank r. 8 is enough for style only; 16 for style + task. "
        "Ranks above 32 overfit small personal datasets and are refused without --force.",
    )
    alpha: int = Field(32, ge=1, description="LoRA alpha; the update is scaled by alpha / rank.")
    dropout: float = Field(0.05, ge=0.0, lt=1.0, description="Dropout on the LoRA path (mild, against overfitting).")
    target_modules: list[str] = Field(
        default_factory=lambda: ["q_proj", "v_proj"],
        description="Projections that get adapters: q_proj and v_proj at least; k_proj and o_proj are optional extras.",
    )
    learning_rate: float = Field(2e-4, gt=0, description="Peak learning rate.")
    lr_scheduler: Literal["cosine", "linear", "constant_with_warmup"] = Field(
        "cosine", description="Learning-rate schedule after warmup."
    )
    warmup_ratio: float = Field(0.06, ge=0.0, le=0.5, description="Share of steps spent warming up (5–10%).")
    batch_size: int = Field(4, ge=1, description="Sequences per device per step.")
    grad_accum: int = Field(4, ge=1, description="Steps whose gradients are summed before an optimizer update.")
    max_seq_len: int = Field(
        1024,
        ge=16,
        le=32768,
        description="Longest tokenized conversation; longer ones are "
        "truncated (512–1024 fits 24 GB; 2048+ risks running out of memory).",
    )
    epochs: float = Field(2.0, gt=0, le=3.0, description="Passes over the training set (1–3; more causes mimicry).")
    max_steps: int | None = Field(None, ge=1, description="Stop after this many optimizer steps (overrides epochs).")
    eval_steps: int = Field(50, ge=1, description="Run validation every this many optimizer steps.")
    save_steps: int = Field(50, ge=1, description="Write a resumable checkpoint every this many optimizer steps.")
    save_total_limit: int = Field(2, ge=1, description="Checkpoints kept on disk (older ones are deleted).")
    logging_steps: int = Field(1, ge=1, description="Record loss and learning rate every this many steps.")
    seed: int = Field(42, description="Random seed for initialization, shuffling and dropout.")
    quantization: Literal["auto", "nf4", "none"] = Field(
        "auto",
        description="4-bit QLoRA (nf4, CUDA + bitsandbytes only) or full-precision base; auto picks "
        "nf4 when available.",
    )
    optimizer: Literal["auto", "adamw_8bit", "adamw"] = Field(
        "auto", description="AdamW 8-bit (bitsandbytes on CUDA) or plain AdamW; auto picks 8-bit when supported."
    )
    precision: Literal["auto", "bf16", "fp16", "fp32"] = Field(
        "auto", description="Training precision: bf16 where the GPU supports it, fp16 on other GPUs, fp32 on CPU/MPS."
    )
    device: Literal["auto", "cuda", "mps", "cpu"] = Field("auto", description="Where to train.")
    gradient_checkpointing: bool = Field(False, description="Trade compute for memory (useful for 7B on 24 GB).")
    eval_samples: int = Field(64, ge=1, description="Most validation conversations used for loss/perplexity.")
    report_drafts: int = Field(3, ge=0, description="Validation prompts drafted by base and adapter in the report.")
    draft_max_new_tokens: int = Field(64, ge=1, description="Length limit of each report draft.")
    force: bool = Field(False, description="Allow settings outside the recommended range (e.g. rank > 32).")

    @model_validator(mode="after")
    def _check(self) -> TrainConfig:
        if self.rank > MAX_RANK_WITHOUT_FORCE and not self.force:
            raise ValueError(f"rank {self.rank} is above {MAX_RANK_WITHOUT_FORCE}; pass --force to allow it")
        unknown = set(self.target_modules) - ALLOWED_TARGETS
        if unknown:
            raise ValueError(f"target_modules: unknown {sorted(unknown)}; allowed: {sorted(ALLOWED_TARGETS)}")
        if not {"q_proj", "v_proj"} <= set(self.target_modules):
            raise ValueError("target_modules must include q_proj and v_proj")
        return self

    @property
    def effective_batch(self) -> int:
        return self.batch_size * self.grad_accum


def build_config(path: Path | None = None, **overrides: object) -> TrainConfig:
    """A TrainConfig from a YAML file (optional) plus explicit overrides (None values are ignored)."""
    data: dict[str, object] = {}
    if path is not None:
        if not path.is_file():
            raise NotFound(f"Training config {path} does not exist.", "Check the --config path.")
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(loaded, dict):
            raise InvalidInput(f"{path} must hold a mapping of TrainConfig fields.", "See `twin train --help`.")
        data.update(loaded)
    data.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return TrainConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'config'}: {e['msg']}" for e in exc.errors())
        raise InvalidInput(
            f"Invalid training config: {problems}", "Fix the listed fields (ranks above 32 need --force)."
        ) from None


def field_help() -> dict[str, str]:
    """Field name → help text, for --help output and docs."""
    return {name: f.description or "" for name, f in TrainConfig.model_fields.items()}
