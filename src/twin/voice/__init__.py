"""The owner's voice: audio I/O, the recording library (import, prepare, quality, status) and voice
profiles. Cloning, synthesis and evaluation live in voice.clone, voice.synth and voice.eval."""
