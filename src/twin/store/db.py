"""Open a profile's SQLite database and apply the ordered migrations in store/migrations/.

Each migration is a file NNNN_name.sql applied once, in order, inside a transaction."""

from __future__ import annotations

import sqlite3
from importlib import resources

from twin.errors import TwinError
from twin.ops.process import private_dir, private_file
from twin.profiles import Profile


def _migrations() -> list[tuple[int, str, str]]:
    out = []
    for entry in resources.files("twin.store.migrations").iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:4].isdigit():
            out.append((int(name[:4]), name, entry.read_text(encoding="utf-8")))
    return sorted(out)


def migrate(conn: sqlite3.Connection) -> list[str]:
    """Apply pending migrations; return the names applied."""
    conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)")
    done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
    applied = []
    for version, name, sql in _migrations():
        if version in done:
            continue
        # executescript commits first, so wrap the script itself in a transaction.
        conn.executescript(f"BEGIN;\n{sql}\nINSERT INTO schema_migrations VALUES ({version}, '{name}');\nCOMMIT;")
        applied.append(name)
    return applied


def connect(profile: Profile) -> sqlite3.Connection:
    """A migrated connection to the profile's database (WAL, foreign keys on, rows as sqlite3.Row)."""
    private_dir(profile.root)
    conn = sqlite3.connect(private_file(profile.db_path), timeout=30, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA synchronous=NORMAL")
        migrate(conn)
    except sqlite3.DatabaseError as exc:
        conn.close()
        if isinstance(exc, sqlite3.OperationalError):  # locked, disk full, I/O: not damage
            raise
        raise DatabaseCorrupt(
            f"The database of profile '{profile.name}' is damaged ({exc}).",
            "Run `twin doctor`: it names your latest backup (twin backup restore FILE --profile NEW).",
        ) from None
    return conn


class DatabaseCorrupt(TwinError):
    """The profile's SQLite file cannot be used (not a database, malformed)."""

    code = "database_corrupt"
    http_status = 500
