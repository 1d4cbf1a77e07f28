"""Speech detection and speech recognition over the whole soundtrack, block by block.

VAD runs on 60 s blocks (probabilities checkpointed per block) and gives speech regions; ASR runs on
chunks of speech of at most 30 s (whisper's window) with word timestamps, checkpointed per chunk.
Both use the registry's providers ("vad", "stt"); memory stays bounded by one block."""

from __future__ import annotations

from typing import Any

import numpy as np

from twin.media.audio import AudioFile, Checkpoint
from twin.media.progress import ProgressFn, silent
from twin.media.project import Project
from twin.providers.stt import STT, STTOptions
from twin.providers.vad import VAD, VADOptions, regions_from_probs

VAD_BLOCK_S = 60.0
ASR_CHUNK_S = 28.0
Region = tuple[float, float]


def detect_speech(
    project: Project, vad: VAD, options: VADOptions | None = None, progress: ProgressFn = silent
) -> dict[str, Any]:
    """Write speech.json {hop_s, regions} and vad_probs.npy; resumable per block."""
    audio = AudioFile(project.audio)
    opt = options or VADOptions(threshold=0.5, min_speech_s=0.2, min_silence_s=0.25, pad_s=0.05)
    ck = Checkpoint(project.work_dir, "vad", {"backend": vad.name, "block_s": VAD_BLOCK_S, "sr": audio.sample_rate})
    parts: list[np.ndarray] = []
    hop = 0.032
    total = audio.duration_s
    for k, start, samples in audio.blocks(VAD_BLOCK_S):
        saved = ck.load_array(k)  # [hop, p0, p1, ...]
        if saved is None:
            p, h = vad.speech_probs(samples, audio.sample_rate)
            saved = np.concatenate([[h], np.asarray(p, dtype=np.float64)])
            ck.save_array(k, saved)
        hop, probs = float(saved[0]), saved[1:].astype(np.float32)
        # Each block holds a whole number of frames except the last, so frame i sits at i * hop.
        parts.append(probs[: int(round(min(VAD_BLOCK_S, total - start) / hop))])
        progress("speech detection", min(total, start + VAD_BLOCK_S), total)
    probs = np.concatenate(parts) if parts else np.zeros(0, np.float32)
    regions = regions_from_probs(probs, hop, opt, total)
    np.save(project.path("vad_probs.npy"), probs, allow_pickle=False)
    data = {"hop_s": hop, "regions": [[round(s, 3), round(e, 3)] for s, e in regions]}
    project.write_json("speech.json", data)
    ck.clear()
    return {"speech_s": round(sum(e - s for s, e in regions), 2), "regions": len(regions)}


def load_speech(project: Project) -> list[Region]:
    return [(float(s), float(e)) for s, e in project.read_json("speech.json")["regions"]]


def speech_chunks(regions: list[Region], max_s: float = ASR_CHUNK_S, gap_s: float = 1.0) -> list[Region]:
    """Group speech regions into chunks of at most max_s, split only in gaps (long regions are cut)."""
    chunks: list[Region] = []
    for s, e in regions:
        while e - s > max_s:
            chunks.append((s, s + max_s))
            s += max_s
        if chunks and s - chunks[-1][1] <= gap_s and e - chunks[-1][0] <= max_s:
            chunks[-1] = (chunks[-1][0], e)
        else:
            chunks.append((s, e))
    return chunks


def recognize(project: Project, stt: STT, language: str | None, progress: ProgressFn = silent) -> dict[str, Any]:
    """Write words.json {words, segments} (times on the film's timeline); resumable per chunk."""
    audio = AudioFile(project.audio)
    chunks = speech_chunks(load_speech(project))
    ck = Checkpoint(project.work_dir, "asr", {"backend": stt.name, "language": language, "chunks": len(chunks)})
    opts = STTOptions(language=language, word_timestamps=True, beam_size=1)
    words: list[dict[str, Any]] = []
    segments: list[dict[str, Any]] = []
    total = sum(e - s for s, e in chunks) or 1.0
    done = 0.0
    for k, (s, e) in enumerate(chunks):
        part = ck.load_json(k)
        if part is None:
            part = _recognize_chunk(stt, audio.read(max(0.0, s - 0.2), e + 0.2), audio.sample_rate, opts, s - 0.2)
            ck.save_json(k, part)
        words += part["words"]
        segments += part["segments"]
        done += e - s
        progress("speech recognition", done, total)
    words.sort(key=lambda w: w["start"])
    project.write_json("words.json", {"words": words, "segments": segments})
    ck.clear()
    return {"words": len(words), "asr_segments": len(segments)}


def _recognize_chunk(stt: STT, samples: np.ndarray, sr: int, opts: STTOptions, offset: float) -> dict[str, Any]:
    offset = max(0.0, offset)
    tr = stt.transcribe(samples, sr, opts)
    words, segments = [], []
    for seg in tr.segments:
        segments.append(
            {
                "start": round(seg.start + offset, 3),
                "end": round(seg.end + offset, 3),
                "text": seg.text,
                "confidence": seg.confidence,
            }
        )
        for w in seg.words:
            words.append(
                {
                    "start": round(w.start + offset, 3),
                    "end": round(w.end + offset, 3),
                    "text": w.text,
                    "p": round(w.probability, 3),
                }
            )
    return {"words": words, "segments": segments}
