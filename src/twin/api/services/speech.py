"""Speech for the API: the synthesizer's own results (SynthesisResult, SpeechStream) and the
prompt → draft → speech pipeline of the speech stage."""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncIterator

from twin.api.services.writing import WritingServices, llm_options
from twin.audio.probe import probe
from twin.errors import InvalidInput, TooLarge
from twin.ids import check_name
from twin.profiles import Profile
from twin.voice.synth import SpeechStream, SynthesisResult
from twin.voice.synth.pipeline import PipelineEvent, VoiceChoice, speak_draft

MAX_REFERENCE_BYTES = 20 * 1024**2


def decode_reference(data: str) -> bytes:
    """Decode a base64 reference clip and check its audio header before anything decodes it."""
    if len(data) > MAX_REFERENCE_BYTES * 4 // 3 + 4:
        raise TooLarge("reference_audio is too large.", "Send a clip under 20 MiB (a few seconds is enough).")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("reference_audio is not valid base64.", "Encode the audio file's bytes as base64.") from None
    probe(raw)
    return raw


def check_voice_id(voice_id: str | None) -> str | None:
    """A voice id as the voice store names its folders (a safe lowercase name); None or "default" means
    the profile's default voice. Anything else (slashes, dots, ..) is refused before any lookup."""
    if voice_id in (None, "", "default"):
        return None
    return check_name(voice_id, "voice id")


class SpeechServices(WritingServices):
    def _engine(self) -> str | None:
        return self.server.tts_engine or None

    async def synthesize(
        self, profile: Profile, text: str, voice_id: str | None, reference: bytes | None, emotion: str | None, fmt: str
    ) -> SynthesisResult:
        return await self.synthesizer(profile).asynthesize(
            text, voice_id=voice_id, reference_audio=reference, emotion=emotion, fmt=fmt, engine=self._engine()
        )

    async def open_speech(
        self, profile: Profile, text: str, voice_id: str | None, reference: bytes | None, emotion: str | None, fmt: str
    ) -> SpeechStream:
        """A checked request's audio stream (bad input and unknown voices fail here, before any audio)."""
        return await self.synthesizer(profile).open_stream(
            text, voice_id=voice_id, reference_audio=reference, emotion=emotion, fmt=fmt, engine=self._engine()
        )

    async def stream_speech(
        self, profile: Profile, text: str, voice_id: str | None, reference: bytes | None, emotion: str | None, fmt: str
    ) -> AsyncIterator[bytes]:
        async for chunk in await self.open_speech(profile, text, voice_id, reference, emotion, fmt):
            yield chunk

    def speak_draft(
        self,
        profile: Profile,
        prompt: str,
        style_reference: str | None,
        voice: VoiceChoice,
        max_tokens: int | None,
        temperature: float | None,
    ) -> AsyncIterator[PipelineEvent]:
        """Prompt → draft → speech events (see twin.voice.synth.pipeline)."""
        if voice.engine is None and self._engine():
            voice = VoiceChoice(voice.voice_id, voice.reference_audio, voice.emotion, voice.fmt, self._engine())
        return speak_draft(
            self.writer(profile),
            self.synthesizer(profile),
            prompt,
            voice,
            style_reference,
            **llm_options(max_tokens, temperature),
        )
