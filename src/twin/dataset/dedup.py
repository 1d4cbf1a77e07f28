"""Near-duplicate detection: MinHash LSH (datasketch) over character 5-grams of normalized text,
candidates verified by exact Jaccard ≥ threshold, clusters by union-find. Exact duplicates (same
normalized text) are joined first without hashing."""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence

SHINGLE = 5
CANDIDATE_SLACK = 0.15
_NORM = re.compile(r"[^\w<>]+", re.UNICODE)


def normalize(text: str) -> str:
    return " ".join(_NORM.sub(" ", text.lower()).split())


def shingles(text: str, k: int = SHINGLE) -> set[bytes]:
    norm = normalize(text).encode("utf-8")
    if len(norm) <= k:
        return {norm}
    return {norm[i : i + k] for i in range(len(norm) - k + 1)}


def _crc32(data: bytes) -> int:
    # datasketch needs a 32-bit hash; crc32 is ~10x faster than its default sha1 and spreads well
    # enough for shingles once the MinHash permutations are applied.
    return zlib.crc32(data)


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def exact_clusters(texts: Sequence[str]) -> list[list[int]]:
    """Baseline: groups of texts whose normalized form is identical (size ≥ 2)."""
    groups: dict[str, list[int]] = {}
    for i, t in enumerate(texts):
        groups.setdefault(normalize(t), []).append(i)
    return [g for g in groups.values() if len(g) > 1]


def near_duplicate_clusters(
    texts: Sequence[str], threshold: float = 0.85, num_perm: int = 128, seed: int = 1
) -> list[list[int]]:
    """Groups (size ≥ 2, indices ascending) of texts with Jaccard similarity ≥ threshold."""
    from datasketch import MinHash, MinHashLSH

    uf = _UnionFind(len(texts))
    first: dict[str, int] = {}
    unique: list[int] = []
    for i, t in enumerate(texts):
        key = normalize(t)
        if key in first:
            uf.union(first[key], i)
        else:
            first[key] = i
            unique.append(i)
    # Candidates come from a looser LSH band setting so pairs just above the threshold are not lost to
    # MinHash estimation noise; each candidate is then verified with the exact Jaccard of its shingles.
    proto = MinHash(num_perm=num_perm, seed=seed, hashfunc=_crc32)
    lsh = MinHashLSH(threshold=max(0.5, threshold - CANDIDATE_SLACK), num_perm=num_perm)
    cache: dict[int, set[bytes]] = {}
    for i in unique:
        mine = shingles(texts[i])
        mh = MinHash(
            num_perm=num_perm, seed=seed, hashfunc=_crc32, permutations=proto.permutations, scheme=proto.scheme
        )
        mh.update_batch(mine)
        for j in lsh.query(mh):
            other = cache.get(j) or cache.setdefault(j, shingles(texts[j]))
            if len(mine & other) >= threshold * len(mine | other):
                uf.union(j, i)
        lsh.insert(i, mh, check_duplication=False)
    clusters: dict[int, list[int]] = {}
    for i in range(len(texts)):
        clusters.setdefault(uf.find(i), []).append(i)
    return [c for c in clusters.values() if len(c) > 1]
