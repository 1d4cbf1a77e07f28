"""The import rules of the layers, checked on the source with `ast` (imports inside functions included):

- backends implement providers and may use twin.audio, never a stage (voice, writing, ...);
- stages never import twin.backends: they ask the registry for a provider by name;
- twin.audio is the bottom layer: it imports no stage, no provider and no backend;
- nothing outside backends/ and train/ imports the heavy engines (torch, transformers, peft, trl,
  llama_cpp, piper, faster_whisper)."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "twin"
STAGES = {
    "voice",
    "writing",
    "dataset",
    "ingest",
    "train",
    "export",
    "chat",
    "memory",
    "media",
    "realtime",
    "ops",
    "api",
    "cli",
    "web",
}
HEAVY = {"torch", "transformers", "peft", "trl", "llama_cpp", "piper", "faster_whisper"}
HEAVY_ALLOWED = {"backends", "train"}
# Being moved out by the export work; remove the entry when that lands.
KNOWN_HEAVY_EXCEPTIONS = {"export/gguf_model.py"}


def _imports(source: str, rel: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in the source of twin/`rel`, relative ones resolved."""
    tree = ast.parse(source, filename=str(rel))
    package = ["twin", *rel.parent.parts]
    out: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            out.append((node.lineno, module))
            out += [(node.lineno, f"{module}.{alias.name}") for alias in node.names if module == "twin"]
    return out


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "twin" and len(parts) > 1 else None


def _violations(rule) -> list[str]:  # noqa: ANN001 - a function (file layer, imported module) -> bool
    found = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC)
        own = rel.parts[0] if len(rel.parts) > 1 else rel.stem
        for line, module in _imports(path.read_text(encoding="utf-8"), rel):
            if rule(own, module, rel.as_posix()):
                found.append(f"{rel}:{line} imports {module}")
    return found


def test_import_walker_sees_function_level_and_relative_imports() -> None:
    source = "import os\ndef f():\n    from ..voice import eval\n    import torch.nn\n    from twin import voice\n"
    found = set(_imports(source, Path("backends/x.py")))
    assert {(1, "os"), (3, "twin.voice"), (4, "torch.nn"), (5, "twin.voice")} <= found
    assert _layer("twin.voice.eval") == "voice" and _layer("numpy") is None


def test_backends_never_import_a_stage() -> None:
    assert _violations(lambda own, mod, _rel: own == "backends" and _layer(mod) in STAGES) == []


def test_stages_never_import_backends() -> None:
    assert _violations(lambda own, mod, _rel: own in STAGES and _layer(mod) == "backends") == []


def test_audio_is_the_bottom_layer() -> None:
    allowed = {"audio", "errors"}
    assert _violations(lambda own, mod, _rel: own == "audio" and _layer(mod) not in (None, *allowed)) == []


def test_heavy_engines_only_in_backends_and_train() -> None:
    def heavy(own: str, module: str, rel: str) -> bool:
        return module.split(".")[0] in HEAVY and own not in HEAVY_ALLOWED and rel not in KNOWN_HEAVY_EXCEPTIONS

    assert _violations(heavy) == []


@pytest.mark.parametrize("rel", sorted(KNOWN_HEAVY_EXCEPTIONS))
def test_known_exceptions_are_still_needed(rel: str) -> None:
    """When the exception is fixed this fails: take the file off KNOWN_HEAVY_EXCEPTIONS."""
    path = SRC / rel
    modules = (
        {m.split(".")[0] for _, m in _imports(path.read_text(encoding="utf-8"), Path(rel))} if path.is_file() else set()
    )
    assert modules & HEAVY


# Import names of optional extras that differ from their distribution's name.
NOT_INSTALLED_DISTS = {"pypff": "libpff-python", "extract_msg": "extract-msg"}


def _declared() -> set[str]:
    data = tomllib.loads((SRC.parents[1] / "pyproject.toml").read_text(encoding="utf-8"))
    project = data["project"]
    reqs = [*project["dependencies"], *(r for extra in project["optional-dependencies"].values() for r in extra)]
    return {_normal(re.split(r"[<>=!~;\[ ]", r, maxsplit=1)[0]) for r in reqs}


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_third_party_import_is_declared() -> None:
    """Each module imported by src/ or tests/ comes from a distribution pyproject.toml names in some extra."""
    root = SRC.parents[1]
    local = {"twin", "tests", "speech", "support", "conftest", "api", "reliability"}  # + test packages
    owners = importlib.metadata.packages_distributions()
    declared = _declared()
    missing, unknown = [], set()
    for path in sorted([*(root / "src").rglob("*.py"), *(root / "tests").rglob("*.py")]):
        for line, module in _imports(path.read_text(encoding="utf-8"), Path("x.py")):
            top = module.split(".")[0]
            if not top or top in sys.stdlib_module_names or top in local:
                continue
            dists = owners.get(top)
            if not dists:
                unknown.add(top)  # not installed here: cannot be checked
            elif not any(_normal(d) in declared for d in dists):
                missing.append(f"{path.relative_to(root)}:{line} imports {top} ({', '.join(dists)})")
    assert missing == []
    # An extra this machine lacks cannot be looked up, so its import name must name a declared distribution.
    undeclared = {top for top in unknown if _normal(NOT_INSTALLED_DISTS.get(top, top)) not in declared}
    assert undeclared == set()
