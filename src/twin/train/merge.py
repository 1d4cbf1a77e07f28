"""Merge a LoRA adapter into its base model (torch + PEFT) and hand the weights over as numpy arrays,
so the GGUF writer in twin.export never imports torch itself."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def merged_weights(checkpoint: Path, adapter: Path | None = None) -> list[tuple[str, np.ndarray]]:
    """The checkpoint's float32 weights, with the adapter merged in when given."""
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(checkpoint), dtype=torch.float32)
    if adapter is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
    return [(name, t.detach().float().cpu().numpy()) for name, t in model.state_dict().items()]
