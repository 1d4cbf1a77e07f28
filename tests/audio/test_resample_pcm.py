"""Streaming resampling (continuous across chunks), PCM16 framing, WAV/MP3 encoding and loudness."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf

from twin.audio.channels import to_mono
from twin.audio.decode import decode_bytes
from twin.audio.encode import Mp3Stream, WavStream, check_format, encode
from twin.audio.loudness import measure_loudness, normalize_loudness
from twin.audio.pcm import PCM16Framer, from_pcm16, to_pcm16, wav_header
from twin.audio.resample import StreamResampler, resample
from twin.errors import InvalidInput


def _speechlike(seconds: float, sr: int, seed: int = 0) -> np.ndarray:
    """A harmonic tone with a wandering pitch plus a little noise: energy across the band, like speech."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    f0 = 140 + 40 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / sr
    x = sum(np.sin(k * phase) / k for k in range(1, 12)) + 0.05 * rng.standard_normal(len(t))
    return (0.4 * x / np.max(np.abs(x))).astype(np.float32)


def _chunks(x: np.ndarray, seed: int = 1) -> list[np.ndarray]:
    """Uneven chunks, as a network or an engine delivers them (some tiny, some empty)."""
    rng = np.random.default_rng(seed)
    out, i = [], 0
    while i < len(x):
        n = int(rng.choice([0, 1, 7, 160, 441, 1024, 3000]))
        out.append(x[i : i + n])
        i += n
    return out


@pytest.mark.parametrize(("sr_in", "sr_out"), [(24000, 22050), (48000, 16000), (16000, 48000), (22050, 22050)])
def test_stream_resampler_equals_one_shot(sr_in: int, sr_out: int) -> None:
    x = _speechlike(2.0, sr_in)
    whole = resample(x, sr_in, sr_out)
    rs = StreamResampler(sr_in, sr_out)
    streamed = np.concatenate([rs.process(c) for c in _chunks(x)] + [rs.flush()])
    assert len(streamed) == len(whole) == round(len(x) * sr_out / sr_in)
    assert np.max(np.abs(streamed - whole)) < 1e-4


def test_stream_resampler_has_no_clicks_where_per_chunk_resampling_does() -> None:
    sr_in, sr_out = 24000, 22050
    x = _speechlike(1.0, sr_in)
    whole = resample(x, sr_in, sr_out)
    chunks = [x[i : i + 2400] for i in range(0, len(x), 2400)]  # 100 ms pieces
    naive = np.concatenate([resample(c, sr_in, sr_out) for c in chunks])
    rs = StreamResampler(sr_in, sr_out)
    streamed = np.concatenate([rs.process(c) for c in chunks] + [rs.flush()])

    def worst_jump(y: np.ndarray) -> float:
        """Largest sample-to-sample step beyond what the one-shot signal itself has."""
        n = min(len(y), len(whole))
        return float(np.max(np.abs(np.diff(y[:n]) - np.diff(whole[:n]))))

    assert worst_jump(naive) > 0.02  # restarting the filter at each edge leaves audible steps (-26 dBFS)
    assert worst_jump(streamed) < 1e-3


def test_stream_resampler_stereo_and_finishing() -> None:
    x = np.stack([_speechlike(1.0, 48000, 0), _speechlike(1.0, 48000, 1)], axis=1)
    rs = StreamResampler(48000, 24000, channels=2)
    out = np.concatenate([rs.process(x[:1000]), rs.process(x[1000:]), rs.flush()])
    assert out.shape == (24000, 2)
    assert np.allclose(out, resample(x, 48000, 24000), atol=1e-4)
    assert rs.flush().shape == (0, 2)
    with pytest.raises(RuntimeError, match="after flush"):
        rs.process(x[:10])


