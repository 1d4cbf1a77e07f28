"""OpenAI-compatible `POST /v1/audio/speech` servers (Kokoro-FastAPI, Fish Speech, Chatterbox, openedai-speech…):
JSON {model, input, voice, response_format, speed}; audio comes back as the body, chunked. With
stream=true we ask for `pcm` (raw 24 kHz 16-bit mono, per the OpenAI API) and play it as it arrives."""

from __future__ import annotations

from collections.abc import AsyncIterator

from twin.backends.tts_http import HTTPTTSBackend, PCMStream
from twin.providers.tts import AudioChunk, TTSCapabilities, TTSOptions, VoiceSpec


class OpenAISpeechTTS(HTTPTTSBackend):
    name = "openai_speech"
    version = "v1"
    default_url = "http://127.0.0.1:8880/v1"
    health_path = "/models"
    engine_label = "OpenAI-compatible speech server"
    capabilities = TTSCapabilities(streaming=True, sample_rate=24000)

    def payload(self, text: str, voice: VoiceSpec, options: TTSOptions) -> dict[str, object]:
        voices = self.settings.get("voices") or {}
        name = voices.get(voice.voice_id or "", self.settings.get("voice", "alloy"))
        return {
            "model": self.settings.get("model", "tts-1"),
            "input": text,
            "voice": name,
            "response_format": "pcm" if self.stream else "wav",
            "speed": options.speed,
        }

    async def synthesize(self, text: str, voice: VoiceSpec, options: TTSOptions) -> AsyncIterator[AudioChunk]:
        body = self.payload(text, voice, options)
        if self.stream:
            parser = PCMStream(int(self.settings.get("pcm_rate", 24000)), header=False)
            async for chunk in self._stream_pcm("POST", "/audio/speech", parser, json=body):
                yield chunk
            return
        yield self._decode(await self._fetch("POST", "/audio/speech", json=body))
