"""Local assets for training: the cache folder, the Qwen2 vocabulary GGUF and the tiny smoke-test model.

The real Qwen2 tokenizer ships (vocabulary only, no weights) inside llama-cpp-python's source
distribution as vendor/llama.cpp/models/ggml-vocab-qwen2.gguf. It is fetched once with pip from the
package registry (pip's own cache makes repeats cheap) and only that member is extracted.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import tempfile
from importlib import metadata
from pathlib import Path

from platformdirs import user_cache_dir

from twin.errors import Unavailable

VOCAB_MEMBER = "vendor/llama.cpp/models/ggml-vocab-qwen2.gguf"
DEFAULT_LLAMA_CPP_VERSION = "0.3.36"


def cache_dir() -> Path:
    """Where twin keeps re-creatable assets (TWIN_CACHE_DIR overrides the platform cache folder)."""
    root = os.environ.get("TWIN_CACHE_DIR") or user_cache_dir("twin", appauthor=False)
    path = Path(root) / "assets"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _llama_cpp_version() -> str:
    try:
        return metadata.version("llama-cpp-python")
    except metadata.PackageNotFoundError:
        return DEFAULT_LLAMA_CPP_VERSION


def qwen2_vocab_gguf() -> Path:
    """Path of ggml-vocab-qwen2.gguf, extracted from the llama-cpp-python sdist on first use."""
    target = cache_dir() / "ggml-vocab-qwen2.gguf"
    if target.is_file():
        return target
    version = _llama_cpp_version()
    with tempfile.TemporaryDirectory(dir=cache_dir()) as tmp:
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--no-binary",
            ":all:",
            f"llama-cpp-python=={version}",
            "-d",
            tmp,
            "-q",
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        sdists = list(Path(tmp).glob("llama_cpp_python-*.tar.gz"))
        if proc.returncode != 0 or not sdists:
            raise Unavailable(
                f"Could not fetch the llama-cpp-python {version} source distribution (it holds the Qwen2 "
                f"tokenizer used by the smoke test): {proc.stderr.strip()[-300:]}",
                f"Check access to the package registry, or place ggml-vocab-qwen2.gguf in {cache_dir()}.",
            )
        with tarfile.open(sdists[0]) as tar:
            member = next((m for m in tar.getmembers() if m.name.endswith(VOCAB_MEMBER) and m.isfile()), None)
            if member is None:
                raise Unavailable(
                    f"{sdists[0].name} has no {VOCAB_MEMBER}.", f"Place ggml-vocab-qwen2.gguf in {cache_dir()} by hand."
                )
            src = tar.extractfile(member)
            assert src is not None
            partial = target.with_suffix(".part")
            partial.write_bytes(src.read())
            os.replace(partial, target)
    return target


def tiny_qwen2(hidden: int = 64, layers: int = 2) -> Path:
    """A tiny randomly initialized Qwen2 checkpoint with the real Qwen2 tokenizer (built once, cached)."""
    out = cache_dir() / f"tiny-qwen2-h{hidden}-l{layers}"
    if (out / "config.json").is_file() and (out / "model.safetensors").is_file():
        return out
    import torch
    from transformers import AutoTokenizer, Qwen2Config, Qwen2ForCausalLM

    vocab = qwen2_vocab_gguf()
    tokenizer = AutoTokenizer.from_pretrained(str(vocab.parent), gguf_file=vocab.name)
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=hidden * 2,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.convert_tokens_to_ids("<|im_end|>"),
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(0)
    model = Qwen2ForCausalLM(config)
    tmp = Path(tempfile.mkdtemp(dir=cache_dir(), prefix=".tiny-"))
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    if out.exists():
        import shutil

        shutil.rmtree(out)
    os.replace(tmp, out)
    return out
