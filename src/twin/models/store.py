"""The profile's writing models: one folder per model under <profile>/models/ with a model.json record.

A record is an export of a trained run (a GGUF LoRA on a base GGUF, or a merged GGUF, optionally also
registered in Ollama) or a local model the user registered (`twin model add`: a GGUF or a Hugging Face
checkpoint, referenced where it lies). Base GGUFs that live inside a virtualenv or a package are copied
(hard-linked where possible) into models/_bases/, so rebuilding the venv never breaks a model."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from twin.errors import AlreadyExists, InvalidInput, NotFound
from twin.ids import check_name
from twin.models.gguf_header import read_header
from twin.profiles import Profile, write_text_atomic

RECORD = "model.json"
BASES = "_bases"  # not a valid model name, so it never collides with one
Kind = Literal["lora", "merged", "ollama", "local_gguf", "local_checkpoint"]


class ModelRecord(BaseModel):
    """What a model is and how to serve it, with the prompts it was trained with."""

    model_config = ConfigDict(extra="ignore")

    name: str
    kind: Kind
    run: str | None = Field(None, description="The training run it came from.")
    dataset: str | None = None
    base: str | None = Field(None, description="The base model the run trained (alias or path).")
    base_gguf: str | None = Field(None, description="llama.cpp base model for a LoRA.")
    adapter_gguf: str | None = None
    model_gguf: str | None = Field(None, description="A merged or registered GGUF model.")
    checkpoint: str | None = Field(None, description="A registered Hugging Face checkpoint (a training base).")
    ollama_model: str | None = Field(None, description="The model's name in Ollama, once registered.")
    ollama_host: str | None = None
    family: str | None = Field(None, description="Chat template family (chatml, llama3).")
    architecture: str | None = None
    params: int | None = Field(None, description="Parameter count, when known.")
    system_prompts: dict[str, str] = Field(default_factory=dict, description="Channel → training system prompt.")
    main_channel: str | None = None
    created: str | None = None

    @property
    def trained(self) -> bool:
        return self.kind in ("lora", "merged") or (self.kind == "ollama" and self.run is not None)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def models_root(profile: Profile) -> Path:
    migrate_legacy(profile)
    return profile.models_dir


def folder(profile: Profile, name: str) -> Path:
    return models_root(profile) / check_name(name, "model name")


def save(profile: Profile, record: ModelRecord) -> Path:
    path = folder(profile, record.name) / RECORD
    write_text_atomic(path, record.model_dump_json(indent=2, exclude_none=True) + "\n")
    return path


def list_models(profile: Profile) -> list[ModelRecord]:
    root = models_root(profile)
    if not root.is_dir():
        return []
    out = []
    for d in sorted(root.iterdir()):
        if (d / RECORD).is_file() and re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,62}", d.name):
            out.append(ModelRecord.model_validate_json((d / RECORD).read_text(encoding="utf-8")))
    return out


def get(profile: Profile, name: str) -> ModelRecord:
    path = folder(profile, name) / RECORD
    if not path.is_file():
        known = ", ".join(m.name for m in list_models(profile)) or "none yet"
        raise NotFound(
            f"No model '{name}' in profile '{profile.name}' (models: {known}).",
            "See them with `twin model list`; add one with `twin export --run RUN` or `twin model add PATH`.",
        )
    return ModelRecord.model_validate_json(path.read_text(encoding="utf-8"))


def for_run(profile: Profile, run: str) -> ModelRecord | None:
    """The newest model exported from `run`, if any."""
    found = [m for m in list_models(profile) if m.run == run]
    return max(found, key=lambda m: m.created or "", default=None)


def _digest(path: Path) -> str:
    """A cheap identity of a large file: size plus the first and last MiB."""
    h = hashlib.sha256(str(path.stat().st_size).encode())
    with path.open("rb") as f:
        h.update(f.read(1 << 20))
        f.seek(max(0, path.stat().st_size - (1 << 20)))
        h.update(f.read(1 << 20))
    return h.hexdigest()[:12]


def stable_base(profile: Profile, gguf: Path) -> Path:
    """A copy of a base GGUF inside the profile's models folder (a hard link when on the same disk)."""
    root = models_root(profile)
    if gguf.resolve().is_relative_to(root.resolve()):
        return gguf
    target = root / BASES / f"{gguf.stem}-{_digest(gguf)}.gguf"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    try:
        os.link(gguf, partial)
    except OSError:
        shutil.copyfile(gguf, partial)
    os.replace(partial, target)
    return target


