"""One VectorStore contract over every backend: sqlite-vec in the profile's SQLite (exact and the
binary-quantized path), Qdrant through qdrant-client local mode, and pgvector on a real Postgres
started from the pgserver wheel."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from twin.providers import registry
from twin.providers.vectorstore import VectorItem, VectorStore

DIM = 16


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    x = rng.standard_normal((n, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    pgserver = pytest.importorskip("pgserver")
    pytest.importorskip("psycopg")
    srv = pgserver.get_server(tmp_path_factory.mktemp("pg"), cleanup_mode="stop")
    try:
        yield srv.get_uri()
    finally:
        srv.cleanup()


def _make(name: str, tmp_path: Path, request: pytest.FixtureRequest) -> VectorStore:
    if name == "sqlite_vec":
        return registry.create("vectorstore", "sqlite_vec", path=tmp_path / "twin.db", dim=DIM)
    if name == "sqlite_vec_binary":
        return registry.create(
            "vectorstore", "sqlite_vec", path=tmp_path / "twin.db", dim=DIM, exact_upto=10, oversample=2
        )
    if name == "qdrant":
        pytest.importorskip("qdrant_client")
        return registry.create("vectorstore", "qdrant", path=tmp_path / "qdrant", dim=DIM)
    dsn = request.getfixturevalue("postgres")
    store = registry.create(
        "vectorstore", "pgvector", dsn=dsn, dim=DIM, table="t_" + tmp_path.name[-8:].replace("-", "_")
    )
    store.delete(store.ids())
    return store


@pytest.fixture(params=["sqlite_vec", "sqlite_vec_binary", "qdrant", "pgvector"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[VectorStore]:
    s = _make(request.param, tmp_path, request)
    yield s
    s.close()


def test_contract(store: VectorStore) -> None:
    from twin.ids import new_id

    rng = np.random.default_rng(7)
    vecs = _unit(rng, 60)
    ids = [new_id() for _ in range(60)]
    store.upsert(
        [VectorItem(i, "user" if n % 2 else "persona:a", v) for n, (i, v) in enumerate(zip(ids, vecs, strict=True))]
    )
    assert store.count() == 60 and store.ids() == set(ids)
    hits = store.search(vecs[1], 5, ["user"])
    assert hits[0].id == ids[1] and hits[0].score == pytest.approx(1.0, abs=1e-4)
    assert all(ids.index(h.id) % 2 == 1 for h in hits)  # only the asked partition
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    both = store.search(vecs[2], 60, ["user", "persona:a"])
    assert len(both) == 60
    store.upsert([VectorItem(ids[1], "user#old", vecs[1])])  # moved partition, same id
    assert ids[1] not in {h.id for h in store.search(vecs[1], 5, ["user"])}
    assert store.search(vecs[1], 1, ["user#old"])[0].id == ids[1]
    store.delete([ids[1], ids[3], "01a00000-0000-7000-8000-000000000000"])
    assert store.count() == 58 and ids[3] not in store.ids()


def test_sqlite_vec_vectors_live_in_their_own_file_never_opened_by_the_stdlib(tmp_path: Path) -> None:
    """Two SQLite libraries in one process must not share a database file (their POSIX locks clash):
    the memory service puts the vectors in memory_vectors.db, and twin.db is only ever opened by stdlib."""
    from twin.memory.config import MemoryConfig
    from twin.memory.service import open_vector_store
    from twin.profiles import ProfileManager
    from twin.settings import load_settings
    from twin.store.db import connect

    profile = ProfileManager(load_settings()).create("me")
    conn = connect(profile)
    store = open_vector_store(profile, MemoryConfig(), DIM)
    store.upsert([VectorItem("a", "user", _unit(np.random.default_rng(1), 1)[0])])
    assert profile.vectors_db_path.is_file() and profile.vectors_db_path != profile.db_path
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert "memories" in names and not {"memory_vector_values", "memory_vector_bits"} & names
    for _ in range(20):  # open and close stdlib connections while the vector store keeps writing
        other = connect(profile)
        other.execute("SELECT count(*) FROM personas").fetchone()
        other.close()
        store.upsert([VectorItem("b", "user", _unit(np.random.default_rng(2), 1)[0])])
    assert [h.id for h in store.search(_unit(np.random.default_rng(1), 1)[0], 1, ["user"])] == ["a"]
    conn.close()
    store.close()


def test_profiles_on_one_postgres_never_share_vectors(postgres: str) -> None:
    """With the default table each profile gets its own: one profile's search never sees (or, when it
    reconciles with its own rows, deletes) another's vectors."""
    from twin.memory.config import MemoryConfig
    from twin.memory.service import open_vector_store
    from twin.profiles import ProfileManager
    from twin.settings import load_settings

    manager = ProfileManager(load_settings())
    config = MemoryConfig(vector_store="pgvector", pgvector_dsn=postgres)
    ann, bob = (open_vector_store(manager.create(n), config, DIM) for n in ("ann", "bob-2"))
    ann.upsert([VectorItem("a", "user", _unit(np.random.default_rng(1), 1)[0])])
    assert bob.count() == 0 and bob.search(_unit(np.random.default_rng(1), 1)[0], 5, ["user"]) == []
    assert ann.ids() == {"a"}
    ann.close()
    bob.close()


