"""A run directory: resolved config, manifest, metrics, checkpoints, adapter and report.

runs/<run>/
  config.yaml      the resolved TrainConfig
  manifest.json    dataset hash, base model, hardware plan, library versions, status
  template.jinja   the exact chat template training used (export writes the same one)
  metrics.jsonl    one JSON object per logged step and per evaluation
  checkpoints/     resumable trainer checkpoints
  adapter/         the final PEFT adapter (safetensors)
  report.json/.md  validation perplexity base vs adapter, drafts side by side
"""

from __future__ import annotations

import json
import platform
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

from twin.errors import NotFound
from twin.profiles import write_text_atomic
from twin.train.config import TrainConfig

LIBRARIES = (
    "torch",
    "transformers",
    "peft",
    "trl",
    "accelerate",
    "safetensors",
    "gguf",
    "bitsandbytes",
    "llama-cpp-python",
)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def library_versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": platform.python_version()}
    for lib in LIBRARIES:
        try:
            out[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            out[lib] = None
    return out


class RunDir:
    def __init__(self, path: Path) -> None:
        self.path = path

    config_path = property(lambda self: self.path / "config.yaml")
    manifest_path = property(lambda self: self.path / "manifest.json")
    template_path = property(lambda self: self.path / "template.jinja")
    metrics_path = property(lambda self: self.path / "metrics.jsonl")
    checkpoints = property(lambda self: self.path / "checkpoints")
    adapter = property(lambda self: self.path / "adapter")
    report_json = property(lambda self: self.path / "report.json")
    report_md = property(lambda self: self.path / "report.md")

    def exists(self) -> bool:
        return self.manifest_path.is_file()

    def write_config(self, cfg: TrainConfig) -> None:
        write_text_atomic(self.config_path, yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False))

    def load_config(self) -> TrainConfig:
        if not self.config_path.is_file():
            raise NotFound(f"Run {self.path.name} has no config.yaml.", "Start a new run with `twin train`.")
        return TrainConfig.model_validate(yaml.safe_load(self.config_path.read_text(encoding="utf-8")))

    def manifest(self) -> dict[str, Any]:
        if not self.manifest_path.is_file():
            raise NotFound(
                f"Run '{self.path.name}' does not exist in {self.path.parent}.",
                "List runs in the profile's runs folder or start one with `twin train`.",
            )
        return json.loads(self.manifest_path.read_text(encoding="utf-8"))

    def write_manifest(self, data: dict[str, Any]) -> None:
        write_text_atomic(self.manifest_path, json.dumps(data, indent=2, ensure_ascii=False))

    def update_manifest(self, **changes: Any) -> dict[str, Any]:
        data = self.manifest()
        data.update(changes)
        self.write_manifest(data)
        return data

    def append_metric(self, record: dict[str, Any]) -> None:
        with self.metrics_path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")

    def metrics(self) -> list[dict[str, Any]]:
        if not self.metrics_path.is_file():
            return []
        return [json.loads(line) for line in self.metrics_path.read_text(encoding="utf-8").splitlines() if line]

    def latest_checkpoint(self) -> Path | None:
        if not self.checkpoints.is_dir():
            return None
        # A checkpoint is complete once its trainer_state.json exists (the Trainer writes it last): one cut
        # short by a full disk or a kill has weights but no state, and resuming from it would fail.
        found = [
            p
            for p in self.checkpoints.glob("checkpoint-*")
            if p.name.split("-")[-1].isdigit() and (p / "trainer_state.json").is_file()
        ]
        return max(found, key=lambda p: int(p.name.split("-")[-1]), default=None)
