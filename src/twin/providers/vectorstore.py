"""Vector-store contract for memory retrieval. Items are (id, partition, vector); a search looks in the
given partitions only and returns ids with cosine similarity (vectors are L2-normalized, so this is the
inner product). The store is an index: the memory rows in the profile's SQLite are the truth, so a
search result whose row is gone is ignored and `ids()` lets the owner purge such orphans.

Which store a profile uses comes from `<profile>/memory.json` (see twin.memory.config). No heavy imports."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt


@dataclass(frozen=True)
class VectorItem:
    id: str
    partition: str
    vector: npt.NDArray[np.float32]


@dataclass(frozen=True)
class VectorHit:
    id: str
    score: float


class VectorStore(ABC):
    name: ClassVar[str] = "vectorstore"

    def __init__(self, dim: int) -> None:
        self.dim = dim

    @abstractmethod
    def upsert(self, items: Sequence[VectorItem]) -> None:
        """Insert or replace items (same id: the new partition and vector win)."""

    @abstractmethod
    def delete(self, ids: Iterable[str]) -> None:
        """Remove items; unknown ids are ignored."""

    @abstractmethod
    def search(self, vector: npt.NDArray[np.float32], k: int, partitions: Sequence[str]) -> list[VectorHit]:
        """Up to k nearest items in `partitions`, best first."""

    @abstractmethod
    def ids(self) -> set[str]:
        """Every stored id (for reconciling with the memory rows)."""

    def count(self) -> int:
        return len(self.ids())

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
