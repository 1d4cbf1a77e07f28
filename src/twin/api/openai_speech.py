"""Speech behind POST /v1/audio/speech: which voice an OpenAI voice name means, which emotion the
instructions name, and the audio formats OpenAI clients ask for.

The synthesizer makes WAV or MP3; the other formats are encoded from its WAV: FLAC with soundfile,
Opus (in Ogg) and AAC (ADTS) by ffmpeg through stdin/stdout pipes, and `pcm` the way OpenAI sends it,
raw 24 kHz 16-bit little-endian mono (resampled by ffmpeg)."""

from __future__ import annotations

import asyncio
import io
import re
import shutil
import subprocess

from twin.api.openai_schemas import AudioModel, AudioVoice, SpeechFormat
from twin.errors import MissingDependency, Unavailable
from twin.profiles import Profile
from twin.voice.synth import voices

PCM_RATE = 24000
MEDIA_TYPES: dict[str, str] = {
    "mp3": "audio/mpeg",
    "wav": "audio/wav",
    "flac": "audio/flac",
    "opus": "audio/ogg; codecs=opus",
    "aac": "audio/aac",
    "pcm": f"audio/pcm;rate={PCM_RATE};channels=1",
}
_FFMPEG_ARGS = {
    "opus": ["-c:a", "libopus", "-b:a", "48k", "-f", "ogg"],
    "aac": ["-c:a", "aac", "-b:a", "64k", "-f", "adts"],
    "pcm": ["-ar", str(PCM_RATE), "-ac", "1", "-c:a", "pcm_s16le", "-f", "s16le"],
}
_ENCODE_TIMEOUT_S = 120
# OpenAI's speech model names; each asks for the profile's own voice chain, like "twin".
SPEECH_MODELS = ("twin", "tts-1", "tts-1-hd", "gpt-4o-mini-tts")


def synth_format(fmt: SpeechFormat) -> str:
    """What to ask the synthesizer for: MP3 itself, WAV for everything else (encoded afterwards)."""
    return "mp3" if fmt == "mp3" else "wav"


def audio_models() -> list[AudioModel]:
    return [
        AudioModel(id=m, name="The profile's voice" if m == "twin" else f"{m} (the profile's voice)")
        for m in SPEECH_MODELS
    ]


def audio_voices(profile: Profile) -> list[AudioVoice]:
    """'default', every voice of the profile (oldest first), and 'base'."""
    metas = voices.voice_metas(profile)
    default = voices.default_voice(profile)
    names = {vid: str(meta.get("name") or vid) for vid, meta in metas}
    out = [AudioVoice(id=voices.DEFAULT_VOICE, name=f"Default voice ({names[default]})" if default else "Base voice")]
    out += [AudioVoice(id=vid, name=name + (" (default)" if vid == default else "")) for vid, name in names.items()]
    return [*out, AudioVoice(id=voices.BASE_VOICE, name="Base voice (not a clone)")]


def pick_emotion(profile: Profile, voice_id: str | None, instructions: str | None) -> str | None:
    """The first word of `instructions` that names one of the voice's emotions ('Sound happy.' -> happy)."""
    if not instructions or voice_id is None:
        return None
    known = set(voices.voice_emotions(profile, voice_id))
    return next((w for w in re.findall(r"[a-z]+", instructions.lower()) if w in known), None)


async def encode(wav: bytes, fmt: SpeechFormat) -> bytes:
    """Re-encode the synthesizer's WAV as `fmt` (wav and mp3 come from the synthesizer as they are)."""
    if fmt in ("wav", "mp3"):
        return wav
    if fmt == "flac":
        return await asyncio.to_thread(_flac, wav)
    return await asyncio.to_thread(_ffmpeg, wav, fmt)


def _flac(wav: bytes) -> bytes:
    try:
        import soundfile as sf
    except ImportError:
        raise MissingDependency.for_extra("FLAC output", "voice", "soundfile") from None
    samples, rate = sf.read(io.BytesIO(wav), dtype="int16")
    out = io.BytesIO()
    sf.write(out, samples, rate, format="FLAC", subtype="PCM_16")
    return out.getvalue()


def _ffmpeg(wav: bytes, fmt: str) -> bytes:
    exe = shutil.which("ffmpeg")
    if exe is None:
        raise Unavailable(
            f"Speech as {fmt} needs ffmpeg, which is not installed.",
            "Install ffmpeg (apt install ffmpeg / brew install ffmpeg), or ask for mp3, wav or flac.",
        )
    cmd = [exe, "-hide_banner", "-loglevel", "error", "-f", "wav", "-i", "pipe:0", *_FFMPEG_ARGS[fmt], "pipe:1"]
    try:
        done = subprocess.run(cmd, input=wav, capture_output=True, timeout=_ENCODE_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise Unavailable(f"Encoding the speech as {fmt} took too long.", "Try a shorter text.") from None
    if done.returncode != 0 or not done.stdout:
        # ffmpeg's own message names its build and paths: keep it out of the response.
        raise Unavailable(
            f"Encoding the speech as {fmt} failed (ffmpeg exit {done.returncode}).",
            "Ask for mp3 or wav, or check that this ffmpeg build has the encoder (ffmpeg -encoders).",
        )
    return done.stdout
