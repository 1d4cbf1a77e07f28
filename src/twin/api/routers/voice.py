"""Voices of the key's profile: upload a reference recording to make one, list, get, delete.

The upload is copied in bounded chunks to a temporary file inside the profile (the body limit has
already refused anything too big), its header is validated before any decoding, and the client's
file name is never used as a path; errors name the user's file, never the temporary one."""

from __future__ import annotations

import asyncio
import pathlib
import tempfile
import unicodedata
from typing import Annotated

from fastapi import APIRouter, File, Form, Path, UploadFile
from fastapi.responses import Response

from twin.api.deps import ProfileDep, StateDep
from twin.api.schemas import (
    NAME_PATTERN,
    NOT_FOUND,
    TOO_LARGE,
    UNAVAILABLE,
    UNSUPPORTED,
    EmotionList,
    VoiceInfo,
    VoiceList,
)
from twin.api.services import check_voice_id
from twin.audio.probe import probe
from twin.errors import InvalidInput, NotFound, TooLarge, TwinError
from twin.ids import check_name
from twin.profiles import Profile
from twin.voice.profiles import VoiceProfile

router = APIRouter(tags=["voice"])

_CHUNK = 1024 * 1024
VoiceIdPath = Annotated[str, Path(pattern=NAME_PATTERN, description="A voice id of this profile.")]
EMOTION_RE = r"^[a-z][a-z_-]{0,31}$"


def shown_name(filename: str | None) -> str:
    """The user's file name as it may appear in a message: its last path part, printable, short."""
    base = pathlib.PurePosixPath((filename or "").replace("\\", "/")).name
    clean = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip()
    return clean[:100] or "the uploaded file"


def renamed(exc: TwinError, temp: pathlib.Path, shown: str) -> TwinError:
    """The same error with the temporary file's name replaced by the user's."""
    message = exc.message.replace(str(temp), shown).replace(temp.name, shown)
    hint = exc.hint.replace(str(temp), shown).replace(temp.name, shown)
    if message == exc.message and hint == exc.hint:
        return exc
    return type(exc)(message, hint, code=exc.code)


async def save_upload(upload: UploadFile, profile: Profile, limit: int) -> pathlib.Path:
    """Copy the upload into <profile>/voice/tmp under a generated name; check the audio header."""
    tmp_dir = profile.voice_dir / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=tmp_dir, prefix="upload-", suffix=".bin")
    path = pathlib.Path(name)
    size = 0
    try:
        with open(fd, "wb") as out:
            while chunk := await upload.read(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise TooLarge("The uploaded file is too large.", f"Upload a file under {limit // 2**20} MiB.")
                out.write(chunk)
        if size == 0:
            raise InvalidInput(
                f"{shown_name(upload.filename)} is empty.", "Choose an audio file (WAV, FLAC, OGG or MP3)."
            )
        try:
            info = await asyncio.to_thread(probe, path)
        except TwinError as exc:
            raise renamed(exc, path, shown_name(upload.filename)) from None
        final = path.with_suffix(f".{info.format}")
        path.rename(final)
        return final
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def _voice_info(voice: VoiceProfile) -> VoiceInfo:
    """The API's view of a voice; the voice store's other fields go under `details`."""
    details = voice.model_dump(exclude={"id", "name", "created", "duration_s", "quality", "default", "trained"})
    return VoiceInfo(
        voice_id=voice.id,
        name=voice.name,
        duration_s=voice.duration_s,
        quality={} if voice.quality is None else {"score": voice.quality},
        emotions=sorted(voice.references),
        created=voice.created,
        default=voice.default,
        trained=voice.trained,
        details=details,
    )


@router.post(
    "/api/voice/upload",
    response_model=VoiceInfo,
    status_code=201,
    responses={**TOO_LARGE, **UNSUPPORTED, **UNAVAILABLE},
    summary="Upload a reference recording",
)
async def upload_voice(
    state: StateDep,
    profile: ProfileDep,
    file: Annotated[UploadFile, File(description="WAV, FLAC, OGG or MP3 recording of the owner's voice.")],
    emotion: Annotated[str | None, Form(pattern=EMOTION_RE, description="Emotion tag, e.g. neutral, happy.")] = None,
    name: Annotated[str | None, Form(pattern=NAME_PATTERN, description="A name for the voice.")] = None,
) -> VoiceInfo:
    if name:
        check_name(name, "voice name")
    path = await save_upload(file, profile, state.server.max_upload_bytes)
    try:
        voice = await state.services.create_voice(profile, path, name or None, emotion)
    except TwinError as exc:
        raise renamed(exc, path, shown_name(file.filename)) from None
    finally:
        path.unlink(missing_ok=True)
    return _voice_info(voice)


@router.get("/api/voice", response_model=VoiceList, summary="Voices of this profile")
async def list_voices(state: StateDep, profile: ProfileDep) -> VoiceList:
    return VoiceList(voices=[_voice_info(v) for v in await state.services.list_voices(profile)])


@router.get("/api/voice/emotions", response_model=EmotionList, summary="Emotion tags of this profile")
async def list_emotions(profile: ProfileDep) -> EmotionList:
    """The emotions recordings can be tagged with (the profile's voice config, or the built-in list)."""
    from twin.voice.config import load_voice_config

    return EmotionList(emotions=list((await asyncio.to_thread(load_voice_config, profile)).emotions))


@router.get("/api/voice/{voice_id}", response_model=VoiceInfo, responses=NOT_FOUND, summary="One voice")
async def get_voice(voice_id: VoiceIdPath, state: StateDep, profile: ProfileDep) -> VoiceInfo:
    return _voice_info(await state.services.get_voice(profile, check_voice_id(voice_id) or "default"))


@router.delete(
    "/api/voice/{voice_id}",
    status_code=204,
    responses=NOT_FOUND,
    summary="Delete a voice",
    response_class=Response,
)
async def delete_voice(voice_id: VoiceIdPath, state: StateDep, profile: ProfileDep) -> Response:
    await state.services.delete_voice(profile, check_voice_id(voice_id) or "default")
    return Response(status_code=204)


@router.post(
    "/api/voice/{voice_id}/default",
    response_model=VoiceInfo,
    responses=NOT_FOUND,
    summary="Make a voice the default",
)
async def set_default_voice(voice_id: VoiceIdPath, profile: ProfileDep) -> VoiceInfo:
    """The default voice speaks whenever a request names no voice (or names 'default')."""
    from twin.voice import profiles as voice_profiles

    try:
        voice = await asyncio.to_thread(voice_profiles.set_default, profile, voice_id)
    except InvalidInput:  # an id the voice store could never have issued
        raise NotFound(f"No voice '{voice_id}' in this profile.", "List voices with GET /api/voice.") from None
    return _voice_info(voice)
