-- Which imports hold each message. A message found again in another export (the same chat imported
-- as .zip and as .txt, a longer re-export, the same mail in two mailboxes) is stored once but
-- belongs to every import that held it, so undoing one import removes only what no other import holds.
CREATE TABLE message_sources (
    message_id    TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    source_sha256 TEXT NOT NULL,              -- imports.source_sha256
    PRIMARY KEY (message_id, source_sha256)
) WITHOUT ROWID;
CREATE INDEX message_sources_source ON message_sources (source_sha256);

INSERT INTO message_sources (message_id, source_sha256) SELECT id, source_sha256 FROM messages;

-- A new message belongs to the import that stored it; imports that find it again link it themselves.
CREATE TRIGGER message_sources_insert AFTER INSERT ON messages BEGIN
    INSERT OR IGNORE INTO message_sources (message_id, source_sha256) VALUES (new.id, new.source_sha256);
END;

-- Looking a chat's messages up by content (timestamp, sender, text) to recognise a chat already
-- imported under another file name.
CREATE INDEX messages_whatsapp_time ON messages (timestamp) WHERE format = 'whatsapp';
