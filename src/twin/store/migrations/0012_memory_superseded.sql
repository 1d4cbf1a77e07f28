-- Recall looks up the turns superseded facts came from (to rank chunks quoting them like those facts):
-- a partial index keeps that to the few superseded rows instead of a scan of every memory.
CREATE INDEX IF NOT EXISTS memories_superseded ON memories(kind) WHERE status = 'superseded';
