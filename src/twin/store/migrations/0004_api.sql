-- The API server's per-profile records.
-- API keys are not stored here: they live in the key index (settings.home/keys.db) as SHA-256
-- hashes mapped to one profile each, because a request's key must be resolved before its profile
-- is known (see twin/keys.py).

-- Audit log: who (key id), what (method + route template), when, outcome. Never secrets, never
-- request or message contents.
CREATE TABLE IF NOT EXISTS audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts TEXT NOT NULL,
    key_id TEXT,
    client TEXT,
    method TEXT NOT NULL,
    route TEXT NOT NULL,
    status INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    duration_ms REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_log_ts ON audit_log(ts);
