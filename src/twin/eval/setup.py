"""Build a style evaluation from a profile: the base model the adapter was trained on (or the profile's
current one), the variants, the dataset's style card and an embedder when one is installed."""

from __future__ import annotations

import json
from pathlib import Path

from twin.errors import InvalidInput, NotFound, TwinError
from twin.eval.heldout import read_prompts
from twin.eval.metrics import Embedder
from twin.eval.style import Setup, Variant, few_shot, trained, zero_shot
from twin.models.activate import active_record, config_for
from twin.models.gguf_header import read_header
from twin.models.store import ModelRecord, for_run
from twin.profiles import Profile
from twin.providers import registry
from twin.providers.llm import LLM, LLMConfig, load_llm_config
from twin.style.card import StyleCard


def _llm(cfg: LLMConfig) -> LLM:
    llm: LLM = registry.create("llm", cfg.backend, **cfg.backend_kwargs())
    return llm


def _lora_record(profile: Profile, run: str) -> ModelRecord:
    """The GGUF LoRA export of `run`, exported now when there is none yet."""
    record = for_run(profile, run)
    if record is not None and record.kind == "lora":
        return record
    from twin.export.pipeline import ExportOptions
    from twin.export.to_profile import export_to_profile

    name = run if record is None else f"{run}-lora"
    export_to_profile(profile, run, ExportOptions(name=name))
    found = for_run(profile, run)
    assert found is not None
    return found


def _base_config(profile: Profile, record: ModelRecord | None) -> LLMConfig:
    cfg = load_llm_config(profile)
    if record is not None and record.base_gguf:
        return LLMConfig(backend="llamacpp", model=record.base_gguf, n_ctx=cfg.n_ctx)
    current = active_record(profile, cfg)
    if current is not None and current.kind == "lora" and current.base_gguf:
        return LLMConfig(backend="llamacpp", model=current.base_gguf, n_ctx=cfg.n_ctx)
    return cfg.model_copy(update={"lora_path": None, "active_model": None})


def _base_size(cfg: LLMConfig) -> tuple[str, int | None]:
    from twin.train.base_choice import params_from_label

    if cfg.backend != "llamacpp":
        return f"{cfg.backend}:{cfg.model}", None
    # without a model set, llama.cpp runs the embedded default GGUF: ask the backend where it is
    path = Path(cfg.model) if cfg.model else Path(_llm(cfg).model_path)  # type: ignore[attr-defined]
    try:
        label = str(read_header(path).get("general.size_label") or "")
    except (ValueError, OSError):
        label = ""
    return path.stem, params_from_label(label) or params_from_label(path.name)


def embedder() -> Embedder | None:
    """The embedded sentence embedder, when an embeddings backend is installed."""
    try:
        found: Embedder = registry.create("embeddings", "minilm")
    except (TwinError, ImportError):
        return None
    return found


def build_setup(profile: Profile, run: str | None = None, dataset: str | None = None) -> Setup:
    record = _lora_record(profile, run) if run else None
    name = dataset or (record.dataset if record and record.dataset else "default")
    dataset_dir = profile.dataset_dir(name)
    read_prompts(dataset_dir, 1)  # a clear error before any model loads
    card_path, manifest_path = dataset_dir / "style_card.json", dataset_dir / "manifest.json"
    if not (card_path.is_file() and manifest_path.is_file()):
        raise NotFound(f"Dataset '{name}' has no style card.", f"Rebuild it: twin dataset build --name {name}")
    card = StyleCard.model_validate_json(card_path.read_text(encoding="utf-8"))
    owner = json.loads(manifest_path.read_text(encoding="utf-8")).get("owner") or "the owner"
    base_cfg = _base_config(profile, record)
    base = _llm(base_cfg)
    held_out = frozenset(p.conversation_id for p in read_prompts(dataset_dir, 10**6))
    variants = [
        Variant("base", base, zero_shot(owner)),
        Variant("few_shot", base, few_shot(profile, owner, card, held_out)),
    ]
    if record is not None:
        if not record.system_prompts:
            raise InvalidInput(f"Model '{record.name}' has no training prompt recorded.", "Export the run again.")
        adapter = _llm(config_for(record, "llamacpp", load_llm_config(profile)))
        variants.append(Variant("adapter", adapter, trained(record.system_prompts, record.main_channel)))
    label, params = _base_size(base_cfg)
    return Setup(profile, dataset_dir, owner, card, label, params, variants, run)
