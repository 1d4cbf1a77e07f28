"""Fake xtts-api-server: `POST /tts_to_audio/` {text, speaker_wav, language} → WAV (24 kHz);
`GET /tts_stream?text&speaker_wav&language` → WAV header then PCM chunks; `GET /speakers_list`;
errors as FastAPI's {"detail": …} with 400 (language) or 500 (speaker not found)."""

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

RATE = 24000
LANGUAGES = {"en", "es", "fr", "de", "it", "pt", "pl", "tr", "ru", "nl", "cs", "ar", "zh-cn", "ja", "hu", "ko"}
SPEAKERS = ["female_calm", "male_deep"]


class _Handler(FakeHandler):
    def handle_request(self, rec: Recorded) -> None:
        if rec.path == "/speakers_list":
            self.send_json(200, SPEAKERS)
            return
        if rec.path == "/tts_to_audio/" and rec.method == "POST":
            req = rec.json or {}
        elif rec.path == "/tts_stream" and rec.method == "GET":
            req = rec.query
        else:
            self.send_json(404, {"detail": "Not Found"})
            return
        if "text" not in req or "language" not in req:
            self.send_json(422, {"detail": [{"loc": ["body", "text"], "msg": "field required"}]})
            return
        if str(req["language"]).lower() not in LANGUAGES:
            self.send_json(400, {"detail": "Language code sent is either unsupported or misspelled."})
            return
        speaker = str(req.get("speaker_wav") or "")
        if speaker not in SPEAKERS and not os.path.isfile(speaker):
            self.send_json(500, {"detail": f"Error: Speaker {speaker} not found"})
            return
        audio = speech_like(str(req["text"]), RATE, pitch=120.0)
        if rec.path == "/tts_stream":
            pcm = pcm_bytes(audio)
            step = RATE // 4 * 2
            self.send_chunked(
                [wav_bytes(audio[:0], RATE)] + [pcm[i : i + step] for i in range(0, len(pcm), step)], "audio/x-wav"
            )
            return
        self.send_bytes(200, wav_bytes(audio, RATE), "audio/wav")


def serve() -> FakeServer:
    return FakeServer(_Handler)
