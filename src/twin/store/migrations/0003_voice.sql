-- The voice library: imported recordings (originals kept read-only under voice/raw/) and the prepared
-- clips cut from them (22,050 Hz mono WAV under voice/clean/<emotion>/).
CREATE TABLE voice_sources (
    id            TEXT PRIMARY KEY,            -- UUIDv7
    sha256        TEXT NOT NULL UNIQUE,        -- digest of the original file (re-import is a no-op)
    original_name TEXT NOT NULL,
    stored_path   TEXT NOT NULL,               -- relative to the profile's voice/ folder
    emotion       TEXT NOT NULL,
    format        TEXT NOT NULL,
    sample_rate   INTEGER NOT NULL,
    channels      INTEGER NOT NULL,
    duration_s    REAL NOT NULL,
    imported_at   TEXT NOT NULL,
    prepared_at   TEXT,                        -- NULL until `twin voice prepare` has run on it
    prepare_error TEXT,                        -- JSON TwinError dict when preparing it failed
    warnings      TEXT NOT NULL DEFAULT '[]'   -- JSON list
);
CREATE INDEX voice_sources_emotion ON voice_sources (emotion);

CREATE TABLE voice_clips (
    id          TEXT PRIMARY KEY,              -- UUIDv7
    source_id   TEXT NOT NULL REFERENCES voice_sources (id) ON DELETE CASCADE,
    emotion     TEXT NOT NULL,
    path        TEXT NOT NULL,                 -- relative to the profile's voice/ folder
    start_s     REAL NOT NULL,                 -- position in the original recording
    end_s       REAL NOT NULL,
    duration_s  REAL NOT NULL,                 -- length of the prepared clip (pauses shortened)
    transcript  TEXT,
    confidence  REAL,                          -- transcript confidence 0-1, NULL when not transcribed
    quality     REAL NOT NULL,                 -- 0-1
    reasons     TEXT NOT NULL DEFAULT '[]',    -- JSON list of human-readable reasons
    metrics     TEXT NOT NULL DEFAULT '{}',    -- JSON: snr_db, clipped_ratio, speech_ratio, loudness_lufs...
    excluded    INTEGER NOT NULL DEFAULT 0,    -- 1 when quality < threshold (kept on disk, not used)
    created_at  TEXT NOT NULL
);
CREATE INDEX voice_clips_emotion ON voice_clips (emotion, excluded, quality);
CREATE INDEX voice_clips_source ON voice_clips (source_id);
