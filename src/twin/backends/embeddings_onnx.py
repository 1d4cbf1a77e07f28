"""A mean-pooled sentence-transformers model (the embedded all-MiniLM-L6-v2) run by onnxruntime.

For the short texts of a chat turn this is about twice as fast as torch on one core (a 12-token query:
~10 ms against ~22 ms here), which is most of a turn's recall time, and it needs neither torch nor
sentence-transformers once exported. The ONNX graph is exported once from the model's own local
weights (torch + onnx, the `memory` extra) into a cache folder and checked against sentence-transformers
before it is used: vectors from either engine must agree (cosine >= 0.9999), because the stored memory
vectors came from whichever engine ran before. Anything else (CLS pooling, no tokenizer.json, an export
that fails) raises OnnxUnavailable and the caller keeps to sentence-transformers."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from twin.backends.onnx_runtime import onnxruntime

log = logging.getLogger("twin.backends.embeddings")
AGREEMENT = 0.9999
BATCH = 32
PROBES = [
    "My brother Ravi teaches chemistry in Leeds.",
    "ok",
    "I left Globex in March and I'm at Acme now, which is a much shorter commute for me these days.",
]
_EXPORT_LOCK = threading.Lock()
# one session per graph file for the process (profiles share it); a changed file is loaded again
_ENCODERS: dict[tuple[str, int, int, int], OnnxEncoder] = {}


class OnnxUnavailable(Exception):
    """This model cannot run through onnxruntime here; sentence-transformers is used instead."""


def _mean_pooled(model_dir: Path) -> tuple[int, bool, int]:
    """(max_seq_length, normalize, dim) of a Transformer → mean Pooling [→ Normalize] model, else
    OnnxUnavailable."""
    try:
        modules = json.loads((model_dir / "modules.json").read_text("utf-8"))
        kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
        pooling_dir = next(m["path"] for m in modules if m["type"].endswith("Pooling"))
        pooling = json.loads((model_dir / pooling_dir / "config.json").read_text("utf-8"))
        bert = json.loads((model_dir / "sentence_bert_config.json").read_text("utf-8"))
        dim = int(pooling["word_embedding_dimension"])
    except (OSError, ValueError, KeyError, StopIteration) as exc:
        raise OnnxUnavailable(f"not a sentence-transformers folder onnx can run ({exc})") from None
    others = [k for k, v in pooling.items() if k.startswith("pooling_mode_") and v and k != "pooling_mode_mean_tokens"]
    if kinds[:2] != ["Transformer", "Pooling"] or not pooling.get("pooling_mode_mean_tokens") or others:
        raise OnnxUnavailable("only mean-pooled models run through onnx")
    if not set(kinds[2:]) <= {"Normalize"} or not (model_dir / "tokenizer.json").is_file():
        raise OnnxUnavailable("the model has modules or a tokenizer onnx cannot run")
    return int(bert.get("max_seq_length") or 256), "Normalize" in kinds, dim


def cache_key(model_dir: Path) -> str:
    """Changes whenever the weights, config or tokenizer files change."""
    h = hashlib.sha256()
    for name in ("config.json", "tokenizer.json", "modules.json"):
        h.update((model_dir / name).read_bytes())
    for weights in sorted([*model_dir.glob("*.safetensors"), *model_dir.glob("*.bin")]):
        stat = weights.stat()
        h.update(f"{weights.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return h.hexdigest()[:20]


def export(model_dir: Path, out: Path) -> None:
    """Export the model's transformer to `out` (atomically) with torch's TorchScript-based exporter."""
    try:
        import torch
        from transformers import AutoModel
    except ImportError:
        raise OnnxUnavailable("torch and transformers are needed once to export the model") from None

    class LastHidden(torch.nn.Module):
        def __init__(self, base: Any) -> None:
            super().__init__()
            self.base = base

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.base(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    model = LastHidden(AutoModel.from_pretrained(str(model_dir), local_files_only=True).eval())
    sample = torch.ones(1, 8, dtype=torch.long)
    axes = {0: "batch", 1: "tokens"}
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    os.close(fd)
    try:
        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                model, (sample, sample, torch.zeros_like(sample)), tmp,
                input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["last_hidden_state"],
                dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes,
                              "last_hidden_state": axes},
                opset_version=17, dynamo=False,
            )  # fmt: skip
        os.replace(tmp, out)
    except Exception as exc:
        raise OnnxUnavailable(f"the export failed ({type(exc).__name__}: {exc})") from None
    finally:
        Path(tmp).unlink(missing_ok=True)


class OnnxEncoder:
    """Tokenize (no padding beyond each batch's longest text), run the graph, mean-pool over the mask."""

    def __init__(self, graph: Path, model_dir: Path, threads: int) -> None:
        from tokenizers import Tokenizer

        max_len, self.normalize, self.dim = _mean_pooled(model_dir)
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_len)
        ort = onnxruntime("Memory embeddings", "memory")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}

    def encode(self, texts: list[str]) -> npt.NDArray[np.float32]:
        encoded = self.tokenizer.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: len(encoded[i].ids))  # like lengths batch together
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(order), BATCH):
            batch = [encoded[i] for i in order[start : start + BATCH]]
            width = max(len(e.ids) for e in batch)
            ids = np.zeros((len(batch), width), dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, e in enumerate(batch):
                ids[row, : len(e.ids)] = e.ids
                mask[row, : len(e.ids)] = 1
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            hidden = self.session.run(None, {k: v for k, v in feed.items() if k in self.inputs})[0]
            weights = mask[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
            out[[order[i] for i in range(start, start + len(batch))]] = pooled
        if self.normalize:
            out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out


def open_encoder(
    model_dir: Path, cache_dir: Path, threads: int, reference: Callable[[list[str]], npt.NDArray[np.float32]]
) -> OnnxEncoder:
    """The cached graph for `model_dir`, exported and checked against `reference` (sentence-transformers)
    the first time; OnnxUnavailable when it cannot be used."""
    _mean_pooled(model_dir)
    graph = cache_dir / f"{model_dir.name}-{cache_key(model_dir)}.onnx"
    with _EXPORT_LOCK:
        if graph.is_file():
            stat = graph.stat()
            key = (str(graph), threads, stat.st_mtime_ns, stat.st_size)
            try:
                if key not in _ENCODERS:
                    _ENCODERS[key] = OnnxEncoder(graph, model_dir, threads)
                return _ENCODERS[key]
            except Exception as exc:  # a damaged cache file: export it again
                log.warning("the cached onnx graph does not load (%s); exporting it again", type(exc).__name__)
                graph.unlink(missing_ok=True)
        log.info("exporting %s to onnx once (faster recall from now on)", model_dir.name)
        export(model_dir, graph)
        try:
            encoder = OnnxEncoder(graph, model_dir, threads)
            agreement = float((encoder.encode(PROBES) * reference(PROBES)).sum(axis=1).min())
        except Exception as exc:
            graph.unlink(missing_ok=True)
            raise OnnxUnavailable(f"the exported graph does not run ({type(exc).__name__})") from None
        if agreement < AGREEMENT:
            graph.unlink(missing_ok=True)
            raise OnnxUnavailable(f"the exported graph disagrees with sentence-transformers (cosine {agreement:.5f})")
        stat = graph.stat()
        _ENCODERS[(str(graph), threads, stat.st_mtime_ns, stat.st_size)] = encoder
        return encoder
