"""PEFT LoRA adapter (safetensors) → GGUF LoRA adapter that llama.cpp and Ollama load.

Written on PyPI `gguf`'s GGUFWriter rather than through llama.cpp's convert_lora_to_gguf.py, because
that script needs the gguf-py copy vendored in llama.cpp's source tree (PyPI gguf lags behind it) and
the base model's full Hugging Face config from the hub. Layout (as llama.cpp's loader expects):
general.type=adapter, adapter.type=lora, adapter.lora.alpha, and per target tensor
`blk.N.<tensor>.weight.lora_a` (shape [r, in]) and `.lora_b` (shape [out, r]).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from twin.errors import InvalidInput, NotFound, UnsupportedFormat

SUPPORTED_ARCHS = {"qwen2": "qwen2", "llama": "llama", "mistral": "llama"}
MODULE_TO_GGUF = {
    "q_proj": "attn_q",
    "k_proj": "attn_k",
    "v_proj": "attn_v",
    "o_proj": "attn_output",
    "gate_proj": "ffn_gate",
    "up_proj": "ffn_up",
    "down_proj": "ffn_down",
}
_KEY = re.compile(r"(?:^|\.)layers\.(\d+)\.(?:self_attn|mlp)\.(\w+)\.lora_([AB])\.weight$")


def gguf_arch(model_type: str) -> str:
    try:
        return SUPPORTED_ARCHS[model_type]
    except KeyError:
        raise UnsupportedFormat(
            f"Exporting '{model_type}' models to GGUF is not supported.",
            f"Use a base of one of these architectures: {', '.join(SUPPORTED_ARCHS)}.",
        ) from None


def llama_permute(w: np.ndarray, n_head: int) -> np.ndarray:
    """Reorder rows of a Llama q/k projection from Hugging Face's rotary layout to llama.cpp's."""
    rows = w.shape[0]
    return w.reshape(n_head, 2, rows // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def read_adapter(adapter_dir: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    from safetensors.numpy import load_file

    cfg_path, weights = adapter_dir / "adapter_config.json", adapter_dir / "adapter_model.safetensors"
    if not (cfg_path.is_file() and weights.is_file()):
        raise NotFound(
            f"No PEFT adapter in {adapter_dir} (adapter_config.json + adapter_model.safetensors).",
            "Train one first with `twin train`, or point --run at a finished run.",
        )
    return json.loads(cfg_path.read_text(encoding="utf-8")), load_file(str(weights))


def lora_tensors(tensors: dict[str, np.ndarray], model_cfg: dict[str, Any]) -> list[tuple[str, np.ndarray]]:
    """(gguf name, float32 array) pairs for every LoRA A/B matrix."""
    arch = gguf_arch(model_cfg["model_type"])
    n_head = model_cfg["num_attention_heads"]
    n_kv = model_cfg.get("num_key_value_heads") or n_head
    out: list[tuple[str, np.ndarray]] = []
    for key in sorted(tensors):
        m = _KEY.search(key)
        if m is None:
            raise UnsupportedFormat(
                f"Adapter tensor '{key}' is not a LoRA weight of an attention/MLP projection.",
                "Only LoRA on q/k/v/o and gate/up/down projections can be exported.",
            )
        layer, module, ab = int(m.group(1)), m.group(2), m.group(3)
        if module not in MODULE_TO_GGUF:
            raise UnsupportedFormat(f"LoRA target '{module}' cannot be exported to GGUF.", "Retrain without it.")
        w = tensors[key].astype(np.float32)
        if arch == "llama" and ab == "B" and module in ("q_proj", "k_proj"):
            w = llama_permute(w, n_head if module == "q_proj" else n_kv)
        out.append((f"blk.{layer}.{MODULE_TO_GGUF[module]}.weight.lora_{ab.lower()}", np.ascontiguousarray(w)))
    return out


def adapter_to_gguf(adapter_dir: Path, base_config: Path, out: Path, name: str = "twin-lora") -> Path:
    """Write the GGUF LoRA for a PEFT adapter; base_config is the base model's config.json."""
    import gguf

    adapter_cfg, tensors = read_adapter(adapter_dir)
    model_cfg = json.loads(base_config.read_text(encoding="utf-8"))
    pairs = lora_tensors(tensors, model_cfg)
    if not pairs:
        raise InvalidInput(f"The adapter in {adapter_dir} holds no LoRA tensors.", "Retrain the adapter.")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".part")
    writer = gguf.GGUFWriter(str(tmp), gguf_arch(model_cfg["model_type"]))
    writer.add_type("adapter")
    writer.add_name(name)
    writer.add_string("adapter.type", "lora")
    writer.add_float32("adapter.lora.alpha", float(adapter_cfg["lora_alpha"]))
    for tname, arr in pairs:
        writer.add_tensor(tname, arr)
    return finish_gguf(writer, tmp, out)


def finish_gguf(writer: Any, tmp: Path, out: Path) -> Path:
    """Write a filled GGUFWriter to its temporary path, then move it into place (no half-written files)."""
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    tmp.replace(out)
    return out
