-- Whose voice a library recording and its clips are: NULL is the owner, otherwise a character's name
-- (clips exported from a media project). The owner's voice is only ever built from NULL rows.
ALTER TABLE voice_sources ADD COLUMN speaker TEXT;
ALTER TABLE voice_clips ADD COLUMN speaker TEXT;
CREATE INDEX voice_clips_speaker ON voice_clips (speaker, excluded, quality);