def test_pcm16_roundtrip_and_clipping() -> None:
    x = np.array([0.0, 0.5, -0.5, 1.0, -1.0, 2.0, -3.0, np.nan], dtype=np.float32)
    data = to_pcm16(x)
    assert len(data) == 2 * len(x)
    ints = np.frombuffer(data, dtype="<i2")
    assert list(ints[[3, 4, 5, 6, 7]]) == [32767, -32767, 32767, -32767, 0]
    back = from_pcm16(data)
    assert back.dtype == np.float32 and np.allclose(back[:3], x[:3], atol=1 / 32768)
    stereo = from_pcm16(to_pcm16(np.array([[0.25, -0.25]] * 3, dtype=np.float32)), channels=2)
    assert stereo.shape == (3, 2)
    with pytest.raises(ValueError, match="whole number"):
        from_pcm16(b"\x00\x01\x02", channels=1)


def test_framer_cuts_exact_frames_from_any_split() -> None:
    x = _speechlike(0.2, 16000)  # 3200 samples
    data = to_pcm16(x)
    framer = PCM16Framer(512)
    frames: list[bytes] = []
    for piece in _chunks(np.frombuffer(data, dtype=np.uint8), seed=3):  # splits even inside a sample
        frames += framer.feed(piece.tobytes())
    assert [len(f) for f in frames] == [1024] * 6 and framer.pending_bytes == 3200 * 2 - 6 * 1024
    assert b"".join(frames) == data[: 6 * 1024]
    last = framer.flush()
    assert last is not None and len(last) == 1024 and last[: 3200 * 2 - 6 * 1024] == data[6 * 1024 :]
    assert framer.flush() is None
    floats = PCM16Framer(160).feed_samples(to_pcm16(x[:480]))
    assert len(floats) == 3 and all(f.shape == (160,) for f in floats)
    odd = PCM16Framer(4)
    odd.feed(b"\x01\x00\x02")  # one sample and a half
    assert odd.flush(pad=False) == b"\x01\x00"


def test_wav_header_streaming_and_whole() -> None:
    x = _speechlike(0.5, 22050)
    whole = encode(x, "wav", 22050)
    audio, sr = sf.read(io.BytesIO(whole), dtype="float32")
    assert sr == 22050 and len(audio) == len(x) and np.max(np.abs(audio - x)) < 1e-3
    stream = WavStream(22050)
    streamed = b"".join([stream.feed(x[:1000]), stream.feed(x[1000:]), stream.close()])
    assert streamed[:4] == b"RIFF" and streamed[4:8] == b"\xff\xff\xff\xff"
    y, rate = decode_bytes(streamed)
    assert rate == 22050 and len(y) == len(x) and np.max(np.abs(y - x)) < 1e-3
    assert len(wav_header(16000, 10, channels=2)) == 44
    assert WavStream(8000).close() == wav_header(8000, 0)


def test_mp3_encoding_decodes_back() -> None:
    x = _speechlike(1.0, 22050)
    enc = Mp3Stream(22050)
    data = enc.feed(x[:5000]) + enc.feed(x[5000:]) + enc.close()
    assert data == encode(x, "mp3", 22050) or len(data) > 1000
    y, rate = decode_bytes(data)
    assert rate == 22050 and abs(len(y) - len(x)) < 3000
    assert check_format("MP3") == "mp3"
    with pytest.raises(InvalidInput, match="Unknown audio format 'ogg'"):
        check_format("ogg")


def test_loudness_normalization_hits_target_and_respects_peak() -> None:
    x = _speechlike(3.0, 22050) * 0.1
    y, gain = normalize_loudness(x, 22050, target_lufs=-20.0, max_peak_dbfs=-1.0)
    assert gain > 0 and abs(measure_loudness(y, 22050) - -20.0) < 0.5
    loud, _ = normalize_loudness(x, 22050, target_lufs=-5.0, max_peak_dbfs=-6.0)
    assert np.max(np.abs(loud)) <= 10 ** (-6 / 20) + 1e-4
    short = x[:1000]
    assert normalize_loudness(short, 22050, -20.0, -1.0) == (short, 0.0)
    assert to_mono(np.stack([x, -x], axis=1)).max() == 0.0
