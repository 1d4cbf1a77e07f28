"""GPT-SoVITS `api_v2.py` (default port 9880): `POST /tts` with text, text_lang, ref_audio_path,
prompt_text, prompt_lang, media_type and streaming_mode. The server reads the reference from its own
disk, so this engine is for a locally installed GPT-SoVITS. Streaming replies are a WAV header followed
by raw PCM chunks; errors are HTTP 400 with {"message", "Exception"}."""

from __future__ import annotations

from collections.abc import AsyncIterator

from twin.backends.tts_http import HTTPTTSBackend, PCMStream
from twin.errors import InvalidInput
from twin.providers.tts import AudioChunk, TTSCapabilities, TTSOptions, VoiceSpec


class GPTSoVITSTTS(HTTPTTSBackend):
    name = "gptsovits"
    version = "api_v2"
    default_url = "http://127.0.0.1:9880"
    health_path = "/docs"
    engine_label = "GPT-SoVITS api_v2"
    capabilities = TTSCapabilities(streaming=True, zero_shot=True, emotions=True, sample_rate=32000)

    def payload(self, text: str, voice: VoiceSpec, options: TTSOptions) -> dict[str, object]:
        ref = voice.reference_path_for("GPT-SoVITS")
        if ref is None:
            raise InvalidInput("GPT-SoVITS needs a reference clip.", "Pick a voice with a reference clip.")
        lang = options.language or voice.language
        return {
            "text": text,
            "text_lang": lang,
            "ref_audio_path": str(ref.resolve()),
            "prompt_text": voice.reference_text or "",
            "prompt_lang": voice.language or lang,
            "top_k": int(self.settings.get("top_k", 15)),
            "top_p": float(self.settings.get("top_p", 1.0)),
            "temperature": float(self.settings.get("temperature", 1.0)),
            "text_split_method": self.settings.get("text_split_method", "cut5"),
            "batch_size": 1,
            "speed_factor": options.speed,
            "media_type": "wav",
            "streaming_mode": bool(self.stream),
        }

    async def synthesize(self, text: str, voice: VoiceSpec, options: TTSOptions) -> AsyncIterator[AudioChunk]:
        body = self.payload(text, voice, options)
        if self.stream:
            async for chunk in self._stream_pcm("POST", "/tts", PCMStream(32000, header=True), json=body):
                yield chunk
            return
        yield self._decode(await self._fetch("POST", "/tts", json=body))
