-- Long-term memory: distilled facts and raw chunks, with provenance and supersession. Vectors live in
-- the configured vector store (sqlite-vec creates its own table in this file), keyed by memories.id.
CREATE TABLE IF NOT EXISTS memories (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('fact', 'chunk')),
    scope TEXT NOT NULL CHECK (scope IN ('user', 'persona')),
    persona_id TEXT REFERENCES personas(id) ON DELETE CASCADE,
    conversation_id TEXT REFERENCES conversations(id) ON DELETE CASCADE,
    text TEXT NOT NULL,
    subject TEXT,
    fingerprint TEXT NOT NULL,
    category TEXT,
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'superseded')),
    superseded_by TEXT REFERENCES memories(id) ON DELETE SET NULL,
    importance REAL NOT NULL DEFAULT 0.5,
    reason TEXT NOT NULL DEFAULT '',
    extractor TEXT NOT NULL DEFAULT '',
    source_message_ids TEXT NOT NULL DEFAULT '[]',
    mentions INTEGER NOT NULL DEFAULT 1,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    last_used TEXT,
    CHECK ((scope = 'persona') = (persona_id IS NOT NULL))
);
CREATE INDEX IF NOT EXISTS memories_lookup ON memories(scope, persona_id, status, kind);
CREATE INDEX IF NOT EXISTS memories_subject ON memories(subject) WHERE subject IS NOT NULL;
CREATE INDEX IF NOT EXISTS memories_fingerprint ON memories(fingerprint);

CREATE VIRTUAL TABLE IF NOT EXISTS memories_fts USING fts5(
    text,
    content='memories',
    content_rowid='rowid',
    tokenize='porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER IF NOT EXISTS memories_fts_insert AFTER INSERT ON memories BEGIN
    INSERT INTO memories_fts (rowid, text) VALUES (new.rowid, new.text);
END;
CREATE TRIGGER IF NOT EXISTS memories_fts_delete AFTER DELETE ON memories BEGIN
    INSERT INTO memories_fts (memories_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
END;
CREATE TRIGGER IF NOT EXISTS memories_fts_update AFTER UPDATE OF text ON memories BEGIN
    INSERT INTO memories_fts (memories_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
    INSERT INTO memories_fts (rowid, text) VALUES (new.rowid, new.text);
END;

-- What was deliberately forgotten: a keyed hash of the memory (never its text) per source turn, so
-- extracting the same old turn again never brings it back.
CREATE TABLE IF NOT EXISTS memory_tombstones (
    fingerprint TEXT NOT NULL,
    message_id TEXT NOT NULL,
    created TEXT NOT NULL,
    PRIMARY KEY (fingerprint, message_id)
);
