"""Export into the profile's models folder, activation for drafting, and `twin model list|use|add`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from twin.cli.main import app
from twin.models.store import list_models, migrate_legacy
from twin.profiles import ProfileManager
from twin.providers.llm import load_llm_config
from twin.settings import load_settings

runner = CliRunner()


@pytest.fixture
def owner(trained_run):  # noqa: ANN201
    profile = ProfileManager(load_settings()).create("owner")
    shutil.copytree(trained_run.path, profile.run_dir("r1"))
    return profile


def _json(*args: str) -> dict:
    res = runner.invoke(app, [*args, "--json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)  # exactly one JSON document: progress went to stderr


def test_export_activate_then_write_drafts_with_the_adapter(owner) -> None:
    pytest.importorskip("llama_cpp")
    out = _json("export", "-p", "owner", "--run", "r1", "--name", "mine", "--activate")
    folder = owner.root / "models" / "mine"
    assert Path(out["folder"]) == folder and not (owner.root / "exports" / "models").exists()
    record = json.loads((folder / "model.json").read_text())
    assert record["kind"] == "lora" and record["run"] == "r1"
    assert record["system_prompts"] == {"default": "You write like the owner."}
    cfg = load_llm_config(owner)
    assert (cfg.backend, cfg.model, cfg.lora_path, cfg.active_model) == (
        "llamacpp",
        out["base_gguf"],
        out["adapter_gguf"],
        "mine",
    )
    listed = _json("model", "list", "-p", "owner")
    assert listed["active"] == "mine" and [m["name"] for m in listed["models"] if m["active"]] == ["mine"]
    draft = _json("write", "are we still on for lunch?", "-p", "owner", "--max-tokens", "4")
    assert draft["adapter"] == "mine-lora.gguf" and draft["active_model"] == "mine" and draft["prompt"] == "trained"
    assert "mine-lora" in draft["model"]
    assert _json("model", "use", "--base", "-p", "owner")["active"] == "base"
    assert load_llm_config(owner).lora_path is None
    back = _json("model", "use", "--run", "r1", "-p", "owner")
    assert back["active"] == "mine" and load_llm_config(owner).lora_path == out["adapter_gguf"]


def test_export_prints_what_it_wrote_and_what_next(owner) -> None:
    res = runner.invoke(app, ["export", "-p", "owner", "--run", "r1", "--name", "mine"])
    assert res.exit_code == 0, res.output
    assert "GGUF LoRA" in res.stdout and "Modelfile" in res.stdout and "MiB" in res.stdout + "KiB"
    assert "twin model use mine" in res.stdout and "ollama create mine" in res.stdout
    assert "export: convert adapter" in res.stderr
    readme = (owner.root / "models" / "mine" / "README.md").read_text()
    assert "You write like the owner." in readme and "twin model use mine" in readme


def test_base_gguf_from_a_package_is_kept_in_the_models_folder(owner, tmp_path: Path) -> None:
    """The Modelfile's FROM must not point into a virtualenv that a rebuild deletes."""
    first = _json("export", "-p", "owner", "--run", "r1", "--name", "conv")
    venv_gguf = tmp_path / ".venv" / "lib" / "site-packages" / "pkg" / "base.gguf"
    venv_gguf.parent.mkdir(parents=True)
    shutil.copyfile(first["base_gguf"], venv_gguf)
    manifest_path = owner.run_dir("r1") / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["base"]["gguf"] = str(venv_gguf)
    manifest_path.write_text(json.dumps(manifest))
    out = _json("export", "-p", "owner", "--run", "r1", "--name", "stable", "--activate")
    base = Path(out["base_gguf"])
    assert base.parent == owner.root / "models" / "_bases" and base.read_bytes() == venv_gguf.read_bytes()
    shutil.rmtree(tmp_path / ".venv")  # the venv is rebuilt
    modelfile = (owner.root / "models" / "stable" / "Modelfile").read_text()
    assert modelfile.startswith(f"FROM {base}\n") and ".venv" not in modelfile and base.is_file()
    assert load_llm_config(owner).model == str(base)
    assert [m.name for m in list_models(owner)] == ["conv", "stable"]  # _bases is not a model


def test_old_exports_move_out_of_the_originals_folder(owner) -> None:
    old = owner.root / "exports" / "models" / "legacy"
    old.mkdir(parents=True)
    (old / "legacy-lora.gguf").write_bytes(b"GGUF")
    (old / "export.json").write_text(
        json.dumps({"run": "r1", "adapter_gguf": str(old / "legacy-lora.gguf"), "base_gguf": "/x/base.gguf"})
    )
    (old / "Modelfile").write_text(f"FROM /x/base.gguf\nADAPTER {old / 'legacy-lora.gguf'}\n")
    assert migrate_legacy(owner) == ["legacy"]
    new = owner.root / "models" / "legacy"
    assert not old.exists() and (new / "legacy-lora.gguf").is_file()
    assert str(new / "legacy-lora.gguf") in (new / "Modelfile").read_text()
    [record] = list_models(owner)
    assert (record.name, record.kind, record.adapter_gguf) == ("legacy", "lora", str(new / "legacy-lora.gguf"))


def test_model_add_gguf_and_checkpoint(owner, tiny_base: Path) -> None:
    exported = _json("export", "-p", "owner", "--run", "r1", "--name", "conv")
    added = _json("model", "add", exported["base_gguf"], "--name", "local-q", "-p", "owner")
    assert added["model"]["kind"] == "local_gguf" and added["model"]["family"] == "chatml"
    used = _json("model", "use", "local-q", "-p", "owner")
    assert used["active"] == "local-q" and load_llm_config(owner).model == exported["base_gguf"]
    ckpt = _json("model", "add", str(tiny_base), "-p", "owner")
    assert ckpt["model"]["kind"] == "local_checkpoint" and ckpt["model"]["architecture"] == "qwen2"
    res = runner.invoke(app, ["model", "use", ckpt["model"]["name"], "-p", "owner", "--json"])
    assert res.exit_code == 2 and "twin train --base" in json.loads(res.stdout)["error"]["hint"]
    res = runner.invoke(app, ["model", "add", exported["adapter_gguf"], "-p", "owner", "--json"])
    assert res.exit_code == 2 and "LoRA adapter" in json.loads(res.stdout)["error"]["message"]
    res = runner.invoke(app, ["model", "use", "nope", "-p", "owner", "--json"])
    assert res.exit_code == 2 and "local-q" in json.loads(res.stdout)["error"]["message"]
    shown = runner.invoke(app, ["model", "list", "-p", "owner"])
    assert "local-q" in shown.stdout and "training base" in shown.stdout


def test_lora_export_does_not_import_torch(owner) -> None:
    """Converting the adapter and even the base checkpoint to GGUF needs no torch; only --merge does."""
    code = (
        "import sys; sys.modules['torch'] = None\n"
        "from twin.cli.main import app\n"
        "app(['export', '-p', 'owner', '--run', 'r1', '--name', 'notorch', '--json'], standalone_mode=False)\n"
        "assert sys.modules.get('torch') is None and 'transformers' not in sys.modules and 'peft' not in sys.modules\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout)
    assert Path(out["adapter_gguf"]).is_file() and Path(out["base_gguf"]).name == "base.f16.gguf"
