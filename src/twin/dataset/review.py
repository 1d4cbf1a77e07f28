"""Review: list, search, drop and restore samples of a built dataset. Decisions live in the profile's
SQLite store (dataset_reviews), so drops survive rebuilds; the API can expose this service as is."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from twin.errors import InvalidInput, NotFound
from twin.profiles import Profile
from twin.store.db import connect

_SAMPLE_ID = re.compile(r"[0-9a-f]{16}")
STATUSES = ("train", "val", "unselected", "duplicate", "dropped")


@contextmanager
def _db(profile: Profile) -> Iterator[sqlite3.Connection]:
    conn = connect(profile)
    try:
        with conn:
            yield conn
    finally:
        conn.close()


@dataclass
class ReviewPage:
    total: int
    items: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"total": self.total, "items": self.items}


class ReviewService:
    def __init__(self, profile: Profile, dataset: str) -> None:
        self.profile = profile
        self.dataset = dataset
        self.dir = profile.dataset_dir(dataset)

    # -- decisions -------------------------------------------------------------------------------
    def dropped(self) -> dict[str, str]:
        """sample id → reason for every drop recorded for this dataset."""
        with _db(self.profile) as conn:
            rows = conn.execute(
                "SELECT sample_id, reason FROM dataset_reviews WHERE dataset=? AND action='drop'", (self.dataset,)
            ).fetchall()
        return {r["sample_id"]: r["reason"] for r in rows}

    def drop(self, sample_id: str, reason: str = "") -> dict[str, Any]:
        self._check_known(sample_id)
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with _db(self.profile) as conn:
            conn.execute(
                "INSERT INTO dataset_reviews (dataset, sample_id, action, reason, updated_at) "
                "VALUES (?, ?, 'drop', ?, ?) ON CONFLICT (dataset, sample_id) DO UPDATE SET "
                "reason=excluded.reason, updated_at=excluded.updated_at",
                (self.dataset, sample_id, reason, now),
            )
        return {"id": sample_id, "dropped": True, "reason": reason}

    def restore(self, sample_id: str) -> dict[str, Any]:
        self._check_id(sample_id)
        with _db(self.profile) as conn:
            cur = conn.execute("DELETE FROM dataset_reviews WHERE dataset=? AND sample_id=?", (self.dataset, sample_id))
        if cur.rowcount == 0:
            raise NotFound(
                f"Sample {sample_id} is not dropped in dataset '{self.dataset}'.",
                "List dropped samples with: twin dataset review --status dropped",
            )
        return {"id": sample_id, "dropped": False}

    # -- browsing --------------------------------------------------------------------------------
    def samples(self) -> list[dict[str, Any]]:
        path = self.dir / "samples.jsonl"
        if not path.is_file():
            raise NotFound(
                f"Dataset '{self.dataset}' has not been built.",
                f"Build it with: twin dataset build --name {self.dataset}",
            )
        with path.open(encoding="utf-8") as f:
            items = [json.loads(line) for line in f if line.strip()]
        drops = self.dropped()
        for item in items:
            if item["id"] in drops:
                item["status"] = "dropped"
                item["review_reason"] = drops[item["id"]]
        return items

    def list(self, status: str | None = None, offset: int = 0, limit: int = 20) -> ReviewPage:
        if status is not None and status not in STATUSES:
            raise InvalidInput(f"Unknown status '{status}'.", f"Use one of: {', '.join(STATUSES)}.")
        items = [s for s in self.samples() if status is None or s["status"] == status]
        return ReviewPage(len(items), items[offset : offset + limit])

    def search(self, query: str, status: str | None = None, offset: int = 0, limit: int = 20) -> ReviewPage:
        q = query.lower().strip()
        if not q:
            raise InvalidInput("The search query is empty.", "Give a word or phrase to look for.")
        items = [
            s
            for s in self.list(status, 0, 10**9).items
            if q in s["contact"].lower() or any(q in m["content"].lower() for m in s["messages"])
        ]
        return ReviewPage(len(items), items[offset : offset + limit])

    def get(self, sample_id: str) -> dict[str, Any]:
        self._check_id(sample_id)
        for s in self.samples():
            if s["id"] == sample_id:
                return s
        raise NotFound(
            f"No sample {sample_id} in dataset '{self.dataset}'.", "List samples with: twin dataset review --json"
        )

    def _check_id(self, sample_id: str) -> None:
        if not _SAMPLE_ID.fullmatch(sample_id or ""):
            raise InvalidInput(f"'{sample_id}' is not a sample id.", "Sample ids are 16 hex characters.")

    def _check_known(self, sample_id: str) -> None:
        self.get(sample_id)
