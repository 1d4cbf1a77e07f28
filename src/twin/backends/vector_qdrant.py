"""Qdrant through qdrant-client: a server URL in production, or local mode (a folder, no server) for a
single machine and the tests. Cosine distance; the partition is a payload field filtered at search."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from twin.errors import MissingDependency, Unavailable
from twin.providers.vectorstore import VectorHit, VectorItem, VectorStore


class QdrantStore(VectorStore):
    name = "qdrant"

    def __init__(
        self,
        dim: int = 384,
        url: str | None = None,
        path: str | Path | None = None,
        collection: str = "twin_memories",
        api_key: str | None = None,
    ) -> None:
        super().__init__(dim)
        try:
            from qdrant_client import QdrantClient, models
        except ImportError:
            raise MissingDependency.for_extra("The Qdrant memory store", "qdrant", "qdrant_client") from None
        self.models = models
        self.collection = collection
        try:
            self.client = QdrantClient(url=url, api_key=api_key) if url else QdrantClient(path=str(path or ":memory:"))
            if not self.client.collection_exists(collection):
                self.client.create_collection(
                    collection, vectors_config=models.VectorParams(size=dim, distance=models.Distance.COSINE)
                )
        except Exception as exc:  # qdrant-client raises transport-specific errors
            raise Unavailable(
                f"Cannot open the Qdrant collection '{collection}' ({exc}).",
                "Check qdrant_url in memory.json and that the Qdrant server is running.",
            ) from None

    def upsert(self, items: Sequence[VectorItem]) -> None:
        if not items:
            return
        points = [
            self.models.PointStruct(
                id=i.id, vector=np.asarray(i.vector, dtype=np.float32).tolist(), payload={"part": i.partition}
            )
            for i in items
        ]
        self.client.upsert(self.collection, points=points, wait=True)

    def delete(self, ids: Iterable[str]) -> None:
        ids = list(ids)
        if ids:
            self.client.delete(
                self.collection, points_selector=self.models.PointIdsList(points=list[Any](ids)), wait=True
            )

    def search(self, vector: npt.NDArray[np.float32], k: int, partitions: Sequence[str]) -> list[VectorHit]:
        m = self.models
        where = m.Filter(must=[m.FieldCondition(key="part", match=m.MatchAny(any=list(partitions)))])
        found = self.client.query_points(
            self.collection, query=np.asarray(vector, dtype=np.float32).tolist(), limit=k, query_filter=where
        )
        return [VectorHit(str(p.id), float(p.score)) for p in found.points]

    def ids(self) -> set[str]:
        out: set[str] = set()
        offset: Any = None
        while True:
            points, offset = self.client.scroll(self.collection, limit=1000, offset=offset, with_payload=False)
            out.update(str(p.id) for p in points)
            if offset is None:
                return out

    def count(self) -> int:
        return int(self.client.count(self.collection, exact=True).count)

    def close(self) -> None:
        self.client.close()


def create(**kwargs: Any) -> QdrantStore:
    return QdrantStore(**kwargs)
