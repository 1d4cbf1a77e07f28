"""Pick device, precision, quantization and optimizer; estimate memory and disk before a run starts."""

from __future__ import annotations

import importlib.util
import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from twin.errors import TooLarge
from twin.train.config import TrainConfig


@dataclass(frozen=True)
class HardwarePlan:
    device: str  # cuda | mps | cpu
    precision: str  # bf16 | fp16 | fp32
    quantization: str  # nf4 | none
    optimizer: str  # transformers optim name

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def _bnb_available() -> bool:
    return importlib.util.find_spec("bitsandbytes") is not None


def plan_hardware(cfg: TrainConfig) -> HardwarePlan:
    """Resolve every `auto` in the config against this machine."""
    import torch

    if cfg.device != "auto":
        device = cfg.device
    elif torch.cuda.is_available():
        device = "cuda"
    elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        device = "mps"
    else:
        device = "cpu"
    if cfg.precision != "auto":
        precision = cfg.precision
    elif device == "cuda":
        precision = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    else:
        precision = "fp32"
    bnb = device == "cuda" and _bnb_available()
    quant = cfg.quantization if cfg.quantization != "auto" else ("nf4" if bnb else "none")
    if quant == "nf4" and not bnb:
        quant = "none"
    opt = cfg.optimizer if cfg.optimizer != "auto" else ("adamw_8bit" if bnb else "adamw")
    optimizer = "adamw_bnb_8bit" if (opt == "adamw_8bit" and bnb) else "adamw_torch"
    return HardwarePlan(device, precision, quant, optimizer)


def count_params(checkpoint: Path) -> int:
    """Parameter count from the checkpoint's safetensors headers (no weights loaded)."""
    total = 0
    for f in checkpoint.glob("*.safetensors"):
        with f.open("rb") as fh:
            n = int.from_bytes(fh.read(8), "little")
            header = json.loads(fh.read(n))
        for name, meta in header.items():
            if name != "__metadata__":
                count = 1
                for d in meta["shape"]:
                    count *= d
                total += count
    if total == 0:
        size = sum(f.stat().st_size for f in checkpoint.glob("*.bin"))
        total = size // 2
    return total


def estimate(checkpoint: Path, cfg: TrainConfig, plan: HardwarePlan, n_layers: int, hidden: int) -> dict[str, int]:
    """Rough byte estimates: weights + LoRA/optimizer states + activations, and disk for outputs."""
    params = count_params(checkpoint)
    weight_bytes = {"nf4": 0.55, "bf16": 2, "fp16": 2, "fp32": 4}
    per_param = weight_bytes["nf4"] if plan.quantization == "nf4" else weight_bytes[plan.precision]
    lora_params = 2 * cfg.rank * hidden * n_layers * len(cfg.target_modules)
    act_factor = 2 if cfg.gradient_checkpointing else 16
    activations = cfg.batch_size * cfg.max_seq_len * hidden * n_layers * act_factor * 4
    memory = int(params * per_param + lora_params * 16 + activations + 512 * 1024**2)
    adapter = lora_params * 4
    disk = int(adapter * (1 + 3 * cfg.save_total_limit) + 64 * 1024**2)
    return {"params": params, "memory_bytes": memory, "disk_bytes": disk}


def available(plan: HardwarePlan, run_dir: Path) -> dict[str, int]:
    if plan.device == "cuda":
        import torch

        free, _total = torch.cuda.mem_get_info()
        mem = int(free)
    else:
        import psutil

        mem = int(psutil.virtual_memory().available)
    run_dir.mkdir(parents=True, exist_ok=True)
    return {"memory_bytes": mem, "disk_bytes": int(shutil.disk_usage(run_dir).free)}


def _gib(n: int) -> str:
    return f"{n / 1024**3:.2f} GiB"


def check_resources(need: dict[str, int], have: dict[str, int], device: str) -> None:
    """Refuse to start when the estimate does not fit, showing the numbers."""
    if need["memory_bytes"] > have["memory_bytes"]:
        raise TooLarge(
            f"Training needs about {_gib(need['memory_bytes'])} of {device} memory but only "
            f"{_gib(have['memory_bytes'])} is free (model: {need['params'] / 1e6:.0f}M parameters).",
            "Lower batch_size or max_seq_len, enable gradient_checkpointing, use QLoRA on a GPU, "
            "or pick a smaller base model.",
        )
    if need["disk_bytes"] > have["disk_bytes"]:
        raise TooLarge(
            f"Training needs about {_gib(need['disk_bytes'])} of disk but only {_gib(have['disk_bytes'])} is free.",
            "Free some disk space or lower save_total_limit.",
        )
