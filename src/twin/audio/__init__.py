"""Low-level audio primitives every layer may use (backends included; this package imports no stage):

- `source`/`probe`/`wav_header`: where audio comes from, header validation against limits before decoding;
- `decode`: block-wise decoding to float32, mono and resampled on the fly, optionally just a window;
- `resample`: soxr, one-shot and streaming (continuous across chunks);
- `pcm`: float32 <-> PCM16LE bytes, fixed-size frames from a byte stream, WAV headers;
- `loudness`, `channels`: BS.1770 loudness and gain, channel mixing;
- `encode`: WAV files, WAV/MP3 bytes and streaming encoders;
- `world`: WORLD vocoder analysis and synthesis (F0, envelope, aperiodicity)."""
