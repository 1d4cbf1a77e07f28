"""Prompt → draft in the owner's style → speech in their voice, as one stream of events: the draft's
text deltas as they are written, then the speech in chunks, then one SpokenDraft with the text, the
speech's metadata (engine, voice, reference and emotion used) and timings. Front ends (the API's
/api/tts/pipeline, the CLI) only render these events."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from twin.errors import InvalidInput
from twin.providers.llm import TextDelta
from twin.voice.synth.synthesizer import SynthesisResult, Synthesizer
from twin.voice.synth.voices import resolve_voice
from twin.writing import Draft, WritingService

AUDIO_PIECE_BYTES = 32 * 1024


@dataclass(frozen=True)
class VoiceChoice:
    """Who speaks the draft: a voice of the profile, a one-off reference clip, or the base voice."""

    voice_id: str | None = None
    reference_audio: bytes | None = None
    emotion: str | None = None
    fmt: str = "wav"
    engine: str | None = None


@dataclass(frozen=True)
class AudioPiece:
    data: bytes


@dataclass
class SpokenDraft:
    draft: Draft
    speech: SynthesisResult
    timings: dict[str, float] = field(default_factory=dict)


PipelineEvent = TextDelta | AudioPiece | SpokenDraft


async def speak_draft(
    writer: WritingService,
    synth: Synthesizer,
    prompt: str,
    voice: VoiceChoice,
    style_reference: str | None = None,
    **llm_options: Any,
) -> AsyncIterator[PipelineEvent]:
    """Draft `prompt`, then speak the draft. A missing voice fails before anything is drafted."""
    if voice.voice_id is not None and voice.reference_audio is None:
        resolve_voice(synth.profile, voice.voice_id, voice.emotion)
    start = time.perf_counter()
    draft: Draft | None = None
    async for item in writer.stream_draft(prompt, style_reference, **llm_options):
        if isinstance(item, Draft):
            draft = item
        else:
            yield item
    if draft is None or not draft.text.strip():
        raise InvalidInput("The model wrote nothing to speak.", "Try another prompt or a higher max_tokens.")
    text_done = time.perf_counter()
    speech = await synth.asynthesize(
        draft.text,
        voice_id=voice.voice_id,
        reference_audio=voice.reference_audio,
        emotion=voice.emotion,
        fmt=voice.fmt,
        engine=voice.engine,
    )
    for i in range(0, len(speech.audio), AUDIO_PIECE_BYTES):
        yield AudioPiece(speech.audio[i : i + AUDIO_PIECE_BYTES])
    end = time.perf_counter()
    timings = {
        "text_s": round(text_done - start, 4),
        "speech_s": round(end - text_done, 4),
        "total_s": round(end - start, 4),
        "llm_first_token_s": round(draft.timings.first_token_s, 4),
        "llm_tokens_per_s": round(draft.timings.tokens_per_s, 4),
        "llm_total_s": round(draft.timings.total_s, 4),
    }
    yield SpokenDraft(draft=draft, speech=speech, timings=timings)
