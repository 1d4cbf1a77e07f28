"""Speech: POST /api/tts/clone (text → audio in a voice) and POST /api/tts/pipeline (prompt → draft
in the owner's style → speech, as JSON or NDJSON events). Every audio response says who spoke:
X-Twin-Engine, X-Twin-Voice, X-Twin-Reference and X-Twin-Emotion (plus X-Twin-Notice when the emotion
asked for has no reference in the voice)."""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import AsyncIterator
from typing import Any, Protocol

from fastapi import APIRouter
from fastapi.responses import Response, StreamingResponse

from twin.api.deps import AppState, Principal, PrincipalDep, StateDep
from twin.api.schemas import (
    NOT_FOUND,
    TOO_LARGE,
    UNAVAILABLE,
    UNSUPPORTED,
    CloneRequest,
    PipelineRequest,
    PipelineResponse,
    Responses,
    SpeechMeta,
    Usage,
)
from twin.api.services import check_voice_id, decode_reference
from twin.api.sse import AudioStreamResponse, first_then_rest, guarded, ndjson
from twin.errors import InvalidInput
from twin.providers.llm import TextDelta
from twin.voice.consent import ConsentRequest
from twin.voice.synth import SynthesisResult
from twin.voice.synth.pipeline import AudioPiece, PipelineEvent, SpokenDraft, VoiceChoice

router = APIRouter(tags=["speech"])

MEDIA = {"wav": "audio/wav", "mp3": "audio/mpeg"}
_BINARY = {"schema": {"type": "string", "format": "binary"}}
_SPOKEN_BY = {
    name: {"description": text, "schema": {"type": "string"}}
    for name, text in (
        ("X-Twin-Engine", "The engine that made the audio."),
        ("X-Twin-Voice", "The voice id, 'base' or 'reference-clip'."),
        ("X-Twin-Reference", "The reference clip used (e.g. references/happy.wav), or 'none'."),
        ("X-Twin-Emotion", "The emotion whose reference was used, or 'default'."),
    )
}
_AUDIO_DOC: Responses = {
    200: {
        "content": {"audio/wav": _BINARY, "audio/mpeg": _BINARY},
        "description": "WAV or MP3 speech.",
        "headers": _SPOKEN_BY,
    }
}
_NDJSON_DOC: Responses = {
    200: {"content": {"application/json": {}, "application/x-ndjson": {"schema": {"type": "string"}}}}
}
_ERRORS: Responses = {**NOT_FOUND, **TOO_LARGE, **UNSUPPORTED, **UNAVAILABLE}
_UNSAFE = re.compile(r"[^\w./-]", re.ASCII)


class SpokenBy(Protocol):
    """What a synthesis result or stream says about who spoke (SynthesisResult, SpeechStream)."""

    @property
    def engine(self) -> str: ...
    @property
    def voice_id(self) -> str | None: ...
    @property
    def reference(self) -> str: ...
    @property
    def emotion(self) -> str | None: ...
    @property
    def emotion_requested(self) -> str | None: ...


def _safe(value: str) -> str:
    return _UNSAFE.sub("?", value)[:64]


def speech_headers(spoken: SpokenBy) -> dict[str, str]:
    """The X-Twin-* headers of an audio response."""
    voice = spoken.voice_id or ("reference-clip" if spoken.reference else "base")
    headers = {
        "X-Twin-Engine": _safe(spoken.engine or "none"),
        "X-Twin-Voice": _safe(voice),
        "X-Twin-Reference": _safe(spoken.reference or "none"),
        "X-Twin-Emotion": _safe(spoken.emotion or "default"),
    }
    asked = spoken.emotion_requested
    if asked and asked.lower() != (spoken.emotion or ""):
        what = f"voice {spoken.voice_id} has no '{_safe(asked)}' reference" if spoken.voice_id else "no voice"
        headers["X-Twin-Notice"] = f"{what}; spoke with {_safe(spoken.reference or 'the base voice')}"
    return headers


def speech_meta(result: SynthesisResult) -> SpeechMeta:
    return SpeechMeta(
        engine=result.engine,
        voice_id=result.voice_id,
        reference=result.reference,
        emotion=result.emotion,
        emotion_requested=result.emotion_requested,
        cache_hit=result.cache_hit,
        duration_s=result.duration_s,
        fallbacks=result.fallbacks,
    )


def _voice_args(voice_id: str | None, reference_audio: str | None) -> tuple[str | None, bytes | None]:
    if voice_id and reference_audio:
        raise InvalidInput("Give voice_id or reference_audio, not both.", "Pick one way to choose the voice.")
    if reference_audio:
        return None, decode_reference(reference_audio)
    return check_voice_id(voice_id), None


