"""GGUF LoRA and merged GGUF against the PyTorch/PEFT reference, loaded in llama.cpp."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

TOKENS = [151644, 872, 198, 14990, 1879, 11, 1246, 525, 498, 30, 151645, 198, 151644, 77091, 198]


def _llama_cpp():
    return pytest.importorskip("llama_cpp")


def _tiny_llama(tiny_base: Path, cache: Path) -> Path:
    """A tiny Llama-architecture model with the same tokenizer (Llama q/k need llama.cpp's row order)."""
    out = cache / "tiny-llama-h64-l2"
    if (out / "model.safetensors").is_file():
        return out
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    q = json.loads((tiny_base / "config.json").read_text())
    cfg = LlamaConfig(
        vocab_size=q["vocab_size"],
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        tie_word_embeddings=False,
        rms_norm_eps=1e-6,
    )
    torch.manual_seed(1)
    LlamaForCausalLM(cfg).save_pretrained(out)
    AutoTokenizer.from_pretrained(str(tiny_base)).save_pretrained(out)
    return out


def _random_adapter(base: Path, out: Path) -> Path:
    """A LoRA with random (non-zero) B on every projection, so a wrong layout shows in the logits."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(2)
    model = AutoModelForCausalLM.from_pretrained(str(base), dtype=torch.float32)
    cfg = LoraConfig(
        r=4,
        lora_alpha=8,
        target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
        init_lora_weights=False,
    )
    peft = get_peft_model(model, cfg)
    with torch.no_grad():
        for name, p in peft.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.5)
    peft.save_pretrained(str(out))
    peft.eval()
    with torch.no_grad():
        ref = peft(torch.tensor([TOKENS])).logits[0].numpy()
        with peft.disable_adapter():
            base_ref = peft(torch.tensor([TOKENS])).logits[0].numpy()
    np.save(out / "ref.npy", ref)
    np.save(out / "base_ref.npy", base_ref)
    return out


def _logits(llama_cpp, model: Path, lora: Path | None = None) -> np.ndarray:
    kw = {"lora_path": str(lora)} if lora else {}
    llm = llama_cpp.Llama(model_path=str(model), n_ctx=64, logits_all=True, verbose=False, **kw)
    llm.eval(TOKENS)
    out = np.array(llm.scores[: len(TOKENS)])
    llm.close()
    return out


@pytest.mark.parametrize("arch", ["qwen2", "llama"])
def test_lora_and_merged_gguf_match_peft(arch: str, tiny_base: Path, asset_cache: Path, tmp_path: Path) -> None:
    llama_cpp = _llama_cpp()
    from twin.chat_template import CHATML
    from twin.export.gguf_lora import adapter_to_gguf
    from twin.export.gguf_model import model_to_gguf
    from twin.train.assets import qwen2_vocab_gguf

    base = tiny_base if arch == "qwen2" else _tiny_llama(tiny_base, asset_cache)
    adapter = _random_adapter(base, tmp_path / "adapter")
    base_gguf = base / "test-base-f32.gguf"
    if not base_gguf.is_file():
        model_to_gguf(base, base_gguf, template=CHATML.jinja, tokenizer_gguf=qwen2_vocab_gguf(), f16=False)
    lora = adapter_to_gguf(adapter, base / "config.json", tmp_path / "lora.gguf")
    ref, base_ref = np.load(adapter / "ref.npy"), np.load(adapter / "base_ref.npy")
    effect = np.linalg.norm(ref - base_ref)
    assert effect > 1.0  # the adapter really changes the output

    def rel(a: np.ndarray, b: np.ndarray) -> float:
        """Error relative to the adapter's effect (llama.cpp keeps its KV cache in f16)."""
        return float(np.linalg.norm(a - b) / effect)

    assert rel(_logits(llama_cpp, base_gguf), base_ref) < 0.02
    with_lora = _logits(llama_cpp, base_gguf, lora)
    assert rel(with_lora, ref) < 0.02, "llama.cpp base + GGUF LoRA differs from PEFT"
    merged = model_to_gguf(
        base,
        tmp_path / "merged.gguf",
        template=CHATML.jinja,
        adapter=adapter,
        tokenizer_gguf=qwen2_vocab_gguf(),
        f16=False,
    )
    assert rel(_logits(llama_cpp, merged), ref) < 0.02, "merged GGUF differs from PEFT"


def test_lora_gguf_metadata(trained_run, tmp_path: Path) -> None:
    import gguf

    from twin.export.gguf_lora import adapter_to_gguf

    manifest = trained_run.manifest()
    out = adapter_to_gguf(
        trained_run.adapter, Path(manifest["base"]["checkpoint"]) / "config.json", tmp_path / "l.gguf"
    )
    reader = gguf.GGUFReader(str(out))
    fields = {k: f.contents() for k, f in reader.fields.items() if not k.startswith("GGUF.")}
    assert fields["general.type"] == "adapter" and fields["adapter.type"] == "lora"
    assert fields["adapter.lora.alpha"] == 32.0 and fields["general.architecture"] == "qwen2"
    names = {t.name for t in reader.tensors}
    assert names == {f"blk.{i}.{m}.weight.lora_{ab}" for i in range(2) for m in ("attn_q", "attn_v") for ab in "ab"}


def test_unsupported_adapter_is_refused(tmp_path: Path, tiny_base: Path) -> None:
    from safetensors.numpy import save_file

    from twin.errors import NotFound, UnsupportedFormat
    from twin.export.gguf_lora import adapter_to_gguf

    with pytest.raises(NotFound):
        adapter_to_gguf(tmp_path, tiny_base / "config.json", tmp_path / "x.gguf")
    (tmp_path / "adapter_config.json").write_text('{"lora_alpha": 8}')
    save_file(
        {"base_model.model.lm_head.lora_A.weight": np.zeros((2, 2), np.float32)},
        str(tmp_path / "adapter_model.safetensors"),
    )
    with pytest.raises(UnsupportedFormat):
        adapter_to_gguf(tmp_path, tiny_base / "config.json", tmp_path / "x.gguf")
    shutil.rmtree(tmp_path)
