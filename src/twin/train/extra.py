"""Is the train extra installed? Checked before anything imports it, so a missing package is a clear
message with the command that adds it, never a ModuleNotFoundError halfway through."""

from __future__ import annotations

import importlib.util

from twin.errors import MissingDependency

TRAIN_MODULES = ("torch", "transformers", "peft", "trl", "datasets", "accelerate", "safetensors", "gguf", "psutil")
INSTALL_HINT = (
    "Install the training extra: run ./scripts/run once from the twin folder (it installs it into .venv), "
    "or in your own environment: pip install torch==2.13.0 && pip install 'twin[train]'"
)


def missing(modules: tuple[str, ...] = TRAIN_MODULES) -> list[str]:
    return [m for m in modules if importlib.util.find_spec(m) is None]


def require_train_extra(what: str = "Training") -> None:
    gone = missing()
    if gone:
        raise MissingDependency(
            f"{what} needs the Python package{'s' if len(gone) > 1 else ''} {', '.join(gone)}, "
            f"which {'are' if len(gone) > 1 else 'is'} not installed.",
            INSTALL_HINT,
        )
