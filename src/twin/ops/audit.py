"""Audit log of API actions: who (key id), what (method and route template), when, outcome.

It never records secrets (keys, Authorization headers), query strings, request bodies or message
contents. Authenticated requests go to the profile's own database (table `audit_log`, migration
0004); requests with no valid key belong to no profile and go to `settings.home / "audit.db"`.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import TYPE_CHECKING

from twin.ops.process import private_dir, private_file
from twin.profiles import Profile
from twin.settings import Settings
from twin.store.db import connect

if TYPE_CHECKING:
    from twin.voice.consent import Consent


@dataclass(frozen=True)
class AuditEvent:
    key_id: str | None
    client: str | None
    method: str
    route: str
    status: int

    @property
    def outcome(self) -> str:
        if self.status < 400:
            return "ok"
        if self.status in (401, 403):
            return "denied"
        return "client_error" if self.status < 500 else "server_error"


def _audit_ddl() -> str:
    sql = resources.files("twin.store.migrations").joinpath("0004_api.sql").read_text(encoding="utf-8")
    start = sql.index("CREATE TABLE IF NOT EXISTS audit_log")
    return sql[start:]


class AuditLog:
    """Appends events; one connection per profile, shared across threads under a lock."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._conns: dict[str, sqlite3.Connection] = {}

    def _conn_for(self, profile: Profile | None) -> sqlite3.Connection:
        key = profile.name if profile else ""
        conn = self._conns.get(key)
        if conn is None:
            if profile is not None:
                conn = connect(profile)
            else:
                path = private_file(private_dir(self.settings.home) / "audit.db")
                conn = sqlite3.connect(path, timeout=30, check_same_thread=False)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.executescript(_audit_ddl())
            self._conns[key] = conn
        return conn

    def record(self, profile: Profile | None, event: AuditEvent, duration_ms: float) -> None:
        ts = datetime.now(UTC).isoformat(timespec="milliseconds")
        with self._lock:
            conn = self._conn_for(profile)
            conn.execute(
                "INSERT INTO audit_log (ts, key_id, client, method, route, status, outcome, duration_ms)"
                " VALUES (?,?,?,?,?,?,?,?)",
                (
                    ts,
                    event.key_id,
                    event.client,
                    event.method,
                    event.route[:200],
                    event.status,
                    event.outcome,
                    round(duration_ms, 3),
                ),
            )
            conn.commit()

    def record_consent(
        self, profile: Profile, voice_id: str | None, consent: Consent, key_id: str | None = None
    ) -> None:
        """A voice made (or a reference spoken with) on someone's consent, or marked as a character."""
        who = f" of {consent.who}" if consent.who else ""
        target = f"voice {voice_id}" if voice_id else "one-off reference"
        route = f"consent: {target}: {consent.kind}{who}: {consent.statement or consent.source or consent.basis}"
        self.record(profile, AuditEvent(key_id, None, "CONSENT", route, 201), 0.0)

    def recent(self, profile: Profile | None, limit: int = 100) -> list[dict[str, object]]:
        with self._lock:
            conn = self._conn_for(profile)
            cur = conn.execute(
                "SELECT ts, key_id, client, method, route, status, outcome, duration_ms"
                " FROM audit_log ORDER BY id DESC LIMIT ?",
                (limit,),
            )
            cols = [c[0] for c in cur.description]
            return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]

    def close(self) -> None:
        with self._lock:
            for conn in self._conns.values():
                conn.close()
            self._conns.clear()
