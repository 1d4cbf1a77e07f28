"""Hugging Face Qwen2/Llama checkpoint → GGUF (F32/F16), merging a LoRA first when asked, and quantizing.

Weights are read from the safetensors files with numpy (no torch); only a merge loads the model in
torch, through twin.train.merge.

Written on PyPI `gguf`'s GGUFWriter for the two architectures twin trains (Qwen2 and Llama, which
covers Qwen2.5, SmolLM2 and Llama 3.x); llama.cpp's convert_hf_to_gguf.py needs its vendored gguf-py.
The tokenizer comes from the GGUF the base was dequantized from when there is one (copied verbatim),
otherwise from the checkpoint's tokenizer.json (byte-level BPE). The chat template written is the
one training used, so a runtime that reads the GGUF's template formats prompts exactly as trained.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from twin.errors import InvalidInput, MissingDependency, UnsupportedFormat
from twin.export.gguf_lora import finish_gguf, gguf_arch, llama_permute
from twin.export.safetensors_np import read_checkpoint

_LAYER_MAP = {
    "self_attn.q_proj": "attn_q",
    "self_attn.k_proj": "attn_k",
    "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output",
    "mlp.gate_proj": "ffn_gate",
    "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down",
    "input_layernorm": "attn_norm",
    "post_attention_layernorm": "ffn_norm",
}
_PRE_BY_TYPE = {"qwen2": "qwen2", "llama": "llama-bpe"}


def tensor_name(hf: str) -> str | None:
    """GGUF name of a Hugging Face parameter (None for ones GGUF does not store, e.g. rotary caches)."""
    if hf == "model.embed_tokens.weight":
        return "token_embd.weight"
    if hf == "model.norm.weight":
        return "output_norm.weight"
    if hf == "lm_head.weight":
        return "output.weight"
    parts = hf.split(".")
    if len(parts) >= 5 and parts[0] == "model" and parts[1] == "layers":
        key = ".".join(parts[3:-1])
        if key in _LAYER_MAP:
            return f"blk.{parts[2]}.{_LAYER_MAP[key]}.{parts[-1]}"
    return None


def _hparams(writer: Any, cfg: dict[str, Any]) -> None:
    n_head = cfg["num_attention_heads"]
    head_dim = cfg.get("head_dim") or cfg["hidden_size"] // n_head
    rope = cfg.get("rope_parameters") or {}
    writer.add_context_length(cfg.get("max_position_embeddings", 4096))
    writer.add_embedding_length(cfg["hidden_size"])
    writer.add_block_count(cfg["num_hidden_layers"])
    writer.add_feed_forward_length(cfg["intermediate_size"])
    writer.add_head_count(n_head)
    writer.add_head_count_kv(cfg.get("num_key_value_heads") or n_head)
    writer.add_rope_freq_base(float(rope.get("rope_theta") or cfg.get("rope_theta") or 10000.0))
    writer.add_layer_norm_rms_eps(float(cfg.get("rms_norm_eps", 1e-6)))
    writer.add_rope_dimension_count(head_dim)
    writer.add_vocab_size(cfg["vocab_size"])


def _copy_tokenizer(writer: Any, source_gguf: Path) -> None:
    import gguf

    reader = gguf.GGUFReader(str(source_gguf))
    for key, field in reader.fields.items():
        if not key.startswith("tokenizer.") or key == "tokenizer.chat_template":
            continue
        vtype = field.types[0]
        if vtype == gguf.GGUFValueType.ARRAY:
            writer.add_key_value(key, field.contents(), vtype, sub_type=field.types[-1])
        else:
            writer.add_key_value(key, field.contents(), vtype)


def _hf_tokenizer(writer: Any, checkpoint: Path, model_type: str, vocab_size: int) -> None:
    tok_file = checkpoint / "tokenizer.json"
    if not tok_file.is_file():
        raise UnsupportedFormat(
            f"{checkpoint} has no tokenizer.json to embed in the GGUF.",
            "Use a base with a fast (tokenizer.json) tokenizer or a GGUF base.",
        )
    data = json.loads(tok_file.read_text(encoding="utf-8"))
    if data["model"]["type"] != "BPE":
        raise UnsupportedFormat("Only byte-level BPE tokenizers can be embedded.", "Use a Qwen2 or Llama 3 base.")
    vocab: dict[str, int] = dict(data["model"]["vocab"])
    special = {t["content"]: t["id"] for t in data.get("added_tokens", [])}
    vocab.update(special)
    tokens = [f"[PAD{i}]" for i in range(vocab_size)]
    types = [5] * vocab_size  # UNUSED until filled
    for text, idx in vocab.items():
        if idx < vocab_size:
            tokens[idx] = text
            types[idx] = 3 if text in special else 1  # CONTROL / NORMAL
    merges = [m if isinstance(m, str) else " ".join(m) for m in data["model"].get("merges", [])]
    tcfg = (
        json.loads((checkpoint / "tokenizer_config.json").read_text(encoding="utf-8"))
        if (checkpoint / "tokenizer_config.json").is_file()
        else {}
    )
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("smollm" if vocab_size == 49152 else _PRE_BY_TYPE.get(model_type, "default"))
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(merges)
    for attr, setter in (
        ("eos_token", writer.add_eos_token_id),
        ("bos_token", writer.add_bos_token_id),
        ("pad_token", writer.add_pad_token_id),
    ):
        value = tcfg.get(attr)
        value = value.get("content") if isinstance(value, dict) else value
        if value in vocab:
            setter(vocab[value])


def _iter_weights(
    weights: Iterable[tuple[str, np.ndarray]], cfg: dict[str, Any], arch: str, f16: bool
) -> list[tuple[str, np.ndarray]]:
    n_head = cfg["num_attention_heads"]
    n_kv = cfg.get("num_key_value_heads") or n_head
    out = []
    for hf_name, param in weights:
        name = tensor_name(hf_name)
        if name is None:
            continue
        if name == "output.weight" and cfg.get("tie_word_embeddings"):
            continue
        w = np.asarray(param, dtype=np.float32)
        if arch == "llama" and ".attn_q." in name:
            w = llama_permute(w, n_head)
        elif arch == "llama" and ".attn_k." in name:
            w = llama_permute(w, n_kv)
        if f16 and w.ndim == 2:
            w = w.astype(np.float16)
        out.append((name, np.ascontiguousarray(w)))
    return out


def model_to_gguf(
    checkpoint: Path,
    out: Path,
    *,
    template: str,
    adapter: Path | None = None,
    tokenizer_gguf: Path | None = None,
    f16: bool = True,
    name: str = "twin",
) -> Path:
    """Write a GGUF of the checkpoint (with the LoRA adapter merged in when given: that loads torch)."""
    import gguf

    cfg = json.loads((checkpoint / "config.json").read_text(encoding="utf-8"))
    arch = gguf_arch(cfg["model_type"])
    if adapter is not None:
        from twin.train.merge import merged_weights

        weights: Iterable[tuple[str, np.ndarray]] = merged_weights(checkpoint, adapter)
    else:
        weights = read_checkpoint(checkpoint)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".part")
    writer = gguf.GGUFWriter(str(tmp), arch)
    writer.add_name(name)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16 if f16 else gguf.LlamaFileType.ALL_F32)
    _hparams(writer, cfg)
    if tokenizer_gguf is not None:
        _copy_tokenizer(writer, tokenizer_gguf)
    else:
        _hf_tokenizer(writer, checkpoint, cfg["model_type"], cfg["vocab_size"])
    writer.add_chat_template(template)
    for tname, arr in _iter_weights(weights, cfg, arch, f16):
        writer.add_tensor(tname, arr)
    return finish_gguf(writer, tmp, out)


QUANT_TYPES = {
    "q4_0": 2,
    "q4_1": 3,
    "q8_0": 7,
    "q5_0": 8,
    "q5_1": 9,
    "q2_k": 10,
    "q3_k_m": 12,
    "q4_k_s": 14,
    "q4_k_m": 15,
    "q5_k_s": 16,
    "q5_k_m": 17,
    "q6_k": 18,
    "f16": 1,
}


def quantize(src: Path, dst: Path, kind: str) -> Path:
    """Quantize a GGUF with llama.cpp's C API (llama_model_quantize through llama-cpp-python)."""
    key = kind.lower()
    if key not in QUANT_TYPES:
        raise InvalidInput(f"Unknown quantization '{kind}'.", f"Use one of: {', '.join(QUANT_TYPES)}.")
    try:
        import llama_cpp
    except ImportError:
        raise MissingDependency.for_extra("Quantizing", "llm", "llama_cpp") from None
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = QUANT_TYPES[key]
    params.nthread = 0
    rc = llama_cpp.llama_model_quantize(str(src).encode(), str(dst).encode(), params)
    if rc != 0 or not dst.is_file():
        raise InvalidInput(
            f"llama.cpp could not quantize {src.name} to {key} (code {rc}).",
            "Tensor sizes must be multiples of the quant block size; try q8_0 or f16.",
        )
    return dst
