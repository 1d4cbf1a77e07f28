"""Reference recordings for cloning, bounded in time and memory.

A cloning engine needs 10-30 s of speech. A reference longer than `reference.max_input_s` is refused
from its header, before anything is decoded. A longer-than-needed one is scanned once at 16 kHz in
blocks with the energy VAD (only per-frame speech probabilities are kept), the few `reference.max_s`
windows holding the most speech are scored again with the configured VAD (silero: it tells speech from
other loud sounds), and only the best window is decoded at the output rate. Scanning a whole recording
with silero would cost ten times more for the same choice in the common case."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twin.audio.decode import load_audio, open_audio
from twin.audio.probe import AudioInfo, probe
from twin.audio.source import Source, display_name
from twin.errors import TooLarge
from twin.providers import registry
from twin.providers.vad import VAD
from twin.voice.config import VoiceConfig

SCAN_RATE = 16000
SCAN_BLOCK_S = 30.0
SNAP_BACK_S = 1.0  # move a window's start back to the pause before it, at most this far
CANDIDATES = 3  # windows the energy scan proposes for the configured VAD to rank


@dataclass
class ReferenceClip:
    audio: np.ndarray
    sample_rate: int
    start_s: float  # where the window starts in the recording
    source_s: float  # length of the whole recording
    speech_s: float | None = None  # speech the VAD found inside the window (None: not scanned)

    @property
    def trimmed(self) -> bool:
        return self.duration_s + 1e-3 < self.source_s

    @property
    def duration_s(self) -> float:
        return len(self.audio) / self.sample_rate


def check_reference(src: Source, config: VoiceConfig, name: str | None = None) -> AudioInfo:
    """The header's description, or TooLarge when the recording is longer than a reference may be."""
    label = display_name(src, name)
    info = probe(src, config.limits, label)
    limit = config.reference.max_input_s
    if info.duration_s > limit:
        raise TooLarge(
            f"{label}: {info.duration_s:.0f} s is too long for a reference clip (the limit is {limit:.0f} s).",
            f"A voice needs only {config.reference.min_s:.0f}-{config.reference.max_s:.0f} s of clear speech: "
            "cut a short piece of the recording, or raise reference.max_input_s in the voice config.",
        )
    return info


def load_reference(
    src: Source, config: VoiceConfig, sr: int = 22050, name: str | None = None, vad: VAD | None = None
) -> ReferenceClip:
    """At most `reference.max_s` of `src` at `sr`: the whole clip when it is short enough, else the
    window with the most speech."""
    label = display_name(src, name)
    info = check_reference(src, config, label)
    window = config.reference.max_s
    if info.duration_s <= window:
        audio, rate = load_audio(src, sr=sr, limits=config.limits, name=label)
        return ReferenceClip(audio, rate, 0.0, info.duration_s)
    start, speech_s = choose_window(src, config, label, vad)
    audio, rate = load_audio(src, sr=sr, limits=config.limits, name=label, start_s=start, max_s=window)
    return ReferenceClip(audio, rate, start, info.duration_s, speech_s)


def choose_window(src: Source, config: VoiceConfig, name: str, vad: VAD | None = None) -> tuple[float, float]:
    """(start_s, speech_s) of the reference.max_s window with the most speech: candidates from a cheap
    energy scan of the whole recording, ranked by `vad` (default: the configured VAD)."""
    window, threshold = config.reference.max_s, config.prepare.vad.threshold
    probs, hop = speech_probabilities(src, config, name, registry.create("vad", "energy"))
    candidates = top_windows(probs >= threshold, hop, window, CANDIDATES)
    fine = vad or registry.create("vad", config.prepare.vad.backend)
    if fine.name == "energy" or len(candidates) == 1:
        return candidates[0]
    scored = []
    for start, _coarse in candidates:
        audio, _ = load_audio(src, sr=SCAN_RATE, limits=config.limits, name=name, start_s=start, max_s=window)
        p, fine_hop = fine.speech_probs(audio, SCAN_RATE)
        scored.append((float((p >= threshold).sum()) * fine_hop, -start))
    speech_s, neg_start = max(scored)
    return -neg_start, speech_s


def speech_probabilities(
    src: Source, config: VoiceConfig, name: str, vad: VAD | None = None
) -> tuple[np.ndarray, float]:
    """Per-frame speech probabilities of the whole recording, decoded and scored block by block."""
    vad = vad or registry.create("vad", config.prepare.vad.backend)
    stream = open_audio(src, sr=SCAN_RATE, limits=config.limits, name=name, max_s=config.reference.max_input_s)
    block = int(SCAN_BLOCK_S * SCAN_RATE)
    pending: list[np.ndarray] = []
    held = 0
    probs: list[np.ndarray] = []
    hop = 0.0
    for piece in stream.blocks:
        pending.append(piece)
        held += len(piece)
        if held >= block:
            p, hop = vad.speech_probs(np.concatenate(pending), SCAN_RATE)
            probs.append(p)
            pending, held = [], 0
    if held:
        p, hop = vad.speech_probs(np.concatenate(pending), SCAN_RATE)
        probs.append(p)
    return (np.concatenate(probs) if probs else np.zeros(0, np.float32)), hop or 0.032


def best_window(speech: np.ndarray, hop_s: float, window_s: float) -> tuple[float, float]:
    """(start_s, speech_s) of the `window_s` stretch with the most speech frames (see top_windows)."""
    return top_windows(speech, hop_s, window_s, 1)[0]


def top_windows(speech: np.ndarray, hop_s: float, window_s: float, count: int) -> list[tuple[float, float]]:
    """Up to `count` non-overlapping `window_s` stretches with the most speech frames, best first, as
    (start_s, speech_s). Each start is moved back to the pause just before it, when there is one within
    SNAP_BACK_S, so the first word is not cut."""
    frames = max(1, int(round(window_s / hop_s)))
    if len(speech) <= frames:
        return [(0.0, float(speech.sum()) * hop_s)]
    sums = np.convolve(speech.astype(np.int32), np.ones(frames, dtype=np.int32), mode="valid").astype(np.float64)
    out: list[tuple[float, float]] = []
    while len(out) < count and np.isfinite(sums).any():
        best = int(np.argmax(sums))
        speech_s = float(sums[best]) * hop_s
        start = best
        while start > 0 and best - start < SNAP_BACK_S / hop_s and speech[start]:
            start -= 1
        out.append((start * hop_s, speech_s))
        sums[max(0, best - frames + 1) : best + frames] = -np.inf  # no overlap with this one
    return out
