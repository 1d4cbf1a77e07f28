"""Postgres with the pgvector extension (psycopg 3): one table of (id, part, embedding vector(dim)) with
an HNSW index on inner product (`vector_ip_ops`; vectors are L2-normalized, so it ranks by cosine)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from twin.errors import InvalidInput, MissingDependency, Unavailable
from twin.providers.vectorstore import VectorHit, VectorItem, VectorStore


class PgVectorStore(VectorStore):
    name = "pgvector"

    def __init__(self, dsn: str, dim: int = 384, table: str = "twin_memories") -> None:
        super().__init__(dim)
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", table):
            raise InvalidInput(f"'{table}' is not a valid table name.", "Use lowercase letters, digits and _.")
        try:
            import psycopg
            from pgvector.psycopg import register_vector
        except ImportError:
            raise MissingDependency.for_extra("The pgvector memory store", "pgvector", "psycopg / pgvector") from None
        self.table = table
        try:
            self.conn = psycopg.connect(dsn, autocommit=True)
            self.conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
            register_vector(self.conn)
            self.conn.execute(
                f"CREATE TABLE IF NOT EXISTS {table} (id text PRIMARY KEY, part text NOT NULL, embedding vector({dim}))"
            )
            self.conn.execute(f"CREATE INDEX IF NOT EXISTS {table}_part ON {table} (part)")
            self.conn.execute(
                f"CREATE INDEX IF NOT EXISTS {table}_hnsw ON {table} USING hnsw (embedding vector_ip_ops)"
            )
        except psycopg.Error as exc:
            raise Unavailable(
                f"Cannot use Postgres for memory vectors ({str(exc).strip()[:200]}).",
                "Check pgvector_dsn in memory.json and that the vector extension is installed.",
            ) from None

    def upsert(self, items: Sequence[VectorItem]) -> None:
        if not items:
            return
        with self.conn.transaction(), self.conn.cursor() as cur:
            cur.executemany(
                f"INSERT INTO {self.table} (id, part, embedding) VALUES (%s, %s, %s) "
                "ON CONFLICT (id) DO UPDATE SET part = EXCLUDED.part, embedding = EXCLUDED.embedding",
                [(i.id, i.partition, np.asarray(i.vector, dtype=np.float32)) for i in items],
            )

    def delete(self, ids: Iterable[str]) -> None:
        ids = list(ids)
        if ids:
            self.conn.execute(f"DELETE FROM {self.table} WHERE id = ANY(%s)", (ids,))

    def search(self, vector: npt.NDArray[np.float32], k: int, partitions: Sequence[str]) -> list[VectorHit]:
        q = np.asarray(vector, dtype=np.float32)
        rows = self.conn.execute(
            f"SELECT id, -(embedding <#> %s) AS score FROM {self.table} WHERE part = ANY(%s) "
            "ORDER BY embedding <#> %s LIMIT %s",
            (q, list(partitions), q, k),
        ).fetchall()
        return [VectorHit(r[0], float(r[1])) for r in rows]

    def ids(self) -> set[str]:
        return {r[0] for r in self.conn.execute(f"SELECT id FROM {self.table}")}

    def count(self) -> int:
        row = self.conn.execute(f"SELECT count(*) FROM {self.table}").fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        self.conn.close()


def create(**kwargs: Any) -> PgVectorStore:
    return PgVectorStore(**kwargs)