def safe_name(text: str) -> str:
    name = re.sub(r"[^a-z0-9_-]+", "-", text.lower()).strip("-_")[:63]
    return name or "model"


def _gguf_info(path: Path) -> tuple[str | None, str | None]:
    """(architecture, chat template family) of a GGUF model; refuses adapters and other files."""
    try:
        meta = read_header(path)
    except (ValueError, OSError) as exc:
        raise InvalidInput(
            f"{path} is not a GGUF model ({exc}).", "Pass a .gguf model file or a checkpoint folder."
        ) from None
    if meta.get("general.type") == "adapter":
        raise InvalidInput(
            f"{path} is a LoRA adapter, not a model.",
            "Register the base model it was made for; adapters come with `twin export --run RUN`.",
        )
    template = meta.get("tokenizer.chat_template") or ""
    family = "llama3" if "<|start_header_id|>" in template else "chatml" if "<|im_start|>" in template else None
    arch = meta.get("general.architecture")
    return (str(arch) if arch else None), family


def add_local(profile: Profile, path: Path, name: str | None = None) -> ModelRecord:
    """Register a local GGUF model or Hugging Face checkpoint folder (referenced, not copied)."""
    path = path.expanduser().resolve()
    name = check_name(name or safe_name(path.stem if path.is_file() else path.name), "model name")
    if (folder(profile, name) / RECORD).is_file():
        raise AlreadyExists(f"A model named '{name}' exists already.", "Pick another --name.")
    if path.is_file() and path.suffix.lower() == ".gguf":
        arch, family = _gguf_info(path)
        record = ModelRecord(name=name, kind="local_gguf", model_gguf=str(path), architecture=arch, family=family)
    elif path.is_dir() and (path / "config.json").is_file():
        cfg = json.loads((path / "config.json").read_text(encoding="utf-8"))
        record = ModelRecord(
            name=name, kind="local_checkpoint", checkpoint=str(path), architecture=cfg.get("model_type")
        )
    else:
        raise NotFound(
            f"{path} is neither a .gguf file nor a Hugging Face checkpoint folder (with config.json).",
            "Pass a local model file, e.g. qwen2.5-7b-instruct-q4_k_m.gguf, or a checkpoint folder.",
        )
    record.created = now()
    save(profile, record)
    return record


def _rewrite(path: Path, old: str, new: str) -> None:
    if path.is_file():
        text = path.read_text(encoding="utf-8")
        if old in text:
            write_text_atomic(path, text.replace(old, new))


def migrate_legacy(profile: Profile) -> list[str]:
    """Move model exports from exports/models/ (shared with imported originals) to models/."""
    legacy = profile.exports_dir / "models"
    if not legacy.is_dir():
        return []
    moved = []
    for d in sorted(legacy.iterdir()):
        target = profile.models_dir / d.name
        if not d.is_dir() or target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(d, target)
        for f in ("export.json", "Modelfile", "README.md"):
            _rewrite(target / f, str(d), str(target))
        if (target / "export.json").is_file() and not (target / RECORD).is_file():
            _record_from_export(target)
        moved.append(d.name)
    if not any(legacy.iterdir()):
        legacy.rmdir()
    return moved


def _record_from_export(target: Path) -> None:
    old = json.loads((target / "export.json").read_text(encoding="utf-8"))
    record = ModelRecord(
        name=target.name,
        kind="merged" if old.get("model_gguf") else "lora",
        run=old.get("run"),
        base_gguf=old.get("base_gguf"),
        adapter_gguf=old.get("adapter_gguf"),
        model_gguf=old.get("model_gguf"),
        family=old.get("family"),
        created=old.get("exported"),
    )
    write_text_atomic(target / RECORD, record.model_dump_json(indent=2, exclude_none=True) + "\n")
