"""DatasetConfig: every knob of the dataset builder, with help text, saved as config.yaml next to
the output so a build can be repeated exactly."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from twin.errors import InvalidInput, NotFound

DEFAULT_SYSTEM_PROMPT = (
    "You are {owner}'s writing twin. Write exactly as {owner} would: {style}. "
    "Return only the draft text, with no preface, notes or quotation marks."
)
EXCLUDED_FLAGS = ["list", "auto_reply", "bcc_only", "bcc", "bounce", "forwarded"]
EXCLUDED_KINDS = ["system", "media", "deleted"]


class DatasetConfig(BaseModel):
    """How messages become training samples. Unknown keys are rejected so typos are caught."""

    model_config = ConfigDict(extra="forbid")

    seed: int = Field(
        13,
        description="Seed for every choice (phrasings, selection, split): same seed, "
        "same input → byte-identical output.",
    )
    # pairing
    merge_gap_minutes: float = Field(
        10.0, ge=0, description="Consecutive chat messages of one sender closer than this are merged into one turn."
    )
    session_gap_hours: float = Field(
        6.0,
        gt=0,
        description="A chat silence longer than this starts a new session; context never crosses a session boundary.",
    )
    max_context_turns: int = Field(
        6, ge=1, le=50, description="Most preceding turns kept as context for a chat sample."
    )
    max_context_chars: int = Field(
        2000, ge=100, description="Most characters of context kept for a sample (older turns are dropped first)."
    )
    include_new_emails: bool = Field(
        True, description="Turn owner emails that answer nothing into drafting instructions built from their metadata."
    )
    instructions: Literal["template", "llm"] = Field(
        "template",
        description="How instructions for new "
        "emails are written: varied templates, or the "
        "configured LLM (back-translation).",
    )
    llm_backend: str | None = Field(
        None, description="LLM backend for --instructions llm (default: the profile's llm.json)."
    )
    # system prompt
    owner_name: str | None = Field(
        None,
        description="Name used in the system prompt (default: the profile identity's first name, else 'the owner').",
    )
    style: str | None = Field(
        None, description="One line describing the owner's style; empty means it is derived from the selected samples."
    )
    system_prompt: str = Field(
        DEFAULT_SYSTEM_PROMPT, description="System prompt template; {owner} and {style} are filled in."
    )
    # filters
    min_chars: int = Field(20, ge=1, description="Drop assistant texts shorter than this many characters.")
    languages: list[str] = Field(
        default_factory=lambda: ["en"], description="Keep only these languages (ISO 639-1); empty keeps every language."
    )
    language_scope: Literal["conversation", "author"] = Field(
        "conversation", description="Detect the language once per conversation, or per author within a conversation."
    )
    keep_undetected_language: bool = Field(
        True, description="Keep samples whose conversation has too little text to detect a language."
    )
    excluded_flags: list[str] = Field(
        default_factory=lambda: list(EXCLUDED_FLAGS), description="Messages carrying any of these flags are excluded."
    )
    excluded_kinds: list[str] = Field(
        default_factory=lambda: list(EXCLUDED_KINDS), description="Messages of these kinds are excluded."
    )
    max_tokens: int = Field(
        1024,
        ge=128,
        le=32768,
        description="Token budget of one sample (the "
        "training sequence length, usually 512–1024); longer samples lose context "
        "first, then are dropped.",
    )
    # redaction
    redact: bool = Field(True, description="Replace personal data with typed placeholders like <EMAIL_1>.")
    redact_types: list[str] = Field(
        default_factory=lambda: ["EMAIL", "PHONE", "URL", "CARD", "IBAN", "ADDRESS", "CODE", "PASSWORD", "SECRET"],
        description="Which kinds of personal data are redacted.",
    )
    allow_list: list[str] = Field(
        default_factory=list,
        description="Values never redacted (matched case-insensitively), e.g. a public work address.",
    )
    # dedup and selection
    dedup_threshold: float = Field(
        0.85,
        gt=0,
        le=1,
        description="Jaccard similarity above which two assistant texts are near-duplicates (MinHash LSH).",
    )
    dedup_num_perm: int = Field(128, ge=16, le=512, description="MinHash permutations (accuracy vs speed).")
    target_max: int = Field(
        1000, ge=1, description="Most samples to keep; more are selected for quality and diversity, not truncated."
    )
    target_min: int = Field(500, ge=1, description="Samples wanted for a good run (reported).")
    warn_below: int = Field(200, ge=0, description="Warn when fewer samples than this remain.")
    refuse_below: int = Field(50, ge=0, description="Refuse to write fewer samples than this unless forced.")
    # split
    val_fraction: float = Field(
        0.1,
        ge=0,
        lt=1,
        description="Share of samples for validation, split by conversation so no conversation is in both.",
    )

    @model_validator(mode="after")
    def _check(self) -> DatasetConfig:
        if self.target_min > self.target_max:
            raise ValueError("target_min must not exceed target_max")
        self.languages = sorted({lang.lower() for lang in self.languages})
        return self


def load_config(path: Path | None, **overrides: object) -> DatasetConfig:
    """Read a YAML config (or the defaults) and apply non-None overrides; errors name the bad field."""
    data: dict[str, object] = {}
    if path is not None:
        if not path.is_file():
            raise NotFound(f"Dataset config '{path}' does not exist.", "Check the path given to --config.")
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise InvalidInput(f"Dataset config '{path}' is not valid YAML: {exc}.", "Fix the YAML syntax.") from None
        if not isinstance(loaded, dict):
            raise InvalidInput(f"Dataset config '{path}' must be a mapping.", "Write key: value lines.")
        data.update(loaded)
    data.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return DatasetConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "config"
        raise InvalidInput(
            f"Invalid dataset config: {where}: {first['msg']}.",
            "See `twin dataset build --help` and the field descriptions.",
        ) from None


def dump_config(config: DatasetConfig) -> str:
    """YAML with each field's description as a comment above it (stable order)."""
    lines = ["# twin dataset config — edit and pass back with --config"]
    data = config.model_dump(mode="json")
    for name, field in DatasetConfig.model_fields.items():
        lines.append(f"# {field.description}")
        lines.append(yaml.safe_dump({name: data[name]}, allow_unicode=True, sort_keys=False, width=1000).rstrip())
    return "\n".join(lines) + "\n"
