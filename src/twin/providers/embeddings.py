"""Text-embedding contract: `embed(texts)` returns an (n, dim) float32 array of L2-normalized vectors,
so inner product is cosine similarity. Backends load their model in `load()` (heavy imports there) and
are safe to call from several threads. No heavy imports here."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt


class Embeddings(ABC):
    name: ClassVar[str] = "embeddings"

    def __init__(self, model: str, dim: int) -> None:
        self.model = model
        self.dim = dim
        self._ready = False

    @property
    def loaded(self) -> bool:
        return self._ready

    def load(self) -> None:
        """Load the model once; embed() calls it."""
        if not self._ready:
            self._load()
            self._ready = True

    @abstractmethod
    def _load(self) -> None: ...

    @abstractmethod
    def _embed(self, texts: list[str]) -> npt.NDArray[np.float32]: ...

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        import numpy as np

        self.load()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = np.asarray(self._embed(list(texts)), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)
