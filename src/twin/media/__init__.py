"""Movie → character: a film and its subtitles become a character's clips, voice and persona."""
