"""sqlite-vec: the embedded default vector store, in a SQLite file of its own beside the profile's twin.db.

The standard library's sqlite3 here cannot load extensions, so this store goes through `pysqlite3` (a
newer SQLite built to load them). The vectors live in their own file because two copies of SQLite in one
process must never open the same database: each keeps its own POSIX lock bookkeeping, so closing a
connection in one silently drops the other's locks, and concurrent writers can then corrupt the file
(sqlite.org/howtocorrupt.html, "multiple copies of SQLite linked into the same application"). Memory rows
in twin.db remain the source of truth.

Search is exact cosine over float32 vectors. Above `binary_from` items it first ranks by Hamming distance
over 1-bit quantized copies (sqlite-vec `bit[]`, ~10x faster) and re-scores the best `oversample * k` with
the full vectors, which keeps p95 latency low at 100k memories."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from twin.errors import MissingDependency
from twin.providers.vectorstore import VectorHit, VectorItem, VectorStore

TABLE = "memory_vectors"


def open_connection(path: Path) -> Any:
    """A pysqlite3 connection to `path` with sqlite-vec loaded."""
    try:
        import pysqlite3.dbapi2 as sqlite3
        import sqlite_vec
    except ImportError:
        raise MissingDependency.for_extra("The sqlite-vec memory store", "memory", "pysqlite3 / sqlite_vec") from None
    conn = sqlite3.connect(str(path), timeout=30, check_same_thread=False, isolation_level=None)
    conn.enable_load_extension(True)
    sqlite_vec.load(conn)
    conn.enable_load_extension(False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA secure_delete=ON")
    return conn


class SqliteVecStore(VectorStore):
    name = "sqlite_vec"

    def __init__(self, path: str | Path, dim: int = 384, binary_from: int = 20_000, oversample: int = 8) -> None:
        super().__init__(dim)
        self.path = Path(path)
        self.binary_from = binary_from
        self.oversample = oversample
        self._lock = threading.Lock()
        self.conn = open_connection(self.path)
        self.conn.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {TABLE} USING vec0(item_id TEXT PRIMARY KEY, "
            f"part TEXT PARTITION KEY, embedding float[{dim}] distance_metric=cosine, bits bit[{dim}])"
        )

    def upsert(self, items: Sequence[VectorItem]) -> None:
        if not items:
            return
        rows = [(i.id, i.partition, _blob(i.vector), _blob(i.vector)) for i in items]
        with self._lock:
            self.conn.execute("BEGIN")
            try:
                self.conn.executemany(f"DELETE FROM {TABLE} WHERE item_id = ?", [(r[0],) for r in rows])
                self.conn.executemany(
                    f"INSERT INTO {TABLE} (item_id, part, embedding, bits) VALUES (?, ?, ?, vec_quantize_binary(?))",
                    rows,
                )
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise

    def delete(self, ids: Iterable[str]) -> None:
        with self._lock:
            self.conn.executemany(f"DELETE FROM {TABLE} WHERE item_id = ?", [(i,) for i in ids])

    def _count(self, partition: str) -> int:
        return int(self.conn.execute(f"SELECT count(*) FROM {TABLE} WHERE part = ?", (partition,)).fetchone()[0])

    def search(self, vector: npt.NDArray[np.float32], k: int, partitions: Sequence[str]) -> list[VectorHit]:
        q = _blob(vector)
        hits: list[VectorHit] = []
        with self._lock:
            for part in partitions:
                if self._count(part) > self.binary_from:
                    hits += self._binary_search(q, k, part)
                    continue
                rows = self.conn.execute(
                    f"SELECT item_id, distance FROM {TABLE} WHERE embedding MATCH ? AND k = ? AND part = ?",
                    (q, k, part),
                ).fetchall()
                hits += [VectorHit(r[0], 1.0 - float(r[1])) for r in rows]
        return sorted(hits, key=lambda h: -h.score)[:k]

    def _binary_search(self, q: bytes, k: int, part: str) -> list[VectorHit]:
        rows = self.conn.execute(
            f"SELECT v.item_id, vec_distance_cosine(v.embedding, ?) AS d FROM {TABLE} v WHERE v.item_id IN ("
            f"SELECT item_id FROM {TABLE} WHERE bits MATCH vec_quantize_binary(?) AND k = ? AND part = ?) "
            "ORDER BY d LIMIT ?",
            (q, q, k * self.oversample, part, k),
        ).fetchall()
        return [VectorHit(r[0], 1.0 - float(r[1])) for r in rows]

    def ids(self) -> set[str]:
        with self._lock:
            return {r[0] for r in self.conn.execute(f"SELECT item_id FROM {TABLE}")}

    def count(self) -> int:
        with self._lock:
            return int(self.conn.execute(f"SELECT count(*) FROM {TABLE}").fetchone()[0])

    def close(self) -> None:
        self.conn.close()


def _blob(vector: npt.NDArray[np.float32]) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


def create(**kwargs: Any) -> SqliteVecStore:
    return SqliteVecStore(**kwargs)
