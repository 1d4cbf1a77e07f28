"""`twin tts-server`: the seed's standalone TTS server (FastAPI, 127.0.0.1, one worker, engines warm).

    POST /tts  {"text", "reference": base64 | "voice_id", "emotion", "format": "wav"|"mp3", "engine",
                "stream": false}      (or multipart: text field + reference file)
    GET  /health

The reply is the audio; X-TTS-Engine, X-TTS-Duration, X-TTS-Cache headers carry the metadata. This is
the same contract the `openvoice` backend speaks, so one twin can use another's server.
"""

import base64
import binascii
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from twin.errors import InvalidInput, MissingDependency, TooLarge, TwinError
from twin.profiles import Profile
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


def _reference(b64: str | None) -> bytes | None:
    if not b64:
        return None
    if len(b64) > MAX_REFERENCE_BYTES * 4 // 3 + 4:
        raise TooLarge("The reference clip is larger than 20 MB.", "Send 3-30 s of speech.")
    try:
        return base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("reference is not valid base64.", "Base64-encode the WAV/MP3 bytes.") from None


def build_tts_app(profile: Profile, synthesizer: Synthesizer | None = None) -> Any:
    try:
        from fastapi import FastAPI, Request
        from fastapi.responses import JSONResponse, Response, StreamingResponse
    except ImportError:
        raise MissingDependency.for_extra("twin tts-server", "server", "fastapi") from None

    synth = synthesizer or Synthesizer(profile)
    app = FastAPI(title="twin TTS server", version="1")

    @app.exception_handler(TwinError)
    async def _twin_error(_: Request, exc: TwinError) -> JSONResponse:
        return JSONResponse({"error": exc.to_dict()}, status_code=exc.http_status)

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "profile": profile.name, "engines": synth.engines_status()}

    @app.post("/tts")
    async def tts(request: Request) -> Response:
        ctype = request.headers.get("content-type", "")
        if ctype.startswith("multipart/form-data"):
            form = await request.form()
            upload = form.get("reference")
            ref = await upload.read() if upload is not None and hasattr(upload, "read") else None
            fields = {k: v for k, v in form.items() if isinstance(v, str)}
            body = TTSRequest.model_validate({**fields, "reference": None})
        else:
            try:
                body = TTSRequest.model_validate(await request.json())
            except ValueError as exc:
                raise InvalidInput(f"Bad request body: {exc}", "Send JSON {text, reference | voice_id}.") from None
            ref = _reference(body.reference)
        if ref is not None and len(ref) > MAX_REFERENCE_BYTES:
            raise TooLarge("The reference clip is larger than 20 MB.", "Send 3-30 s of speech.")
        fmt = codec.check_format(body.format)
        kwargs = {
            "voice_id": body.voice_id,
            "reference_audio": ref,
            "emotion": body.emotion,
            "fmt": fmt,
            "engine": body.engine,
            "speed": body.speed,
            "language": body.language,
        }
        if body.stream:
            return StreamingResponse(synth.stream(body.text, **kwargs), media_type=codec.FORMATS[fmt])
        res = await synth.asynthesize(body.text, **kwargs)
        headers = {
            "X-TTS-Engine": res.engine,
            "X-TTS-Duration": f"{res.duration_s:.3f}",
            "X-TTS-Cache": "hit" if res.cache_hit else "miss",
            "X-TTS-RTF": f"{res.rtf:.3f}",
        }
        return Response(res.audio, media_type=res.media_type, headers=headers)

    return app
