-- The normalized message store (one row per message from any export).
CREATE TABLE messages (
    id              TEXT PRIMARY KEY,          -- UUIDv7
    fingerprint     TEXT NOT NULL UNIQUE,      -- content key that makes re-ingesting idempotent
    source          TEXT NOT NULL,             -- original file name
    source_sha256   TEXT NOT NULL,             -- digest of the imported file
    locator         TEXT NOT NULL,             -- line number, mbox offset or Message-ID
    format          TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    seq             INTEGER NOT NULL,          -- position in the source, keeps original order
    sender          TEXT,
    sender_address  TEXT,                      -- email address or phone number when known
    sender_is_me    INTEGER NOT NULL DEFAULT 0,
    timestamp       TEXT,                      -- ISO 8601; naive when the export has no zone
    text            TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('text', 'media', 'system', 'deleted')),
    flags           TEXT NOT NULL DEFAULT '[]',  -- JSON list
    subject         TEXT,
    recipients      TEXT,                      -- JSON list or NULL
    extra           TEXT NOT NULL DEFAULT '{}'   -- JSON: format-specific fields (cue times, labels…)
);
CREATE INDEX messages_conversation ON messages (conversation_id, timestamp, seq);
CREATE INDEX messages_source ON messages (source_sha256);
CREATE INDEX messages_sender ON messages (sender);

-- One row per imported file, for reporting and to find the read-only copy again.
CREATE TABLE imports (
    source_sha256 TEXT PRIMARY KEY,
    source        TEXT NOT NULL,
    stored_path   TEXT NOT NULL,
    format        TEXT NOT NULL,
    imported_at   TEXT NOT NULL,
    messages      INTEGER NOT NULL DEFAULT 0,
    complete      INTEGER NOT NULL DEFAULT 0
);
