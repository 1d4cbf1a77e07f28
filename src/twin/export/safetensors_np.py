"""Read a Hugging Face checkpoint's safetensors weights into numpy float arrays, without torch.

Hand-written because safetensors' own numpy loader has no bfloat16, the dtype most checkpoints ship
in; a bfloat16 value is the upper half of a float32, so widening it is a shift. Sharded checkpoints
(model.safetensors.index.json) are read shard by shard."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from twin.errors import NotFound, UnsupportedFormat

_DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "BF16": np.uint16}


def weight_files(checkpoint: Path) -> list[Path]:
    index = checkpoint / "model.safetensors.index.json"
    if index.is_file():
        shards = sorted(set(json.loads(index.read_text(encoding="utf-8"))["weight_map"].values()))
        return [checkpoint / s for s in shards]
    files = sorted(checkpoint.glob("*.safetensors"))
    if not files:
        raise NotFound(
            f"{checkpoint} has no .safetensors weights.",
            "Convert the checkpoint to safetensors (save_pretrained does by default), or merge with --merge.",
        )
    return files


def read_file(path: Path) -> Iterator[tuple[str, np.ndarray]]:
    """(name, array) per tensor; bfloat16 becomes float32, other float types keep theirs."""
    with path.open("rb") as f:
        size = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(size))
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + size)
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        dtype = _DTYPES.get(meta["dtype"])
        if dtype is None:
            raise UnsupportedFormat(
                f"Tensor {name} in {path.name} is {meta['dtype']}; only float weights can be converted.",
                "Use an unquantized checkpoint, or merge with --merge.",
            )
        start, end = meta["data_offsets"]
        arr = np.frombuffer(data[start:end], dtype=dtype).reshape(meta["shape"])
        if meta["dtype"] == "BF16":
            arr = (arr.astype(np.uint32) << 16).view(np.float32)
        yield name, arr


def read_checkpoint(checkpoint: Path) -> Iterator[tuple[str, np.ndarray]]:
    for path in weight_files(checkpoint):
        yield from read_file(path)
