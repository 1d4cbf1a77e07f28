"""OpenAI-compatible routes so existing tools (the openai SDK, Open WebUI, SillyTavern) can use the
twin: /v1/models, /v1/chat/completions (with SSE streaming), /v1/audio/speech, /v1/audio/voices and
/v1/audio/models. Errors keep the twin error shape, which OpenAI clients read from `error.message`;
options twin cannot honour are refused with a 400 rather than ignored."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response, StreamingResponse

from twin.api import openai_chat, openai_persona, openai_speech
from twin.api.deps import AppState, ProfileDep, StateDep
from twin.api.openai_schemas import (
    AudioModelList,
    AudioVoiceList,
    ChatCompletion,
    ChatCompletionRequest,
    ModelCard,
    ModelList,
    SpeechRequest,
)
from twin.api.routers.chat import chat_service
from twin.api.routers.speech import speech_headers
from twin.api.schemas import BAD_REQUEST, NOT_FOUND, SSE_EVENT_SCHEMA, UNAVAILABLE, Responses
from twin.api.sse import first_then_rest
from twin.profiles import Profile
from twin.providers.llm import LLMOptions
from twin.voice.synth.voices import choose_voice

router = APIRouter(tags=["openai"])


_CHAT_DOC: Responses = {
    200: {
        "model": ChatCompletion,
        "content": {"text/event-stream": {"schema": SSE_EVENT_SCHEMA}},
        "description": "A chat.completion object, or chat.completion.chunk events (then [DONE]) when stream is true.",
    }
}
_BINARY = {"schema": {"type": "string", "format": "binary"}}
_SPEECH_DOC: Responses = {
    200: {"content": {media.split(";")[0]: _BINARY for media in openai_speech.MEDIA_TYPES.values()}}
}


@router.post(
    "/v1/chat/completions",
    response_model=None,
    responses={**_CHAT_DOC, **BAD_REQUEST, **UNAVAILABLE},
    summary="Chat (OpenAI-compatible)",
)
async def chat_completions(
    body: ChatCompletionRequest, state: StateDep, profile: ProfileDep
) -> ChatCompletion | JSONResponse | StreamingResponse:
    """`model` is a model of the profile's engine, or `persona:<name>` (see GET /v1/models) to talk with a
    persona with its memory; the persona's conversation id comes back in X-Twin-Conversation."""
    messages = openai_chat.to_llm_messages(body.messages)
    openai_chat.check_supported(body)
    options = openai_chat.llm_options(body)
    persona = openai_persona.persona_of(body.model)
    if persona is not None:
        return await _persona_chat(body, state, profile, persona, messages, options)
    llm = state.services.llm(profile)
    if not body.stream:
        return await openai_chat.complete(llm, messages, options, body.n)
    _first, chunks = await first_then_rest(openai_chat.stream_chunks(llm, messages, options, body.n))
    include_usage = bool(body.stream_options and body.stream_options.include_usage)
    return StreamingResponse(
        openai_chat.sse_events(chunks, include_usage),
        media_type="text/event-stream",
        headers={"X-Accel-Buffering": "no", "Cache-Control": "no-cache"},
    )


async def _persona_chat(
    body: ChatCompletionRequest,
    state: AppState,
    profile: Profile,
    persona: str,
    messages: list[dict[str, str]],
    options: LLMOptions,
) -> JSONResponse | StreamingResponse:
    openai_persona.check_persona_request(body)
    svc = chat_service(state, profile)
    if not body.stream:
        completion, conversation = await openai_persona.complete(svc, persona, messages, options)
        return JSONResponse(completion.model_dump(), headers={"X-Twin-Conversation": conversation})
    _first, chunks = await first_then_rest(openai_persona.stream_chunks(svc, persona, messages, options))
    include_usage = bool(body.stream_options and body.stream_options.include_usage)
    return StreamingResponse(
        openai_chat.sse_events(chunks, include_usage),
        media_type="text/event-stream",
        headers={"X-Accel-Buffering": "no", "Cache-Control": "no-cache"},
    )


@router.post(
    "/v1/audio/speech",
    response_class=Response,
    responses={**_SPEECH_DOC, **BAD_REQUEST, **NOT_FOUND, **UNAVAILABLE},
    summary="Text to speech (OpenAI-compatible)",
)
async def speech(body: SpeechRequest, state: StateDep, profile: ProfileDep) -> Response:
    """`voice` is a voice id, 'default', 'base', or an alias such as alloy (the default voice unless
    `twin voice alias` maps it elsewhere). Headers say what spoke: X-Twin-Voice (a voice id or 'base'),
    X-Twin-Engine, X-Twin-Emotion, and X-Twin-Notice when the base voice spoke although the profile has
    voices of its own."""
    if body.stream_format != "audio":
        raise openai_chat.unsupported("stream_format 'sse' is not supported.", "Leave stream_format out.")
    choice = await asyncio.to_thread(choose_voice, profile, body.voice, aliases=True)
    emotion = await asyncio.to_thread(openai_speech.pick_emotion, profile, choice.voice_id, body.instructions)
    result = await state.services.synthesizer(profile).asynthesize(
        body.input,
        voice_id=choice.label,
        emotion=emotion,
        fmt=openai_speech.synth_format(body.response_format),
        engine=state.server.tts_engine or None,
        speed=body.speed,
    )
    audio = await openai_speech.encode(result.audio, body.response_format)
    headers = {**speech_headers(result), "X-Twin-Voice": choice.label, "X-Twin-Voice-Source": choice.source}
    if choice.notice:
        headers["X-Twin-Notice"] = choice.notice.encode("ascii", "replace").decode()
    return Response(audio, media_type=openai_speech.MEDIA_TYPES[body.response_format], headers=headers)


@router.get("/v1/audio/voices", response_model=AudioVoiceList, summary="Voices (OpenAI-compatible servers)")
async def audio_voices(profile: ProfileDep) -> AudioVoiceList:
    return AudioVoiceList(voices=await asyncio.to_thread(openai_speech.audio_voices, profile))


@router.get("/v1/audio/models", response_model=AudioModelList, summary="Speech models (OpenAI-compatible servers)")
async def audio_models() -> AudioModelList:
    return AudioModelList(models=openai_speech.audio_models())


@router.get("/v1/models", response_model=ModelList, summary="Models (OpenAI-compatible)")
async def models(state: StateDep, profile: ProfileDep) -> ModelList:
    """The engine's models, then one `persona:<name>` per persona of the profile."""
    names = await state.services.llm(profile).list_models()
    personas = await asyncio.to_thread(lambda: chat_service(state, profile).personas.list())
    ids = [*names, *(openai_persona.PREFIX + p.name for p in personas)]
    return ModelList(data=[ModelCard(id=n) for n in dict.fromkeys(ids)])
