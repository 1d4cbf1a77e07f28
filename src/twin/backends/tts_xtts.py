"""The XTTS API server (xtts-api-server, default port 8020): `POST /tts_to_audio/` with
{text, speaker_wav, language} → WAV, or `GET /tts_stream?text=…&speaker_wav=…&language=…` → WAV header
then PCM. `speaker_wav` is a file the server can read (our reference clip's path) or a speaker name from
its speakers folder (`speaker` in tts.json, used for the base voice)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from twin.backends.tts_http import HTTPTTSBackend, PCMStream
from twin.errors import InvalidInput
from twin.providers.tts import AudioChunk, TTSCapabilities, TTSOptions, VoiceSpec


class XTTSTTS(HTTPTTSBackend):
    name = "xtts"
    version = "v2"
    default_url = "http://127.0.0.1:8020"
    health_path = "/speakers_list"
    engine_label = "XTTS API server"
    capabilities = TTSCapabilities(streaming=True, zero_shot=True, emotions=True, sample_rate=24000)

    def payload(self, text: str, voice: VoiceSpec, options: TTSOptions) -> dict[str, str]:
        ref = voice.reference_path_for("XTTS")
        speaker = str(ref.resolve()) if ref else self.settings.get("speaker")
        if not speaker:
            raise InvalidInput(
                "XTTS needs a reference clip or a speaker name.",
                "Pick a voice, or set engines.xtts.speaker in tts.json.",
            )
        return {"text": text, "speaker_wav": str(speaker), "language": options.language or voice.language}

    async def synthesize(self, text: str, voice: VoiceSpec, options: TTSOptions) -> AsyncIterator[AudioChunk]:
        body = self.payload(text, voice, options)
        if self.stream:
            async for chunk in self._stream_pcm("GET", "/tts_stream", PCMStream(24000), params=body):
                yield chunk
            return
        yield self._decode(await self._fetch("POST", "/tts_to_audio/", json=body))
