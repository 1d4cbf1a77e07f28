"""`twin export`: a finished run → GGUF LoRA (or merged/quantized GGUF), Modelfile, README, Ollama."""

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
from twin.profiles import write_text_atomic
from twin.train.rundir import RunDir, now

Event = Callable[[dict[str, Any]], None]


@dataclass
class ExportOptions:
    name: str
    merge: bool = False
    quantize: str | None = None
    register: bool = False
    host: str = DEFAULT_HOST
    ollama_from: str | None = None  # use an existing Ollama model as FROM instead of a GGUF file
    system: str | None = None  # default: the system prompt training used, else DEFAULT_SYSTEM


def _base_gguf(manifest: dict[str, Any], folder: Path, template: str, emit: Event) -> Path:
    """The base as GGUF: the file it was dequantized from, else converted from the checkpoint."""
    if manifest["base"].get("gguf"):
        return Path(manifest["base"]["gguf"])
    from twin.export.gguf_model import model_to_gguf

    emit({"event": "convert_base"})
    return model_to_gguf(Path(manifest["base"]["checkpoint"]), folder / "base.f16.gguf", template=template)


def _tokenizer_gguf(manifest: dict[str, Any]) -> Path | None:
    gguf = manifest["base"].get("gguf")
    return Path(gguf) if gguf else None


def export_run(run: RunDir, folder: Path, opts: ExportOptions, on_event: Event | None = None) -> dict[str, Any]:
    """Write the export folder and optionally register it in Ollama; returns what was written."""
    emit = on_event or (lambda _e: None)
    manifest = run.manifest()
    if manifest.get("status") != "complete" or not run.adapter.is_dir():
        raise InvalidInput(
            f"Run '{run.path.name}' has not finished (status: {manifest.get('status')}).",
            f"Finish it first: twin train --resume --run {run.path.name}",
        )
    family = get_family(manifest["template"]["family"])
    template = run.template_path.read_text(encoding="utf-8")
    checkpoint = Path(manifest["base"]["checkpoint"])
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(run.template_path, folder / "template.jinja")
    out: dict[str, Any] = {"folder": str(folder), "run": run.path.name, "name": opts.name}
    adapter_gguf: Path | None = None
    if opts.merge:
        from twin.export.gguf_model import model_to_gguf, quantize

        emit({"event": "merge"})
        model = model_to_gguf(
            checkpoint,
            folder / f"{opts.name}.f16.gguf",
            template=template,
            adapter=run.adapter,
            tokenizer_gguf=_tokenizer_gguf(manifest),
            name=opts.name,
        )
        if opts.quantize:
            emit({"event": "quantize", "type": opts.quantize})
            quantized = quantize(model, folder / f"{opts.name}.{opts.quantize.lower()}.gguf", opts.quantize)
            model.unlink()
            model = quantized
        base: Path | str = model
        out["model_gguf"] = str(model)
    else:
        emit({"event": "convert_adapter"})
        adapter_gguf = adapter_to_gguf(
            run.adapter, checkpoint / "config.json", folder / f"{opts.name}-lora.gguf", name=opts.name
        )
        out["adapter_gguf"] = str(adapter_gguf)
        base = opts.ollama_from or _base_gguf(manifest, folder, template, emit)
        if opts.quantize:
            raise InvalidInput("--quantize applies to a merged model.", "Add --merge, or drop --quantize.")
        out["base_gguf"] = str(base)
    system = opts.system or manifest.get("system_prompt") or DEFAULT_SYSTEM
    spec = ModelSpec(name=opts.name, base=base, family=family, adapter=adapter_gguf, system=system)
    modelfile = render_modelfile(spec, folder)
    write_text_atomic(folder / "Modelfile", modelfile)
    write_text_atomic(folder / "README.md", render_readme(spec, run, checkpoint, folder))
    out.update(modelfile=str(folder / "Modelfile"), readme=str(folder / "README.md"), family=family.name)
    if opts.register:
        reg = OllamaRegistrar(opts.host)
        emit({"event": "register", "host": opts.host})
        out["created"] = reg.create(spec)["response"]
        out["smoke"] = reg.smoke(spec)
        emit({"event": "smoke_ok", "text": out["smoke"]["text"]})
    write_text_atomic(folder / "export.json", json.dumps(out | {"exported": now()}, indent=2))
    return out


def render_readme(spec: ModelSpec, run: RunDir, checkpoint: Path, folder: Path) -> str:
    """Launch commands for Ollama, llama.cpp server and vLLM, with this export's exact paths."""
    cfg = run.load_config()
    stops = " ".join(f"--stop '{s}'" for s in spec.family.stop)
    if spec.adapter is not None:
        llama = (
            f"llama-server -m {spec.base} --lora {spec.adapter} --chat-template-file "
            f"{folder / 'template.jinja'} --host 127.0.0.1 --port 8080"
        )
        py = f"python -m llama_cpp.server --model {spec.base} --lora_path {spec.adapter} --host 127.0.0.1"
    else:
        llama = f"llama-server -m {spec.base} --jinja --host 127.0.0.1 --port 8080"
        py = f"python -m llama_cpp.server --model {spec.base} --host 127.0.0.1"
    vllm = (
        f"vllm serve {checkpoint} --enable-lora --lora-modules twin={run.adapter} "
        f"--max-lora-rank {max(cfg.rank, 8)} --chat-template {folder / 'template.jinja'} "
        f"--host 127.0.0.1 --port 8000"
    )
    return f"""# {spec.name}

Exported by twin from run `{run.path.name}` (chat template family: {spec.family.name}).
Every runtime below formats prompts with the same template training used (`template.jinja`).

## Ollama

    ollama create {spec.name} -f {folder / "Modelfile"}
    ollama run {spec.name}

## llama.cpp server

    {llama}

or, with llama-cpp-python:

    {py}

## vLLM (OpenAI-compatible, LoRA served by name `twin`)

    {vllm}

Then request `"model": "twin"` from `http://127.0.0.1:8000/v1/chat/completions`.
Stop strings for clients that need them: {stops}
"""
