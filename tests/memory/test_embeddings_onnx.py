"""The embedded MiniLM through onnxruntime: exported once from its own local weights into the cache,
the same vectors as sentence-transformers (texts of every length, batches out of length order, the
truncation limit), reused without torch afterwards, re-exported when the cache file is damaged, and
torch kept for models onnx cannot run."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from twin.backends.embeddings_onnx import OnnxUnavailable, _mean_pooled, cache_key
from twin.backends.embeddings_st import SentenceTransformerEmbeddings, default_model_path

TEXTS = [
    "ok",
    "My brother Ravi teaches chemistry in Leeds.",
    "I left Globex in March, I'm at Acme now. " * 60,  # past the 256-token limit
    "¿Dónde vive mi hermana? Elle habite à Lyon 🙂",
    *[f"note {n}: " + "word " * (n % 40) for n in range(40)],  # more than one batch, lengths interleaved
]


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("onnx-cache")


def test_onnx_vectors_equal_sentence_transformers(cache: Path) -> None:
    onnx = SentenceTransformerEmbeddings(cache_dir=cache)
    torch = SentenceTransformerEmbeddings(engine="torch")
    got, want = onnx.embed(TEXTS), torch.embed(TEXTS)
    assert onnx.engine == "onnx" and torch.engine == "torch"
    assert got.shape == want.shape == (len(TEXTS), 384)
    assert float((got * want).sum(axis=1).min()) > 0.9999
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    assert len(list(cache.glob("*.onnx"))) == 1


def test_a_cached_graph_runs_without_torch(cache: Path) -> None:
    SentenceTransformerEmbeddings(cache_dir=cache).embed(["warm"])  # exported (or already cached)
    code = (
        "import sys; from twin.backends.embeddings_st import SentenceTransformerEmbeddings as E; "
        f"e = E(cache_dir={str(cache)!r}); v = e.embed(['hello there']); "
        "print(e.engine, v.shape[1], 'torch' in sys.modules, 'sentence_transformers' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["onnx", "384", "False", "False"]


def test_a_damaged_cache_file_is_exported_again(tmp_path: Path) -> None:
    first = SentenceTransformerEmbeddings(cache_dir=tmp_path)
    want = first.embed(TEXTS[:2])
    graph = next(tmp_path.glob("*.onnx"))
    graph.write_bytes(b"not an onnx graph")
    again = SentenceTransformerEmbeddings(cache_dir=tmp_path)
    assert float((again.embed(TEXTS[:2]) * want).sum(axis=1).min()) > 0.9999 and again.engine == "onnx"
    assert graph.stat().st_size > 1_000_000


def test_models_onnx_cannot_run_stay_on_torch(tmp_path: Path) -> None:
    model = tmp_path / "cls-model"
    shutil.copytree(default_model_path(), model)
    pooling = model / "1_Pooling" / "config.json"
    config = json.loads(pooling.read_text())
    config.update(pooling_mode_cls_token=True, pooling_mode_mean_tokens=False)
    pooling.write_text(json.dumps(config))
    with pytest.raises(OnnxUnavailable, match="mean-pooled"):
        _mean_pooled(model)
    emb = SentenceTransformerEmbeddings(model_path=model, cache_dir=tmp_path / "cache")
    assert emb.embed(["hi"]).shape == (1, 384) and emb.engine == "torch"
    assert not (tmp_path / "cache").exists() or not list((tmp_path / "cache").glob("*.onnx"))


def test_the_cache_key_follows_the_weights(tmp_path: Path) -> None:
    model = tmp_path / "m"
    shutil.copytree(default_model_path(), model)
    before = cache_key(model)
    (model / "config.json").write_text((model / "config.json").read_text() + "\n")
    assert cache_key(model) != before
