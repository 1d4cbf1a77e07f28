-- Personas (data, not code) and the conversations held with them. One database per profile, so a
-- persona name is unique per profile. JSON columns hold lists and the card fields kept for export.
CREATE TABLE IF NOT EXISTS personas (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    prompt TEXT NOT NULL DEFAULT '',
    style_rules TEXT NOT NULL DEFAULT '[]',
    boundaries TEXT NOT NULL DEFAULT '[]',
    greeting TEXT NOT NULL DEFAULT '',
    examples TEXT NOT NULL DEFAULT '[]',
    voice_id TEXT,
    llm TEXT,
    memory_policy TEXT NOT NULL DEFAULT 'strict' CHECK (memory_policy IN ('off', 'strict', 'permissive')),
    do_not_store TEXT NOT NULL DEFAULT '[]',
    card TEXT NOT NULL DEFAULT '{}',
    builtin INTEGER NOT NULL DEFAULT 0,
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    persona_id TEXT NOT NULL REFERENCES personas(id) ON DELETE CASCADE,
    title TEXT NOT NULL DEFAULT '',
    summary TEXT NOT NULL DEFAULT '',
    summary_upto INTEGER NOT NULL DEFAULT 0,
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS conversations_persona ON conversations(persona_id, updated);

-- memory_state: 'pending' until the memory writer has looked at a user turn, then 'done' (or 'skipped'
-- when memory was off); a crash between the reply and extraction is caught up on the next start.
CREATE TABLE IF NOT EXISTS chat_messages (
    id TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    text TEXT NOT NULL,
    created TEXT NOT NULL,
    tokens INTEGER NOT NULL DEFAULT 0,
    model TEXT,
    interrupted INTEGER NOT NULL DEFAULT 0,
    finish_reason TEXT,
    memories_used TEXT NOT NULL DEFAULT '[]',
    memory_state TEXT NOT NULL DEFAULT 'done' CHECK (memory_state IN ('pending', 'done', 'skipped')),
    UNIQUE (conversation_id, seq)
);
CREATE INDEX IF NOT EXISTS chat_messages_pending ON chat_messages(memory_state) WHERE memory_state = 'pending';
