"""sqlite-vec: the embedded default vector store, in a SQLite file of its own beside the profile's twin.db.

The standard library's sqlite3 here cannot load extensions, so this store goes through `pysqlite3` (a
newer SQLite built to load them). The vectors live in their own file because two copies of SQLite in one
process must never open the same database: each keeps its own POSIX lock bookkeeping, so closing a
connection in one silently drops the other's locks, and concurrent writers can then corrupt the file
(sqlite.org/howtocorrupt.html, "multiple copies of SQLite linked into the same application"). Memory rows
in twin.db remain the source of truth.

Two tables: the float32 vectors in a plain table (`memory_vector_values`, indexed by id and partition),
and their 1-bit quantized copies in a sqlite-vec `vec0` table (`memory_vector_bits`). A partition of up to
`exact_upto` items is searched exactly (sqlite-vec's cosine over every vector). A larger one is searched
in two stages: sqlite-vec's Hamming KNN over the bits picks `oversample * k` candidates, whose full
vectors (point lookups in the plain table) are then scored exactly. With MiniLM embeddings and
oversample 4 this keeps ~96% of the exact top 6 and costs ~16 ms at 100k vectors, where an exact scan
costs ~100 ms (sqlite-vec's portable build has no SIMD)."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from twin.errors import MissingDependency
from twin.providers.vectorstore import VectorHit, VectorItem, VectorStore

VALUES = "memory_vector_values"
BITS = "memory_vector_bits"
OLD_TABLE = "memory_vectors"  # one vec0 table of floats and bits, before the two-stage search


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

    def __init__(self, path: str | Path, dim: int = 384, exact_upto: int = 2000, oversample: int = 4) -> None:
        super().__init__(dim)
        self.path = Path(path)
        self.exact_upto = exact_upto
        self.oversample = oversample
        self._lock = threading.Lock()
        self._sizes: dict[str, int] = {}  # partition sizes, valid while nobody else writes the file
        self._version = -1
        self.conn = open_connection(self.path)
        # the vectors are an index of the memory rows: an older layout is dropped and rebuilt from them
        self.conn.execute(f"DROP TABLE IF EXISTS {OLD_TABLE}")
        self.conn.execute(
            f"CREATE TABLE IF NOT EXISTS {VALUES} "
            "(item_id TEXT PRIMARY KEY, part TEXT NOT NULL, embedding BLOB NOT NULL)"
        )
        self.conn.execute(f"CREATE INDEX IF NOT EXISTS {VALUES}_part ON {VALUES} (part)")
        self.conn.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {BITS} USING vec0(item_id TEXT PRIMARY KEY, "
            f"part TEXT PARTITION KEY, bits bit[{dim}])"
        )

    def upsert(self, items: Sequence[VectorItem]) -> None:
        if not items:
            return
        rows = [(i.id, i.partition, _blob(i.vector)) for i in items]
        if any(len(r[2]) != 4 * self.dim for r in rows):
            raise ValueError(f"vectors must have {self.dim} dimensions")
        with self._writing():
            self._delete([r[0] for r in rows])
            self.conn.executemany(f"INSERT INTO {VALUES} (item_id, part, embedding) VALUES (?, ?, ?)", rows)
            self.conn.executemany(
                f"INSERT INTO {BITS} (item_id, part, bits) VALUES (?, ?, vec_quantize_binary(?))", rows
            )

    def delete(self, ids: Iterable[str]) -> None:
        with self._writing():
            self._delete(list(ids))

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """One transaction over both tables; the remembered partition sizes are dropped."""
        with self._lock:
            self._sizes.clear()
            self.conn.execute("BEGIN")
            try:
                yield
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise

    def _delete(self, ids: Sequence[str]) -> None:
        pairs = [(i,) for i in ids]
        self.conn.executemany(f"DELETE FROM {VALUES} WHERE item_id = ?", pairs)
        self.conn.executemany(f"DELETE FROM {BITS} WHERE item_id = ?", pairs)

    def search(self, vector: npt.NDArray[np.float32], k: int, partitions: Sequence[str]) -> list[VectorHit]:
        q = _blob(vector)
        hits: list[VectorHit] = []
        with self._lock:
            for part in partitions:
                size = self._size(part)
                if size == 0:
                    continue
                if size <= max(self.exact_upto, k * self.oversample):
                    rows = self.conn.execute(
                        f"SELECT item_id, vec_distance_cosine(embedding, ?) AS d FROM {VALUES} WHERE part = ? "
                        "ORDER BY d LIMIT ?",
                        (q, part, k),
                    ).fetchall()
                else:
                    rows = self._two_stage(q, k, part)
                hits += [VectorHit(r[0], 1.0 - float(r[1])) for r in rows]
        return sorted(hits, key=lambda h: -h.score)[:k]

    def _size(self, part: str) -> int:
        version = int(self.conn.execute("PRAGMA data_version").fetchone()[0])  # changes when others commit
        if version != self._version:
            self._sizes.clear()
            self._version = version
        if part not in self._sizes:
            row = self.conn.execute(f"SELECT count(*) FROM {VALUES} WHERE part = ?", (part,)).fetchone()
            self._sizes[part] = int(row[0])
        return self._sizes[part]

    def _two_stage(self, q: bytes, k: int, part: str) -> list[Any]:
        found = self.conn.execute(
            f"SELECT item_id FROM {BITS} WHERE bits MATCH vec_quantize_binary(?) AND k = ? AND part = ?",
            (q, k * self.oversample, part),
        ).fetchall()
        ids = [r[0] for r in found]
        marks = ",".join("?" * len(ids))
        return self.conn.execute(
            f"SELECT item_id, vec_distance_cosine(embedding, ?) AS d FROM {VALUES} WHERE item_id IN ({marks}) "
            "ORDER BY d LIMIT ?",
            [q, *ids, k],
        ).fetchall()

    def ids(self) -> set[str]:
        with self._lock:
            return {r[0] for r in self.conn.execute(f"SELECT item_id FROM {VALUES}")}

    def count(self) -> int:
        with self._lock:
            return int(self.conn.execute(f"SELECT count(*) FROM {VALUES}").fetchone()[0])

    def close(self) -> None:
        self.conn.close()


def _blob(vector: npt.NDArray[np.float32]) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


def create(**kwargs: Any) -> SqliteVecStore:
    return SqliteVecStore(**kwargs)
