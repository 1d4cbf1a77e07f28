"""`twin tts-server`: the standalone TTS server of one profile (127.0.0.1, one worker, engines warm),
behind the same guards as the main app: a key of that profile on every route but /health, Host and
Origin checks, body limits enforced before and while the body is read, and strict content types.

    POST /tts  JSON {"text", "reference": base64 | "voice_id", "emotion", "format": "wav"|"mp3", "engine",
                     "stream": false}, or multipart/form-data: the same fields plus a `reference` file
    GET  /health  {"status": "ok"} (no key, nothing else in it)

The reply is the audio; X-TTS-Engine, X-TTS-Duration, X-TTS-Cache headers carry the metadata. This is
the same contract the `openvoice` backend speaks (its `api_key` setting is sent as the Bearer key), so
one twin can use another's server."""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.datastructures import UploadFile

from twin.api.config import ServerSettings
from twin.api.errors import RenderUnexpected, configure_global_exception_handlers
from twin.api.security import BodyLimit, HostOriginGuard, KeyGuard, SecurityHeaders
from twin.api.services.admission import Gate
from twin.api.services.speech import reference_consent_for
from twin.api.sse import AudioStreamResponse, first_then_rest
from twin.errors import InvalidInput, TooLarge, Unauthorized, UnsupportedFormat
from twin.keys import ApiKey, KeyStore
from twin.ops.audit import AuditLog
from twin.profiles import Profile
from twin.settings import Settings, load_settings
from twin.voice.consent import consent_request
from twin.voice.synth import codec
from twin.voice.synth.synthesizer import Synthesizer

MAX_REFERENCE_BYTES = 20 * 1024**2


class TTSRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(..., min_length=1, max_length=5000)
    reference: str | None = Field(None, description="Base64 of a WAV/MP3 reference clip.")
    voice_id: str | None = None
    emotion: str | None = None
    format: str = "wav"
    engine: str | None = None
    speed: float = Field(1.0, ge=0.5, le=2.0)
    language: str = "en"
    stream: bool = False
    consent_who: str | None = Field(None, max_length=120, description="Whose voice the reference is, if not yours.")
    consent_statement: str | None = Field(None, max_length=1000, description="How and when they agreed.")


def _reference(b64: str | None) -> bytes | None:
    if not b64:
        return None
    if len(b64) > MAX_REFERENCE_BYTES * 4 // 3 + 4:
        raise TooLarge("The reference clip is larger than 20 MB.", "Send 3-30 s of speech.")
    try:
        return base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("reference is not valid base64.", "Base64-encode the WAV/MP3 bytes.") from None


def _validated(data: Any) -> TTSRequest:
    try:
        return TTSRequest.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first.get("loc", ())) or "body"
        raise InvalidInput(
            f"Bad request body: {where}: {first['msg']}.", "Send {text, reference | voice_id}."
        ) from None


async def _read_request(request: Request) -> tuple[TTSRequest, bytes | None]:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "multipart/form-data":
        form = await request.form()
        upload = form.get("reference")
        ref = await upload.read() if isinstance(upload, UploadFile) else None
        fields = {k: v for k, v in form.items() if isinstance(v, str) and k != "reference"}
        return _validated(fields), ref
    if ctype != "application/json":
        raise UnsupportedFormat(
            f"POST /tts does not take '{ctype or 'no content type'}'.",
            "Send JSON with Content-Type: application/json, or multipart/form-data with a reference file.",
        )
    try:
        data = await request.json()
    except ValueError:
        raise InvalidInput("The body is not valid JSON.", "Send JSON {text, reference | voice_id}.") from None
    body = _validated(data)
    return body, _reference(body.reference)


def _key_of(profile: Profile, keys: KeyStore) -> Any:
    def authenticate(secret: str | None) -> ApiKey:
        key = keys.verify(secret)
        if key.profile != profile.name:
            raise Unauthorized(
                f"This key belongs to another profile; this server speaks for '{profile.name}'.",
                f"Use a key of '{profile.name}' (twin keys create --profile {profile.name}).",
            )
        return key

    return authenticate


def build_tts_app(
    profile: Profile,
    synthesizer: Synthesizer | None = None,
    settings: Settings | None = None,
    server: ServerSettings | None = None,
) -> FastAPI:
    """The tts-server app for `profile`, guarded like the main app."""
    settings = settings or load_settings()
    server = server or ServerSettings()
    synth = synthesizer or Synthesizer(profile, settings)
    keys = KeyStore(settings)
    audit = AuditLog(settings)
    gate = Gate("speech", server.max_concurrent_synthesis, server.max_queued_synthesis, server.queue_wait_s)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        keys.close()
        audit.close()

    app = FastAPI(
        title="twin TTS server", version="1", openapi_url=None, docs_url=None, redoc_url=None, lifespan=lifespan
    )
    configure_global_exception_handlers(app)
    _routes(app, synth, gate, _consent_check(profile, audit))
    app.add_middleware(
        BodyLimit, max_body=server.max_body_bytes, max_upload=server.max_upload_bytes, upload_paths=("/tts",)
    )
    app.add_middleware(KeyGuard, authenticate=_key_of(profile, keys), public_paths=("/health",))
    app.add_middleware(RenderUnexpected)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(HostOriginGuard, allowed_hosts=server.allowed_hosts, allowed_origins=[])
    return app


def _consent_check(profile: Profile, audit: AuditLog) -> Callable[[bytes, TTSRequest], Awaitable[None]]:
    """A reference that is not the owner's voice needs consent; a consented one is audited."""

    async def check(ref: bytes, body: TTSRequest) -> None:
        request = consent_request(body.consent_who, body.consent_statement)
        decision = await asyncio.to_thread(reference_consent_for, profile, ref, request)
        if decision.kind != "owner":
            await asyncio.to_thread(audit.record_consent, profile, None, decision)

    return check


def _routes(
    app: FastAPI, synth: Synthesizer, gate: Gate, check: Callable[[bytes, TTSRequest], Awaitable[None]]
) -> None:
    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok"}

    @app.post("/tts")
    async def tts(request: Request) -> Response:
        body, ref = await _read_request(request)
        if ref is not None and len(ref) > MAX_REFERENCE_BYTES:
            raise TooLarge("The reference clip is larger than 20 MB.", "Send 3-30 s of speech.")
        fmt = codec.check_format(body.format)
        if ref is not None:
            await check(ref, body)
        args = (body.text, body.voice_id, ref, body.emotion, fmt, body.engine, body.speed, body.language)
        if body.stream:
            speech = await synth.open_stream(*args)
            chunks = aiter(speech)
            speech.with_chunks(gate.stream(lambda: chunks))
            _first, rest = await first_then_rest(speech)
            return AudioStreamResponse(rest, media_type=speech.media_type, headers={"X-TTS-Engine": speech.engine})
        res = await gate.run(lambda: synth.asynthesize(*args))
        headers = {
            "X-TTS-Engine": res.engine,
            "X-TTS-Duration": f"{res.duration_s:.3f}",
            "X-TTS-Cache": "hit" if res.cache_hit else "miss",
            "X-TTS-RTF": f"{res.rtf:.3f}",
        }
        return Response(res.audio, media_type=res.media_type, headers=headers)
