"""Which model drafts for a profile. Activation writes <profile>/llm.json — the one file every surface
(`twin write`, the API, persona chat) reads through twin.providers.llm.load_llm_config/open_llm — and
names the active model there, so drafting can find the prompt that model was trained with."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from twin.errors import InvalidInput, NotFound
from twin.models.store import ModelRecord, get
from twin.profiles import Profile
from twin.providers.llm import LLMConfig, config_path, save_llm_config

Runtime = Literal["auto", "llamacpp", "ollama"]


def stored_config(profile: Profile) -> LLMConfig:
    """llm.json as written (no environment overrides), or the defaults."""
    path = config_path(profile)
    return LLMConfig.model_validate_json(path.read_text("utf-8")) if path.is_file() else LLMConfig()


def _exists(path: str | None, what: str, record: ModelRecord) -> str:
    if not path or not Path(path).is_file():
        raise NotFound(
            f"The {what} of model '{record.name}' is missing ({path}).",
            f"Export it again: twin export --run {record.run} --name {record.name} --activate"
            if record.run
            else f"Register it again: twin model add PATH --name {record.name}",
        )
    return path


def config_for(record: ModelRecord, runtime: Runtime, current: LLMConfig) -> LLMConfig:
    """The LLM config that serves `record` (other settings such as n_ctx and URLs are kept)."""
    keep = current.model_dump(exclude={"backend", "model", "lora_path", "active_model"}, exclude_unset=True)
    use_ollama = runtime == "ollama" or (runtime == "auto" and record.kind == "ollama")
    if use_ollama:
        if not record.ollama_model:
            raise InvalidInput(
                f"Model '{record.name}' is not registered in Ollama.",
                f"Register it (twin export --run {record.run} --name {record.name} --register), "
                "or use --runtime llamacpp.",
            )
        keep |= {"ollama_url": record.ollama_host} if record.ollama_host else {}
        return LLMConfig(backend="ollama", model=record.ollama_model, active_model=record.name, **keep)
    if record.kind == "lora":
        base = _exists(record.base_gguf, "base GGUF", record)
        lora = _exists(record.adapter_gguf, "GGUF LoRA adapter", record)
        return LLMConfig(backend="llamacpp", model=base, lora_path=lora, active_model=record.name, **keep)
    if record.kind in ("merged", "local_gguf"):
        model = _exists(record.model_gguf, "GGUF model", record)
        return LLMConfig(backend="llamacpp", model=model, active_model=record.name, **keep)
    raise InvalidInput(
        f"Model '{record.name}' is a Hugging Face checkpoint: it is a base to train on, and llama.cpp drafts "
        "from GGUF files.",
        f"Train on it (twin train --base {record.name}) and activate the export, or register a GGUF of it.",
    )


def activate(profile: Profile, name: str, runtime: Runtime = "auto") -> LLMConfig:
    """Make model `name` the profile's writing model; returns the config written to llm.json."""
    cfg = config_for(get(profile, name), runtime, stored_config(profile))
    save_llm_config(profile, cfg)
    return cfg


def use_base(profile: Profile) -> LLMConfig:
    """Draft with the embedded base model again (no adapter)."""
    keep = stored_config(profile).model_dump(exclude={"backend", "model", "lora_path", "active_model"})
    cfg = LLMConfig(backend="llamacpp", **keep)
    save_llm_config(profile, cfg)
    return cfg


def active_record(profile: Profile | None, cfg: LLMConfig) -> ModelRecord | None:
    """The record of the active model when `cfg` still serves it (not when overridden to another model)."""
    if profile is None or not cfg.active_model:
        return None
    try:
        record = get(profile, cfg.active_model)
    except (NotFound, InvalidInput):
        return None
    try:
        expected = config_for(record, "ollama" if cfg.backend == "ollama" else "llamacpp", cfg)
    except (NotFound, InvalidInput):
        return None
    same = (expected.backend, expected.model, expected.lora_path) == (cfg.backend, cfg.model, cfg.lora_path)
    return record if same else None
