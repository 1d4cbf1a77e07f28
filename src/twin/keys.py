"""API keys: created once and shown once, stored only as a hash, compared in constant time.

Keys live in one index, `settings.home / "keys.db"`, because a request's key must be resolved
before its profile is known: the index maps the key's hash to exactly one profile, and that profile
is the only data the key can reach.

Keys are bound to a profile's unique id (profiles.ProfileConfig.id), not to its name: a key opens
its profile only while a profile of that name exists *and* has that id, so deleting a profile ends
its keys even if a profile of the same name is created later. Deleting a profile also marks its keys
revoked; any key found bound to a profile that is gone is marked revoked when it is next seen.

Rows written before keys carried a profile id are bound once, when this version first opens keys.db:
to the profile of that name that exists then, if the key was created after that profile (a key older
than the profile belonged to an earlier profile of the same name and is revoked); a key whose profile
no longer exists is revoked.

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
from twin.ops.process import private_dir, private_file
from twin.profiles import ProfileManager
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
# Schema version 1 binds keys to the profile id and says why a key was revoked.
_SCHEMA_VERSION = 1
REVOKED_BY_OWNER = "revoked by the owner"
REVOKED_PROFILE_GONE = "its profile was deleted"


@dataclass(frozen=True)
class ApiKey:
    """A stored key's public record (never the key itself)."""

    id: str
    profile: str
    profile_id: str | None
    name: str
    hint: str
    created: str
    last_used: str | None
    revoked: str | None
    revoked_reason: str | None = None

    @property
    def active(self) -> bool:
        return self.revoked is None

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "profile": self.profile,
            "profile_id": self.profile_id,
            "name": self.name,
            "hint": self.hint,
            "created": self.created,
            "last_used": self.last_used,
            "revoked": self.revoked,
            "revoked_reason": self.revoked_reason,
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
        self.profiles = ProfileManager(settings)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            private_dir(self.path.parent)
            private_file(self.path)
            conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)
            self._migrate(conn)
            self._conn = conn
        return self._conn

    def _migrate(self, conn: sqlite3.Connection) -> None:
        """Version 1: add profile_id and revoked_reason, and bind the rows written before (module doc)."""
        if conn.execute("PRAGMA user_version").fetchone()[0] >= _SCHEMA_VERSION:
            return
        conn.execute("BEGIN IMMEDIATE")  # one process migrates; the others wait, then see the new version
        try:
            if conn.execute("PRAGMA user_version").fetchone()[0] < _SCHEMA_VERSION:
                columns = {r["name"] for r in conn.execute("PRAGMA table_info(api_keys)")}
                for column in ("profile_id", "revoked_reason"):
                    if column not in columns:
                        conn.execute(f"ALTER TABLE api_keys ADD COLUMN {column} TEXT")
                conn.execute("CREATE INDEX IF NOT EXISTS api_keys_profile_id ON api_keys(profile_id)")
                for row in conn.execute("SELECT * FROM api_keys WHERE profile_id IS NULL").fetchall():
                    self._bind_legacy(conn, row)
                conn.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _bind_legacy(self, conn: sqlite3.Connection, row: sqlite3.Row) -> None:
        uid = self.profiles.uid_of(row["profile"])
        if uid is not None and _parse(row["created"]) >= _parse(
            self.profiles.get(row["profile"]).load_config().created
        ):
            conn.execute("UPDATE api_keys SET profile_id = ? WHERE id = ?", (uid, row["id"]))
        elif row["revoked"] is None:
            conn.execute(
                "UPDATE api_keys SET revoked = ?, revoked_reason = ? WHERE id = ?",
                (_now(), REVOKED_PROFILE_GONE, row["id"]),
            )

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def create(self, profile: str, name: str = "") -> CreatedKey:
        """Make a new key for the existing `profile`; the returned secret is not stored anywhere."""
        check_name(profile, "profile name")
        profile_id = self.profiles.get(profile).uid
        secret = KEY_PREFIX + secrets.token_urlsafe(_SECRET_BYTES)
        record = ApiKey(
            id=new_id(),
            profile=profile,
            profile_id=profile_id,
            name=name.strip()[:80],
            hint=secret[:12] + "…",
            created=_now(),
            last_used=None,
            revoked=None,
        )
        with self._lock:
            self._db().execute(
                "INSERT INTO api_keys (id, profile, profile_id, name, key_hash, hint, created) VALUES (?,?,?,?,?,?,?)",
                (record.id, profile, profile_id, record.name, hash_key(secret), record.hint, record.created),
            )
        return CreatedKey(record=record, secret=secret)

    def list(self, profile: str | None = None) -> list[ApiKey]:
        """Keys of `profile` (all profiles when None); keys of a deleted profile show as revoked."""
        sql = "SELECT * FROM api_keys"
        args: tuple[str, ...] = ()
        if profile is not None:
            sql, args = sql + " WHERE profile = ?", (check_name(profile, "profile name"),)
        with self._lock:
            rows = self._db().execute(sql + " ORDER BY created, id", args).fetchall()
            return [self._reconciled(r) for r in rows]

    def revoke(self, key_id: str, profile: str | None = None) -> ApiKey:
        """Revoke by id (optionally only within `profile`, so one profile cannot revoke another's)."""
        check_id(key_id, "key id")
        with self._lock:
            row = self._db().execute("SELECT * FROM api_keys WHERE id = ?", (key_id,)).fetchone()
            if row is None or (profile is not None and row["profile"] != profile):
                raise NotFound(f"No API key with id {key_id}.", "List keys with: twin keys list")
            if row["revoked"] is None:
                self._mark_revoked(key_id, REVOKED_BY_OWNER)
            row = self._db().execute("SELECT * FROM api_keys WHERE id = ?", (key_id,)).fetchone()
        return _record(row)

    def revoke_profile(self, profile_id: str) -> int:
        """Revoke every key of the profile with this id (it is being deleted); returns how many."""
        with self._lock:
            cur = self._db().execute(
                "UPDATE api_keys SET revoked = ?, revoked_reason = ? WHERE profile_id = ? AND revoked IS NULL",
                (_now(), REVOKED_PROFILE_GONE, profile_id),
            )
        return cur.rowcount

    def has_any(self) -> bool:
        with self._lock:
            return self._db().execute("SELECT 1 FROM api_keys LIMIT 1").fetchone() is not None

    def verify(self, secret: str | None) -> ApiKey:
        """The active key matching `secret`, or Unauthorized. The hash comparison is constant-time, and the
        key must still be bound to the profile that now carries its profile name."""
        if not secret or not secret.startswith(KEY_PREFIX) or len(secret) > 200:
            raise _unauthorized()
        digest = hash_key(secret)
        with self._lock:
            row = self._db().execute("SELECT * FROM api_keys WHERE key_hash = ?", (digest,)).fetchone()
            # The lookup is by hash (which reveals nothing about the key); compare again in constant time
            # so the decision itself never depends on how many characters matched.
            if row is None or not hmac.compare_digest(row["key_hash"], digest):
                raise _unauthorized()
            record = self._reconciled(row)
        if not record.active:
            raise _unauthorized()
        return record

    def _reconciled(self, row: sqlite3.Row) -> ApiKey:
        """The row's record, first marking it revoked if its profile is gone (caller holds the lock)."""
        if row["revoked"] is None and self.profiles.uid_of(row["profile"]) != row["profile_id"]:
            self._mark_revoked(row["id"], REVOKED_PROFILE_GONE)
            row = self._db().execute("SELECT * FROM api_keys WHERE id = ?", (row["id"],)).fetchone()
        return _record(row)

    def _mark_revoked(self, key_id: str, reason: str) -> None:
        self._db().execute(
            "UPDATE api_keys SET revoked = ?, revoked_reason = ? WHERE id = ? AND revoked IS NULL",
            (_now(), reason, key_id),
        )

    def touch(self, key_id: str) -> None:
        """Record when a key was last used (best effort)."""
        with self._lock:
            self._db().execute("UPDATE api_keys SET last_used = ? WHERE id = ?", (_now(), key_id))


def _parse(timestamp: str) -> datetime:
    value = datetime.fromisoformat(timestamp)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _unauthorized() -> Unauthorized:
    return Unauthorized(
        "Missing or invalid API key.",
        "Send 'Authorization: Bearer <key>'; create one with: twin keys create --profile P",
    )


def _record(row: sqlite3.Row) -> ApiKey:
    return ApiKey(
        id=row["id"],
        profile=row["profile"],
        profile_id=row["profile_id"],
        name=row["name"],
        hint=row["hint"],
        created=row["created"],
        last_used=row["last_used"],
        revoked=row["revoked"],
        revoked_reason=row["revoked_reason"],
    )