async def _checked_reference(
    state: AppState, principal: Principal, ref: bytes | None, consent: ConsentRequest | None
) -> None:
    """A reference clip that is not the owner's voice needs consent; a consented one is audited."""
    if ref is None:
        return
    decision = await state.services.reference_consent(principal.profile, ref, consent)
    if decision.kind != "owner":
        await asyncio.to_thread(state.audit.record_consent, principal.profile, None, decision, principal.key.id)


@router.post(
    "/api/tts/clone", response_class=Response, summary="Speak text in a voice", responses={**_AUDIO_DOC, **_ERRORS}
)
async def clone(body: CloneRequest, state: StateDep, principal: PrincipalDep) -> Response:
    profile = principal.profile
    voice_id, ref = _voice_args(body.voice_id, body.reference_audio)
    await _checked_reference(state, principal, ref, body.consent)
    media = MEDIA[body.format]
    if not body.stream:
        result = await state.services.synthesize(profile, body.text, voice_id, ref, body.emotion, body.format)
        headers = {
            **speech_headers(result),
            "X-Sample-Rate": str(result.sample_rate),
            "X-Cache": "hit" if result.cache_hit else "miss",
        }
        return Response(result.audio, media_type=media, headers=headers)
    speech = await state.services.open_speech(profile, body.text, voice_id, ref, body.emotion, body.format)
    # The first audio is made before the response starts, so the engine is known and errors get a status.
    _first, rest = await first_then_rest(speech)
    headers = {**speech_headers(speech), "X-Sample-Rate": str(speech.sample_rate)}
    # No Content-Length: the server sends it with chunked transfer encoding as audio is made.
    return AudioStreamResponse(rest, media_type=media, headers=headers)


@router.post(
    "/api/tts/pipeline",
    response_model=PipelineResponse,
    summary="Prompt → draft → speech",
    responses={**_NDJSON_DOC, **_ERRORS},
)
async def pipeline(body: PipelineRequest, state: StateDep, principal: PrincipalDep) -> Any:
    profile = principal.profile
    voice_id, ref = _voice_args(body.voice_id, body.reference_audio)
    await _checked_reference(state, principal, ref, body.consent)
    voice = VoiceChoice(voice_id=voice_id, reference_audio=ref, emotion=body.emotion, fmt=body.format)
    events = state.services.speak_draft(
        profile, body.prompt, body.style_reference, voice, body.max_tokens, body.temperature
    )
    if not body.stream:
        return await _whole(events, body)
    _first, rest = await first_then_rest(events)

    async def lines() -> AsyncIterator[bytes]:
        async for event in rest:
            yield ndjson(_event_json(event))

    return StreamingResponse(
        guarded(lines(), lambda e: ndjson({"type": "error", "error": e.to_dict()})), media_type="application/x-ndjson"
    )


async def _whole(events: AsyncIterator[PipelineEvent], body: PipelineRequest) -> Response:
    audio = bytearray()
    done: SpokenDraft | None = None
    async for event in events:
        if isinstance(event, AudioPiece):
            audio += event.data
        elif isinstance(event, SpokenDraft):
            done = event
    assert done is not None  # speak_draft always ends with its SpokenDraft or raises
    answer = PipelineResponse(
        text=done.draft.text,
        audio_base64=base64.b64encode(bytes(audio)).decode(),
        format=body.format,
        sample_rate=done.speech.sample_rate,
        timings=done.timings,
        model=done.draft.model,
        usage=_usage(done),
        speech=speech_meta(done.speech),
    )
    return Response(answer.model_dump_json(), media_type="application/json", headers=speech_headers(done.speech))


def _usage(done: SpokenDraft) -> Usage:
    used = done.draft.usage
    return Usage(
        prompt_tokens=used.prompt_tokens,
        completion_tokens=used.completion_tokens,
        total_tokens=used.prompt_tokens + used.completion_tokens,
    )


def _event_json(event: PipelineEvent) -> dict[str, Any]:
    if isinstance(event, TextDelta):
        return {"type": "text", "delta": event.text}
    if isinstance(event, AudioPiece):
        return {"type": "audio", "data": base64.b64encode(event.data).decode()}
    return {
        "type": "done",
        "text": event.draft.text,
        "format": event.speech.fmt,
        "sample_rate": event.speech.sample_rate,
        "model": event.draft.model,
        "usage": _usage(event).model_dump(),
        "timings": event.timings,
        "speech": speech_meta(event.speech).model_dump(),
    }
