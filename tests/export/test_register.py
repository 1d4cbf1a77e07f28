"""`twin export` end to end: GGUF files, Modelfile, README, registration against the fake Ollama server."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from twin.backends.fake_ollama import FakeOllama
from twin.chat_template import CHATML
from twin.cli.main import app
from twin.errors import InvalidInput
from twin.export.ollama import ModelSpec, OllamaRegistrar, file_digest
from twin.profiles import ProfileManager
from twin.settings import load_settings


def _good(model: str, messages: list[dict]) -> str:
    return "Hello there, good to see you."


@pytest.fixture
def profile_run(trained_run):  # noqa: ANN201
    profile = ProfileManager(load_settings()).create("owner")
    shutil.copytree(trained_run.path, profile.run_dir("r1"))
    return profile


def _sha(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def test_export_lora_register_and_load(profile_run) -> None:
    llama_cpp = pytest.importorskip("llama_cpp")
    with FakeOllama(models=[], reply_fn=_good) as fake:
        res = CliRunner().invoke(
            app,
            [
                "export",
                "--profile",
                "owner",
                "--run",
                "r1",
                "--name",
                "thota-writing",
                "--register",
                "--ollama-host",
                fake.url,
                "--json",
            ],
        )
        assert res.exit_code == 0, res.output
        out = json.loads(res.stdout[res.stdout.index("{\n") :])
        folder = Path(out["folder"])
        lora, base = Path(out["adapter_gguf"]), Path(out["base_gguf"])
        assert lora.parent == folder and base.parent == folder  # tiny base converted with its HF tokenizer
        model = fake.models["thota-writing:latest"]
        assert model.files == {base.name: _sha(base)} and model.adapters == {lora.name: _sha(lora)}
        assert fake.blobs[_sha(lora)] == lora.read_bytes()
        assert model.template == CHATML.ollama and model.parameters["stop"] == list(CHATML.stop)
        assert model.system == "You write like the owner."  # the system prompt the training data used
        assert out["smoke"]["text"] == _good("", [])
        chat = [r for r in fake.requests if r.path == "/api/chat"]
        assert chat and json.loads(chat[-1].body)["model"] == "thota-writing"

        import ollama

        client = ollama.Client(host=fake.url)
        shown = client.show("thota-writing")
        assert shown.template == CHATML.ollama and "ADAPTER" in shown.modelfile
        assert "thota-writing:latest" in [m.model for m in client.list().models]

    modelfile = (folder / "Modelfile").read_text()
    assert modelfile.startswith(f"FROM ./{base.name}\nADAPTER ./{lora.name}\n")
    assert f'TEMPLATE """{CHATML.ollama}"""' in modelfile
    readme = (folder / "README.md").read_text()
    assert "--enable-lora --lora-modules twin=" in readme and f"--lora {lora}" in readme
    assert (folder / "template.jinja").read_text() == (profile_run.run_dir("r1") / "template.jinja").read_text()
    llm = llama_cpp.Llama(model_path=str(base), lora_path=str(lora), n_ctx=128, verbose=False)
    assert llm.metadata["tokenizer.chat_template"] == (folder / "template.jinja").read_text()
    text = llm.create_chat_completion(messages=[{"role": "user", "content": "hi"}], max_tokens=4)
    assert text["usage"]["completion_tokens"] > 0
    llm.close()


def test_merge_and_quantize(profile_run) -> None:
    llama_cpp = pytest.importorskip("llama_cpp")
    res = CliRunner().invoke(
        app,
        ["export", "--profile", "owner", "--run", "r1", "--name", "merged", "--merge", "--quantize", "q8_0", "--json"],
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout[res.stdout.index("{\n") :])
    gguf_path = Path(out["model_gguf"])
    assert gguf_path.name == "merged.q8_0.gguf" and not (gguf_path.parent / "merged.f16.gguf").exists()
    assert (gguf_path.parent / "Modelfile").read_text().startswith("FROM ./merged.q8_0.gguf\nTEMPLATE")
    llm = llama_cpp.Llama(model_path=str(gguf_path), n_ctx=128, verbose=False)
    assert llm.metadata["general.file_type"] == "7"  # MOSTLY_Q8_0
    assert llm.create_completion("hello", max_tokens=3)["usage"]["completion_tokens"] > 0
    llm.close()


def test_export_refuses_unknown_quantization_and_unfinished_runs(profile_run) -> None:
    res = CliRunner().invoke(app, ["export", "--profile", "owner", "--run", "r1", "--quantize", "q4_k_m", "--json"])
    assert res.exit_code == 2 and "--merge" in json.loads(res.stdout[res.stdout.index("{\n") :])["error"]["hint"]
    manifest = profile_run.run_dir("r1") / "manifest.json"
    data = json.loads(manifest.read_text())
    manifest.write_text(json.dumps(data | {"status": "training"}))
    res = CliRunner().invoke(app, ["export", "--profile", "owner", "--run", "r1", "--json"])
    assert res.exit_code == 2 and "--resume" in res.stdout


@pytest.mark.parametrize(
    ("reply", "symptom"),
    [
        (lambda m, msgs: msgs[-1]["content"], "echoed the prompt"),
        (lambda m, msgs: "", "empty output"),
        (lambda m, msgs: "Hi <|start_header_id|>assistant<|end_header_id|> more", "template tokens"),
        (lambda m, msgs: "and so on " * 40, "never stopped"),
    ],
)
def test_registration_fails_loudly_on_template_mismatch(tmp_path: Path, reply, symptom: str) -> None:
    adapter = tmp_path / "a.gguf"
    adapter.write_bytes(b"GGUF-test-adapter")
    spec = ModelSpec(name="twin-x", base="qwen2.5:7b", family=CHATML, adapter=adapter)
    with FakeOllama(models=["qwen2.5:7b"], reply_fn=reply) as fake:
        reg = OllamaRegistrar(fake.url)
        created = reg.create(spec)
        assert created["request"]["from"] == "qwen2.5:7b"
        assert created["request"]["adapters"] == {"a.gguf": file_digest(adapter)}
        with pytest.raises(InvalidInput) as err:
            reg.smoke(spec)
    assert symptom in err.value.message and "TEMPLATE" in err.value.hint


def test_blob_upload_is_skipped_when_present_and_real_client_agrees(tmp_path: Path) -> None:
    import ollama

    blob = tmp_path / "b.gguf"
    blob.write_bytes(b"x" * 1000)
    with FakeOllama(models=[]) as fake:
        reg = OllamaRegistrar(fake.url)
        digest = reg.upload(blob)
        assert reg.upload(blob) == digest
        posts = [r for r in fake.requests if r.method == "POST" and r.path.startswith("/api/blobs/")]
        assert len(posts) == 1  # the second upload found the blob with HEAD
        assert digest == ollama.Client(host=fake.url).create_blob(blob)


def test_unreachable_ollama_is_a_clear_error(tmp_path: Path) -> None:
    from twin.errors import Unavailable

    with pytest.raises(Unavailable) as err:
        OllamaRegistrar("http://127.0.0.1:9", timeout=2).create(ModelSpec(name="x", base="b", family=CHATML))
    assert "ollama serve" in err.value.hint
