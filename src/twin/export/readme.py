"""The export README: launch commands for Ollama, llama.cpp and vLLM with this export's exact paths,
and the system prompt and chat template the model was trained with."""

from __future__ import annotations

from pathlib import Path

from twin.export.ollama import ModelSpec
from twin.train.rundir import RunDir


def _prompts(prompts: dict[str, str]) -> str:
    if not prompts:
        return "The training data had no system prompt.\n"
    lines = []
    for channel, text in prompts.items():
        label = (
            "Every request"
            if channel == "default"
            else f"Writing {'an email' if channel == 'email' else 'a chat message'}"
        )
        lines.append(f"{label} (`{channel}`):\n\n    {text}\n")
    return "\n".join(lines)


def render_readme(spec: ModelSpec, run: RunDir, checkpoint: Path, folder: Path, prompts: dict[str, str]) -> str:
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

## Draft with it in twin

    twin model use {spec.name}
    twin write "Draft a reply to my colleague thanking them for their help"

## The prompt it was trained with

Send this system prompt with every request: a LoRA answers best with the prompt it learned.
The Modelfile's SYSTEM carries it for Ollama.

{_prompts(prompts)}
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
