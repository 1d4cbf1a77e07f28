"""Speech for the API: the synthesizer's own results (SynthesisResult, SpeechStream) and the
prompt → draft → speech pipeline of the speech stage."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
from collections.abc import AsyncIterator

import numpy as np

from twin.api.services.writing import WritingServices, llm_options
from twin.audio.probe import probe
from twin.errors import InvalidInput, TooLarge
from twin.ids import check_name
from twin.profiles import Profile
from twin.voice.consent import Consent, ConsentRequest, decide, owner_embedding
from twin.voice.synth import SpeechStream, SynthesisResult
from twin.voice.synth.pipeline import PipelineEvent, VoiceChoice, speak_draft

MAX_REFERENCE_BYTES = 20 * 1024**2


def reference_consent_for(profile: Profile, reference: bytes, request: ConsentRequest | None) -> Consent:
    """Decide consent for a one-off reference clip (blocking: decodes and embeds it)."""
    from twin.audio.decode import load_audio
    from twin.providers import registry
    from twin.voice.config import load_voice_config

    if owner_embedding(profile) is None and request is None:
        return decide(profile, np.zeros(1, np.float32), None)  # nothing enrolled to compare with
    config = load_voice_config(profile)
    audio, sr = load_audio(reference, sr=16000, limits=config.limits)
    encoder = registry.create("speaker", config.reference.speaker_backend)
    return decide(profile, encoder.embed(audio, sr), request)


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

    async def reference_consent(self, profile: Profile, reference: bytes, request: ConsentRequest | None) -> Consent:
        """Whether a one-off reference clip may be spoken with: the owner's voice, or consent given
        (ConsentRequired otherwise). Decisions are remembered per clip for this process."""
        digest = hashlib.sha256(str(profile.root).encode() + reference).hexdigest()
        known = self._consents.get(digest)
        if known is not None and (known.kind == "owner" or request is None or known.who == request.who):
            return known
        consent = await asyncio.to_thread(reference_consent_for, profile, reference, request)
        with self._lock:
            self._consents[digest] = consent
            while len(self._consents) > 256:
                self._consents.pop(next(iter(self._consents)))
        return consent

    async def synthesize(
        self, profile: Profile, text: str, voice_id: str | None, reference: bytes | None, emotion: str | None, fmt: str
    ) -> SynthesisResult:
        synth, engine = self.synthesizer(profile), self._engine()
        hit = await synth.cached(text, voice_id, reference, emotion, fmt, engine)
        if hit is not None:  # served from the cache: nothing to queue for
            return hit
        return await self.synthesis_gate.run(lambda: synth.asynthesize(text, voice_id, reference, emotion, fmt, engine))

    async def open_speech(
        self, profile: Profile, text: str, voice_id: str | None, reference: bytes | None, emotion: str | None, fmt: str
    ) -> SpeechStream:
        """A checked request's audio stream (bad input and unknown voices fail here, before any audio).
        It holds a synthesis slot from its first chunk until it ends or is closed."""
        speech = await self.synthesizer(profile).open_stream(
            text, voice_id=voice_id, reference_audio=reference, emotion=emotion, fmt=fmt, engine=self._engine()
        )
        if speech.cache_hit:  # replayed from the cache: nothing to queue for
            return speech
        chunks = aiter(speech)
        return speech.with_chunks(self.synthesis_gate.stream(lambda: chunks))

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
        writer, synth = self.writer(profile), self.synthesizer(profile)
        options = llm_options(max_tokens, temperature)
        return self.synthesis_gate.stream(lambda: speak_draft(writer, synth, prompt, voice, style_reference, **options))
