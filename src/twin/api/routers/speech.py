"""Speech: POST /api/tts/clone (text → audio in a voice) and POST /api/tts/pipeline (prompt → draft
in the owner's style → speech, as JSON or NDJSON events)."""

from __future__ import annotations

import base64
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response, StreamingResponse

from twin.api.deps import AppState, ProfileDep, StateDep
from twin.api.schemas import (
    NOT_FOUND,
    TOO_LARGE,
    UNAVAILABLE,
    UNSUPPORTED,
    CloneRequest,
    PipelineRequest,
    PipelineResponse,
)
from twin.api.services import Draft, check_voice_id, decode_reference
from twin.api.sse import first_then_rest, guarded, ndjson
from twin.errors import InvalidInput
from twin.profiles import Profile

router = APIRouter(tags=["speech"])

MEDIA = {"wav": "audio/wav", "mp3": "audio/mpeg"}
_AUDIO_CHUNK = 32 * 1024
_BINARY = {"schema": {"type": "string", "format": "binary"}}
_AUDIO_DOC = {200: {"content": {"audio/wav": _BINARY, "audio/mpeg": _BINARY}, "description": "WAV or MP3 speech."}}
_NDJSON_DOC = {200: {"content": {"application/json": {}, "application/x-ndjson": {"schema": {"type": "string"}}}}}
_ERRORS = {**NOT_FOUND, **TOO_LARGE, **UNSUPPORTED, **UNAVAILABLE}


def _voice_args(voice_id: str | None, reference_audio: str | None) -> tuple[str | None, bytes | None]:
    if voice_id and reference_audio:
        raise InvalidInput("Give voice_id or reference_audio, not both.", "Pick one way to choose the voice.")
    if reference_audio:
        return None, decode_reference(reference_audio)
    return check_voice_id(voice_id), None


@router.post(
    "/api/tts/clone", response_class=Response, summary="Speak text in a voice", responses={**_AUDIO_DOC, **_ERRORS}
)
async def clone(body: CloneRequest, state: StateDep, profile: ProfileDep) -> Response:
    voice_id, ref = _voice_args(body.voice_id, body.reference_audio)
    media = MEDIA[body.format]
    if not body.stream:
        speech = await state.services.synthesize(profile, body.text, voice_id, ref, body.emotion, body.format)
        headers = {"X-Sample-Rate": str(speech.sample_rate)}
        if "cache_hit" in speech.meta:
            headers["X-Cache"] = "hit" if speech.meta["cache_hit"] else "miss"
        return Response(speech.audio, media_type=media, headers=headers)
    chunks = state.services.stream_speech(profile, body.text, voice_id, ref, body.emotion, body.format)
    _first, rest = await first_then_rest(chunks)
    # No Content-Length: the server sends it with chunked transfer encoding as audio is made.
    return StreamingResponse(rest, media_type=media)


@router.post(
    "/api/tts/pipeline",
    response_model=PipelineResponse,
    summary="Prompt → draft → speech",
    responses={**_NDJSON_DOC, **_ERRORS},
)
async def pipeline(body: PipelineRequest, state: StateDep, profile: ProfileDep) -> Any:
    voice_id, ref = _voice_args(body.voice_id, body.reference_audio)
    events = _pipeline_events(state, profile, body, voice_id, ref)
    if not body.stream:
        text, audio, rate, timings = "", bytearray(), 22050, {}
        async for ev in events:
            if ev["type"] == "done":
                text, rate, timings = ev["text"], ev["sample_rate"], ev["timings"]
            elif ev["type"] == "audio":
                audio += ev["bytes"]
        return PipelineResponse(
            text=text,
            audio_base64=base64.b64encode(bytes(audio)).decode(),
            format=body.format,
            sample_rate=rate,
            timings=timings,
        )
    _first, rest = await first_then_rest(events)

    async def lines() -> AsyncIterator[bytes]:
        async for ev in rest:
            if ev["type"] == "audio":
                ev = {"type": "audio", "data": base64.b64encode(ev["bytes"]).decode()}
            yield ndjson(ev)

    return StreamingResponse(
        guarded(lines(), lambda e: ndjson({"type": "error", "error": e.to_dict()})), media_type="application/x-ndjson"
    )


async def _pipeline_events(
    state: AppState, profile: Profile, body: PipelineRequest, voice_id: str | None, ref: bytes | None
) -> AsyncIterator[dict[str, Any]]:
    """Text deltas as they are drafted, then the speech in chunks, then a done event."""
    services = state.services
    start = time.perf_counter()
    draft: Draft | None = None
    async for item in services.stream_draft(
        profile, body.prompt, body.style_reference, body.max_tokens, body.temperature
    ):
        if isinstance(item, Draft):
            draft = item
        else:
            yield {"type": "text", "delta": item}
    if draft is None or not draft.text.strip():
        raise InvalidInput("The model wrote nothing to speak.", "Try another prompt or a higher max_tokens.")
    text_done = time.perf_counter()
    speech = await services.synthesize(profile, draft.text, voice_id, ref, body.emotion, body.format)
    for i in range(0, len(speech.audio), _AUDIO_CHUNK):
        yield {"type": "audio", "bytes": speech.audio[i : i + _AUDIO_CHUNK]}
    end = time.perf_counter()
    timings = {
        "text_s": round(text_done - start, 4),
        "speech_s": round(end - text_done, 4),
        "total_s": round(end - start, 4),
        **{f"llm_{k}": v for k, v in draft.timings.items()},
    }
    yield {
        "type": "done",
        "text": draft.text,
        "format": body.format,
        "sample_rate": speech.sample_rate,
        "model": draft.model,
        "usage": draft.usage,
        "timings": timings,
    }
