"""Fake OpenVoice V2 + MeloTTS server (the seed's contract): `POST /tts` with JSON {text, reference: base64}
or multipart (text field + reference file) → audio/wav at 24 kHz; `GET /health`; 422 on a missing field."""

from __future__ import annotations

import base64
import binascii

from twin.backends.fake_tts_common import FakeHandler, FakeServer, Recorded, speech_like, wav_bytes

RATE = 24000


class _Handler(FakeHandler):
    def handle_request(self, rec: Recorded) -> None:
        if rec.method == "GET" and rec.path == "/health":
            self.send_json(200, {"status": "ok", "models": ["openvoice_v2", "melotts_en"]})
            return
        if rec.method != "POST" or rec.path != "/tts":
            self.send_json(404, {"detail": "Not Found"})
            return
        if rec.json is not None:
            text, ref_b64 = rec.json.get("text"), rec.json.get("reference")
            try:
                ref = base64.b64decode(ref_b64 or "", validate=True)
            except (binascii.Error, ValueError):
                self.send_json(422, {"detail": "reference is not valid base64"})
                return
        else:
            text, ref = rec.form.get("text"), rec.files.get("reference", b"")
        if not text or not ref:
            self.send_json(
                422,
                {
                    "detail": [
                        {
                            "loc": ["body", "text" if not text else "reference"],
                            "msg": "field required",
                            "type": "value_error.missing",
                        }
                    ]
                },
            )
            return
        self.send_bytes(200, wav_bytes(speech_like(text, RATE), RATE), "audio/wav")


def serve() -> FakeServer:
    return FakeServer(_Handler)
