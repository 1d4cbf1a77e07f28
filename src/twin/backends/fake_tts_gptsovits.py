"""Fake GPT-SoVITS api_v2: `GET|POST /tts` (text, text_lang, ref_audio_path, prompt_lang required;
ref_audio_path must exist on this machine), media_type wav|raw, streaming_mode → a WAV header then raw
PCM chunks at 32 kHz; errors are HTTP 400 {"message", "Exception"} like the real server."""

from __future__ import annotations

import os

from twin.backends.fake_tts_common import (
    FakeHandler,
    FakeServer,
    Recorded,
    pcm_bytes,
    speech_like,
    wav_bytes,
)

RATE = 32000
LANGS = {"auto", "en", "zh", "ja", "ko", "yue", "all_zh", "all_ja"}


class _Handler(FakeHandler):
    def handle_request(self, rec: Recorded) -> None:
        if rec.path == "/docs":
            self.send_bytes(200, b"<html>GPT-SoVITS api_v2</html>", "text/html")
            return
        if rec.path != "/tts":
            self.send_json(404, {"detail": "Not Found"})
            return
        req = rec.json if rec.method == "POST" else rec.query
        req = req or {}
        for key in ("text", "text_lang", "ref_audio_path", "prompt_lang"):
            if not req.get(key):
                self.send_json(400, {"message": f"{key} is required"})
                return
        if str(req["text_lang"]).lower() not in LANGS:
            self.send_json(400, {"message": f"text_lang: {req['text_lang']} is not supported in version v2"})
            return
        if not os.path.isfile(str(req["ref_audio_path"])):
            self.send_json(400, {"message": "tts failed", "Exception": f"{req['ref_audio_path']} not exists"})
            return
        audio = speech_like(str(req["text"]), RATE, pitch=160.0)
        streaming = str(req.get("streaming_mode", "false")).lower() in ("true", "1", "2", "3")
        if streaming:
            header = wav_bytes(audio[:0], RATE)
            pcm = pcm_bytes(audio)
            step = RATE // 5 * 2
            self.send_chunked([header] + [pcm[i : i + step] for i in range(0, len(pcm), step)], "audio/wav")
            return
        if req.get("media_type", "wav") == "raw":
            self.send_bytes(200, pcm_bytes(audio), "audio/raw")
            return
        self.send_bytes(200, wav_bytes(audio, RATE), "audio/wav")


def serve() -> FakeServer:
    return FakeServer(_Handler)
