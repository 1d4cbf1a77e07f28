"""`twin export`: a finished run → GGUF LoRA (or merged/quantized GGUF), Modelfile, README, Ollama.

The Modelfile's SYSTEM and TEMPLATE and the README carry the very prompt and chat template training
used; the model record (model.json) keeps each channel's training prompt for the writing service. A
base GGUF that lives in a package or virtualenv is referenced through a stable copy (see
twin.models.store.stable_base), never by its path inside .venv."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from twin.chat_template import get_family
from twin.errors import InvalidInput
from twin.export.gguf_lora import adapter_to_gguf
from twin.export.ollama import DEFAULT_HOST, DEFAULT_SYSTEM, ModelSpec, OllamaRegistrar, render_modelfile
from twin.export.readme import render_readme
from twin.profiles import write_text_atomic
from twin.train.rundir import RunDir, now

Event = Callable[[dict[str, Any]], None]
Stable = Callable[[Path], Path]


@dataclass
class ExportOptions:
    name: str
    merge: bool = False
    quantize: str | None = None
    register: bool = False
    host: str = DEFAULT_HOST
    ollama_from: str | None = None  # use an existing Ollama model as FROM instead of a GGUF file
    system: str | None = None  # default: the system prompt training used, else DEFAULT_SYSTEM


def run_prompts(manifest: dict[str, Any]) -> tuple[dict[str, str], str | None]:
    """(channel → training system prompt, main channel) from a run manifest (old runs: one prompt)."""
    prompts = dict(manifest.get("system_prompts") or {})
    if not prompts and manifest.get("system_prompt"):
        prompts = {"default": manifest["system_prompt"]}
    main = manifest.get("main_channel")
    return prompts, main if main in prompts else next(iter(prompts), None)


def _base_gguf(manifest: dict[str, Any], folder: Path, template: str, emit: Event, stable: Stable) -> Path:
    """The base as GGUF: a stable copy of the file it was dequantized from, else converted from the checkpoint."""
    if manifest["base"].get("gguf"):
        return stable(Path(manifest["base"]["gguf"]))
    from twin.export.gguf_model import model_to_gguf

    emit({"event": "convert_base"})
    return model_to_gguf(Path(manifest["base"]["checkpoint"]), folder / "base.f16.gguf", template=template)


def _tokenizer_gguf(manifest: dict[str, Any]) -> Path | None:
    gguf = manifest["base"].get("gguf")
    return Path(gguf) if gguf else None


def _check_finished(run: RunDir, manifest: dict[str, Any]) -> None:
    if manifest.get("status") != "complete" or not run.adapter.is_dir():
        raise InvalidInput(
            f"Run '{run.path.name}' has not finished (status: {manifest.get('status')}).",
            f"Finish it first: twin train --resume --run {run.path.name}",
        )


def _merged(run: RunDir, manifest: dict[str, Any], folder: Path, opts: ExportOptions, emit: Event) -> Path:
    from twin.export.gguf_model import model_to_gguf, quantize

    emit({"event": "merge"})
    model = model_to_gguf(
        Path(manifest["base"]["checkpoint"]),
        folder / f"{opts.name}.f16.gguf",
        template=run.template_path.read_text(encoding="utf-8"),
        adapter=run.adapter,
        tokenizer_gguf=_tokenizer_gguf(manifest),
        name=opts.name,
    )
    if opts.quantize:
        emit({"event": "quantize", "type": opts.quantize})
        quantized = quantize(model, folder / f"{opts.name}.{opts.quantize.lower()}.gguf", opts.quantize)
        model.unlink()
        model = quantized
    return model


def export_run(
    run: RunDir, folder: Path, opts: ExportOptions, on_event: Event | None = None, stable: Stable | None = None
) -> dict[str, Any]:
    """Write the export folder and optionally register it in Ollama; returns what was written."""
    emit = on_event or (lambda _e: None)
    manifest = run.manifest()
    _check_finished(run, manifest)
    if opts.quantize and not opts.merge:
        raise InvalidInput("--quantize applies to a merged model.", "Add --merge, or drop --quantize.")
    family = get_family(manifest["template"]["family"])
    template = run.template_path.read_text(encoding="utf-8")
    checkpoint = Path(manifest["base"]["checkpoint"])
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(run.template_path, folder / "template.jinja")
    out: dict[str, Any] = {"folder": str(folder), "run": run.path.name, "name": opts.name}
    adapter_gguf: Path | None = None
    if opts.merge:
        base: Path | str = _merged(run, manifest, folder, opts, emit)
        out["model_gguf"] = str(base)
    else:
        emit({"event": "convert_adapter"})
        adapter_gguf = adapter_to_gguf(
            run.adapter, checkpoint / "config.json", folder / f"{opts.name}-lora.gguf", name=opts.name
        )
        out["adapter_gguf"] = str(adapter_gguf)
        base = opts.ollama_from or _base_gguf(manifest, folder, template, emit, stable or (lambda p: p))
        out["base_gguf" if isinstance(base, Path) else "ollama_from"] = str(base)
    prompts, main = run_prompts(manifest)
    system = opts.system or (prompts[main] if main else DEFAULT_SYSTEM)
    spec = ModelSpec(name=opts.name, base=base, family=family, adapter=adapter_gguf, system=system)
    write_text_atomic(folder / "Modelfile", render_modelfile(spec, folder))
    write_text_atomic(folder / "README.md", render_readme(spec, run, checkpoint, folder, prompts))
    out.update(
        modelfile=str(folder / "Modelfile"),
        readme=str(folder / "README.md"),
        family=family.name,
        system_prompts=prompts,
        main_channel=main,
    )
    if opts.register:
        reg = OllamaRegistrar(opts.host)
        emit({"event": "register", "host": opts.host})
        out["created"] = reg.create(spec)["response"]
        out["smoke"] = reg.smoke(spec)
        out["ollama_model"], out["ollama_host"] = opts.name, opts.host
        emit({"event": "smoke_ok", "text": out["smoke"]["text"]})
    write_text_atomic(folder / "export.json", json.dumps(out | {"exported": now()}, indent=2, ensure_ascii=False))
    return out
