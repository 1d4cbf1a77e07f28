"""OpenVoice V2 + MeloTTS behind the seed's FastAPI server: `POST /tts {text, reference}` → WAV.

`reference` is the base64 of the reference clip (JSON, the default) or an uploaded file (multipart, with
multipart=true in tts.json). `twin tts-server` speaks the same contract, so this client also reaches
another twin."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

from twin.backends.tts_http import HTTPTTSBackend
from twin.errors import InvalidInput
from twin.providers.tts import AudioChunk, TTSCapabilities, TTSOptions, VoiceSpec


class OpenVoiceTTS(HTTPTTSBackend):
    name = "openvoice"
    version = "v2"
    default_url = "http://127.0.0.1:8000"
    health_path = "/health"
    engine_label = "OpenVoice server"
    capabilities = TTSCapabilities(zero_shot=True, emotions=True, sample_rate=24000)

    async def synthesize(self, text: str, voice: VoiceSpec, options: TTSOptions) -> AsyncIterator[AudioChunk]:
        if voice.reference_audio is None:
            raise InvalidInput("OpenVoice needs a reference clip to clone.", "Pick a voice with a reference clip.")
        ref = voice.reference_bytes or voice.reference_audio.read_bytes()
        fields = {"text": text, "language": options.language, "speed": str(options.speed)}
        if self.settings.get("multipart"):
            files = {"reference": (voice.reference_audio.name, ref, "audio/wav")}
            resp = await self._fetch("POST", "/tts", data=fields, files=files)
        else:
            payload = {**fields, "speed": options.speed, "reference": base64.b64encode(ref).decode("ascii")}
            resp = await self._fetch("POST", "/tts", json=payload)
        yield self._decode(resp)
