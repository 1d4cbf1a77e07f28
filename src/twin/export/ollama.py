"""Ollama: Modelfile rendering and registration over the HTTP API (blobs + /api/create + smoke test)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from twin.chat_template import FAMILIES, TemplateFamily
from twin.errors import InvalidInput, Unavailable

DEFAULT_HOST = "http://127.0.0.1:11434"
DEFAULT_SAMPLING: dict[str, Any] = {"temperature": 0.7, "top_p": 0.9, "repeat_penalty": 1.1, "num_ctx": 4096}
DEFAULT_SYSTEM = "You write in the owner's personal style: concise, direct, natural."


@dataclass
class ModelSpec:
    """What gets registered: base, optional adapter, template family, system prompt, parameters."""

    name: str
    base: Path | str  # a GGUF file (uploaded as a blob) or an existing Ollama model name
    family: TemplateFamily
    adapter: Path | None = None
    system: str = DEFAULT_SYSTEM
    sampling: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_SAMPLING))

    def parameters(self) -> dict[str, Any]:
        return {**self.sampling, "stop": list(self.family.stop)}


def _quote(text: str) -> str:
    if '"""' in text:
        raise InvalidInput('Modelfile text may not contain triple quotes (""").', "Edit the system prompt.")
    return f'"""{text}"""'


def _ref(path: Path, folder: Path | None) -> str:
    return f"./{path.name}" if folder is not None and path.parent.resolve() == folder.resolve() else str(path)


def render_modelfile(spec: ModelSpec, folder: Path | None = None) -> str:
    """Modelfile text; files inside `folder` (where the Modelfile lives) are referenced relatively."""
    lines = [f"FROM {_ref(spec.base, folder) if isinstance(spec.base, Path) else spec.base}"]
    if spec.adapter is not None:
        lines.append(f"ADAPTER {_ref(spec.adapter, folder)}")
    lines.append(f"TEMPLATE {_quote(spec.family.ollama)}")
    lines.append(f"SYSTEM {_quote(spec.system)}")
    for key, value in spec.parameters().items():
        for v in value if isinstance(value, list) else [value]:
            lines.append(f"PARAMETER {key} {json.dumps(v) if isinstance(v, str) else v}")
    return "\n".join(lines) + "\n"


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


class OllamaRegistrar:
    """Uploads blobs, creates the model, and checks it answers sanely."""

    def __init__(self, host: str = DEFAULT_HOST, timeout: float = 600.0) -> None:
        self.host = host.rstrip("/")
        self.client = httpx.Client(base_url=self.host, timeout=timeout)

    def _call(self, method: str, path: str, **kw: Any) -> httpx.Response:
        try:
            return self.client.request(method, path, **kw)
        except httpx.HTTPError as exc:
            raise Unavailable(
                f"Cannot reach Ollama at {self.host}: {exc}", "Start it with `ollama serve`, or pass --ollama-host."
            ) from None

    def upload(self, path: Path) -> str:
        digest = file_digest(path)
        if self._call("HEAD", f"/api/blobs/{digest}").status_code == 200:
            return digest
        with path.open("rb") as f:
            r = self._call("POST", f"/api/blobs/{digest}", content=f)
        if r.status_code not in (200, 201):
            raise Unavailable(f"Ollama refused blob {path.name}: {r.text.strip()}", "Check the Ollama server log.")
        return digest

    def create(self, spec: ModelSpec) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": spec.name,
            "template": spec.family.ollama,
            "system": spec.system,
            "parameters": spec.parameters(),
            "stream": False,
        }
        if isinstance(spec.base, Path):
            body["files"] = {spec.base.name: self.upload(spec.base)}
        else:
            body["from"] = spec.base
        if spec.adapter is not None:
            body["adapters"] = {spec.adapter.name: self.upload(spec.adapter)}
        r = self._call("POST", "/api/create", json=body)
        if r.status_code != 200:
            raise Unavailable(
                f"Ollama could not create '{spec.name}': {r.text.strip()}",
                "Check that the base model exists and the blobs were uploaded.",
            )
        return {"request": {k: v for k, v in body.items() if k != "stream"}, "response": r.json()}

    def smoke(
        self, spec: ModelSpec, prompt: str = "Write one short sentence saying hello.", max_tokens: int = 64
    ) -> dict[str, Any]:
        """Generate through the registered model; fail loudly on template-mismatch symptoms."""
        r = self._call(
            "POST",
            "/api/chat",
            json={
                "model": spec.name,
                "stream": False,
                "messages": [{"role": "user", "content": prompt}],
                "options": {"num_predict": max_tokens, "temperature": 0},
            },
        )
        if r.status_code != 200:
            raise Unavailable(
                f"Smoke generation through '{spec.name}' failed: {r.text.strip()}",
                "Check `ollama show` for the model and the server log.",
            )
        data = r.json()
        text = (data.get("message") or {}).get("content", "")
        problems = template_symptoms(text, prompt, data.get("done_reason"), spec.family)
        if problems:
            raise InvalidInput(
                f"Model '{spec.name}' answers like its chat template is wrong: {'; '.join(problems)}."
                f" Output: {text[:200]!r}",
                "Export again (the Modelfile TEMPLATE must match training's), or serve the "
                "merged GGUF, which embeds the template.",
            )
        return {"text": text, "done_reason": data.get("done_reason")}


def template_symptoms(text: str, prompt: str, done_reason: str | None, family: TemplateFamily) -> list[str]:
    """Signs that serving formats prompts differently from training."""
    problems = []
    if not text.strip():
        problems.append("empty output")
    if done_reason == "length":
        problems.append("never stopped (hit the token limit)")
    if prompt.strip() and prompt.strip() in text:
        problems.append("echoed the prompt")
    markers = {m for f in FAMILIES.values() for m in (*f.stop, f.marker, f.assistant_prefix.strip())}
    leaked = [s for s in markers | set(family.stop) if s and s in text]
    if leaked:
        problems.append(f"template tokens in the output ({', '.join(sorted(set(leaked)))})")
    return problems
