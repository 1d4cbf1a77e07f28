-- Full-text index (FTS5, BM25 ranking) over the owner's own text messages, used by the writing
-- service to pick style exemplars that match a drafting request. External content: the text lives
-- in `messages`; triggers keep the index in step with inserts, updates and deletes.
CREATE VIRTUAL TABLE writing_fts USING fts5(
    text,
    content='messages',
    content_rowid='rowid',
    tokenize='unicode61 remove_diacritics 2'
);

CREATE TRIGGER writing_fts_insert AFTER INSERT ON messages
WHEN new.sender_is_me = 1 AND new.kind = 'text' BEGIN
    INSERT INTO writing_fts (rowid, text) VALUES (new.rowid, new.text);
END;

CREATE TRIGGER writing_fts_delete AFTER DELETE ON messages
WHEN old.sender_is_me = 1 AND old.kind = 'text' BEGIN
    INSERT INTO writing_fts (writing_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
END;

-- One trigger, so the old row leaves the index before the new one enters.
CREATE TRIGGER writing_fts_update AFTER UPDATE OF text, sender_is_me, kind ON messages BEGIN
    INSERT INTO writing_fts (writing_fts, rowid, text)
        SELECT 'delete', old.rowid, old.text WHERE old.sender_is_me = 1 AND old.kind = 'text';
    INSERT INTO writing_fts (rowid, text)
        SELECT new.rowid, new.text WHERE new.sender_is_me = 1 AND new.kind = 'text';
END;

INSERT INTO writing_fts (rowid, text)
    SELECT rowid, text FROM messages WHERE sender_is_me = 1 AND kind = 'text';