def test_sqlite_vec_two_stage_search_finds_what_the_exact_search_finds(tmp_path: Path) -> None:
    """Above exact_upto the bits pick candidates and their full vectors are scored: the neighbours of a
    query among 2000 embedding-sized vectors come back in the exact order with the exact scores."""
    rng = np.random.default_rng(3)
    dim = 384
    base = rng.standard_normal((2000, dim)).astype(np.float32)
    query = base[7].copy()
    for n, noise in ((8, 0.4), (9, 0.6), (10, 0.8)):  # three neighbours at growing distances
        base[n] = query + noise * rng.standard_normal(dim).astype(np.float32)
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    exact = registry.create("vectorstore", "sqlite_vec", path=tmp_path / "a.db", dim=dim, exact_upto=10**6)
    staged = registry.create("vectorstore", "sqlite_vec", path=tmp_path / "b.db", dim=dim, exact_upto=100)
    for store in (exact, staged):
        store.upsert([VectorItem(f"v{i}", "user", v) for i, v in enumerate(base)])
    want, got = exact.search(base[7], 4, ["user"]), staged.search(base[7], 4, ["user"])
    assert [h.id for h in got] == [h.id for h in want] == ["v7", "v8", "v9", "v10"]
    assert [h.score for h in got] == pytest.approx([h.score for h in want], abs=1e-5)
    exact.close()
    staged.close()


def test_sqlite_vec_index_of_an_older_layout_is_rebuilt(tmp_path: Path) -> None:
    """memory_vectors.db written before the two-stage layout: its table is dropped, and the memory
    service re-indexes the rows (test_write_policy covers the re-indexing)."""
    from twin.backends.vector_sqlite import open_connection

    conn = open_connection(tmp_path / "v.db")
    conn.execute(f"CREATE VIRTUAL TABLE memory_vectors USING vec0(item_id TEXT PRIMARY KEY, embedding float[{DIM}])")
    conn.close()
    store = registry.create("vectorstore", "sqlite_vec", path=tmp_path / "v.db", dim=DIM)
    assert store.count() == 0
    names = {r[0] for r in store.conn.execute("SELECT name FROM sqlite_master")}
    assert "memory_vectors" not in names and "memory_vector_values" in names
    store.close()


def test_sqlite_vec_sees_what_another_connection_wrote(tmp_path: Path) -> None:
    """Partition sizes are remembered between searches; a write by another process (the CLI while the
    server runs) makes the next search count again."""
    rng = np.random.default_rng(4)
    vecs = _unit(rng, 40)
    server = registry.create("vectorstore", "sqlite_vec", path=tmp_path / "v.db", dim=DIM, exact_upto=10)
    cli = registry.create("vectorstore", "sqlite_vec", path=tmp_path / "v.db", dim=DIM, exact_upto=10)
    server.upsert([VectorItem("a", "user", vecs[0])])
    assert [h.id for h in server.search(vecs[1], 5, ["user"])] == ["a"]
    cli.upsert([VectorItem(f"v{i}", "user", v) for i, v in enumerate(vecs[1:], 1)])
    assert server.search(vecs[1], 1, ["user"])[0].id == "v1"
    cli.delete(["v1"])
    assert "v1" not in {h.id for h in server.search(vecs[1], 5, ["user"])}
    server.close()
    cli.close()
