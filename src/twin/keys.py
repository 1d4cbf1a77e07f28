"""API keys: created once and shown once, stored only as a hash, compared in constant time.

Keys live in one index, `settings.home / "keys.db"`, because a request's key must be resolved
before its profile is known: the index maps the key's hash to exactly one profile, and that profile
is the only data the key can reach.

Why a plain SHA-256 and not a password KDF (scrypt/argon2): a key is 256 bits from `secrets`, not a
human password, so there is nothing to guess-and-check; a fast hash keeps lookup to one indexed
query per request while a leaked keys.db still reveals no usable key.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from twin.errors import NotFound, Unauthorized
from twin.ids import check_id, check_name, new_id
from twin.settings import Settings

KEY_PREFIX = "twin_sk_"
_SECRET_BYTES = 32  # 256 bits of randomness
_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY,
    profile TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    key_hash TEXT NOT NULL UNIQUE,
    hint TEXT NOT NULL,
    created TEXT NOT NULL,
    last_used TEXT,
    revoked TEXT
);
CREATE INDEX IF NOT EXISTS api_keys_profile ON api_keys(profile);
"""


@dataclass(frozen=True)
class ApiKey:
    """A stored key's public record (never the key itself)."""

    id: str
    profile: str
    name: str
    hint: str
    created: str
    last_used: str | None
    revoked: str | None

    @property
    def active(self) -> bool:
        return self.revoked is None

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "profile": self.profile,
            "name": self.name,
            "hint": self.hint,
            "created": self.created,
            "last_used": self.last_used,
            "revoked": self.revoked,
            "active": self.active,
        }


@dataclass(frozen=True)
class CreatedKey:
    """Returned once by create(): `secret` is the only copy of the key that will ever exist."""

    record: ApiKey
    secret: str


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class KeyStore:
    """The key index under settings.home. Safe to share between threads."""

    def __init__(self, settings: Settings) -> None:
        self.path: Path = settings.home / "keys.db"
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)
            self.path.chmod(0o600)
            self._conn = conn
        return self._conn

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def create(self, profile: str, name: str = "") -> CreatedKey:
        """Make a new key for `profile`; the returned secret is not stored anywhere."""
        check_name(profile, "profile name")
        secret = KEY_PREFIX + secrets.token_urlsafe(_SECRET_BYTES)
        record = ApiKey(
            id=new_id(),
            profile=profile,
            name=name.strip()[:80],
            hint=secret[:12] + "…",
            created=_now(),
            last_used=None,
            revoked=None,
        )
        with self._lock:
            self._db().execute(
                "INSERT INTO api_keys (id, profile, name, key_hash, hint, created) VALUES (?,?,?,?,?,?)",
                (record.id, record.profile, record.name, hash_key(secret), record.hint, record.created),
            )
        return CreatedKey(record=record, secret=secret)

    def list(self, profile: str | None = None) -> list[ApiKey]:
        sql = "SELECT * FROM api_keys"
        args: tuple[str, ...] = ()
        if profile is not None:
            sql, args = sql + " WHERE profile = ?", (check_name(profile, "profile name"),)
        with self._lock:
            rows = self._db().execute(sql + " ORDER BY created, id", args).fetchall()
        return [_record(r) for r in rows]

    def revoke(self, key_id: str, profile: str | None = None) -> ApiKey:
        """Revoke by id (optionally only within `profile`, so one profile cannot revoke another's)."""
        check_id(key_id, "key id")
        with self._lock:
            row = self._db().execute("SELECT * FROM api_keys WHERE id = ?", (key_id,)).fetchone()
            if row is None or (profile is not None and row["profile"] != profile):
                raise NotFound(f"No API key with id {key_id}.", "List keys with: twin keys list --profile P")
            if row["revoked"] is None:
                self._db().execute("UPDATE api_keys SET revoked = ? WHERE id = ?", (_now(), key_id))
            row = self._db().execute("SELECT * FROM api_keys WHERE id = ?", (key_id,)).fetchone()
        return _record(row)

    def has_any(self) -> bool:
        with self._lock:
            return self._db().execute("SELECT 1 FROM api_keys LIMIT 1").fetchone() is not None

    def verify(self, secret: str | None) -> ApiKey:
        """The active key matching `secret`, or Unauthorized. The hash comparison is constant-time."""
        if not secret or not secret.startswith(KEY_PREFIX) or len(secret) > 200:
            raise _unauthorized()
        digest = hash_key(secret)
        with self._lock:
            row = self._db().execute("SELECT * FROM api_keys WHERE key_hash = ?", (digest,)).fetchone()
        # The lookup is by hash (which reveals nothing about the key); compare again in constant time
        # so the decision itself never depends on how many characters matched.
        if row is None or not hmac.compare_digest(row["key_hash"], digest) or row["revoked"] is not None:
            raise _unauthorized()
        return _record(row)

    def touch(self, key_id: str) -> None:
        """Record when a key was last used (best effort)."""
        with self._lock:
            self._db().execute("UPDATE api_keys SET last_used = ? WHERE id = ?", (_now(), key_id))


def _unauthorized() -> Unauthorized:
    return Unauthorized(
        "Missing or invalid API key.",
        "Send 'Authorization: Bearer <key>'; create one with: twin keys create --profile P",
    )


def _record(row: sqlite3.Row) -> ApiKey:
    return ApiKey(
        id=row["id"],
        profile=row["profile"],
        name=row["name"],
        hint=row["hint"],
        created=row["created"],
        last_used=row["last_used"],
        revoked=row["revoked"],
    )
