"""Base models: aliases, local checkpoints and GGUF files, resolved offline only.

An alias resolves to a folder in the local Hugging Face cache (never a download). A GGUF file is
dequantized once into a plain Hugging Face checkpoint (saved without its quantization config, which
PEFT would otherwise refuse to train) and cached next to twin's other assets.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from twin.errors import NotFound
from twin.profiles import Profile
from twin.train.aliases import ALIASES, hf_cache_snapshot, packaged_gguf
from twin.train.assets import cache_dir


@dataclass(frozen=True)
class ResolvedBase:
    """A base model ready for training: a Hugging Face checkpoint folder, plus its GGUF source if any."""

    spec: str  # what the user asked for
    path: Path  # Hugging Face checkpoint folder (config.json, weights, tokenizer)
    gguf: Path | None  # the GGUF it came from (usable directly as Ollama FROM / llama.cpp base)


def dequantize_gguf(gguf_path: Path) -> Path:
    """A float32 Hugging Face checkpoint of a GGUF model (cached by file content digest)."""
    digest = hashlib.sha256(
        f"{gguf_path.resolve()}:{gguf_path.stat().st_size}:{gguf_path.stat().st_mtime_ns}".encode()
    ).hexdigest()[:16]
    out = cache_dir() / f"gguf-{gguf_path.stem}-{digest}"
    if (out / "config.json").is_file():
        return out
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name)
    model = AutoModelForCausalLM.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name)
    # A model loaded from GGUF carries a quantization config; PEFT refuses to train such a model and
    # from_pretrained would try to re-read the GGUF, so the checkpoint is written without it.
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    setattr(model, "hf_quantizer", None)  # noqa: B010 - the attribute is typed as never None
    model.config.name_or_path = str(gguf_path)
    tmp = Path(tempfile.mkdtemp(dir=cache_dir(), prefix=".gguf-"))
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    (tmp / "twin_source_gguf.txt").write_text(str(gguf_path.resolve()), encoding="utf-8")
    if out.exists():
        shutil.rmtree(out)
    os.replace(tmp, out)
    return out


def _registered(spec: str, profile: Profile | None) -> str:
    """A model registered in the profile (`twin model add`) stands for its path."""
    if profile is None or not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,62}", spec):
        return spec
    from twin.models.store import list_models

    for m in list_models(profile):
        if m.name == spec and (m.checkpoint or m.model_gguf):
            return m.checkpoint or m.model_gguf or spec
    return spec


def _available_hint(profile: Profile | None) -> str:
    from twin.train.base_choice import available_bases, describe

    return f"On this machine: {describe(available_bases(profile))}."


def resolve_base(spec: str, profile: Profile | None = None) -> ResolvedBase:
    """Resolve an alias, registered model, checkpoint folder or GGUF file to a local checkpoint; never downloads."""
    spec = _registered(spec, profile)
    path = Path(spec).expanduser()
    if path.is_file() and path.suffix == ".gguf":
        return ResolvedBase(spec, dequantize_gguf(path), path.resolve())
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise NotFound(
                f"{path} is not a Hugging Face checkpoint (no config.json).",
                "Point --base at a folder with config.json and weights, or at a .gguf file.",
            )
        return ResolvedBase(spec, path.resolve(), None)
    key = spec.lower()
    if key not in ALIASES:
        raise NotFound(
            f"Unknown base model '{spec}'.",
            f"Use a local folder, a .gguf file, a model added with `twin model add`, or one of: "
            f"{', '.join(sorted(ALIASES))}. {_available_hint(profile)}",
        )
    repo_id, packaged = ALIASES[key]
    snapshot = hf_cache_snapshot(repo_id)
    if snapshot is not None:
        return ResolvedBase(spec, snapshot, None)
    gguf = packaged_gguf(packaged) if packaged else None
    if gguf is not None:
        return ResolvedBase(spec, dequantize_gguf(gguf), gguf)
    raise NotFound(
        f"Base model '{spec}' ({repo_id}) is not on this machine; twin never downloads weights at run time.",
        f"{_available_hint(profile)} Leave out --base to use the best of them, fetch it yourself "
        f"(`huggingface-cli download {repo_id}`), or register a local copy with `twin model add PATH`.",
    )
