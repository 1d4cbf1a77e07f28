"""Fake OpenAI-compatible speech server: `POST /v1/audio/speech` {model, input, voice, response_format,
speed} → audio body sent chunked (wav, mp3, or pcm = raw 24 kHz 16-bit mono); `GET /v1/models`;
bearer-key check when started with an api_key; errors as {"error": {"message", "type", "code"}}."""

from __future__ import annotations

from twin.backends.fake_tts_common import (
    FakeHandler,
    FakeServer,
    Recorded,
    pcm_bytes,
    speech_like,
    wav_bytes,
)

RATE = 24000
VOICES = {"alloy", "echo", "fable", "onyx", "nova", "shimmer", "af_bella", "owner-clone"}


def _error(message: str, kind: str = "invalid_request_error", code: str | None = None) -> dict[str, object]:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


class _Handler(FakeHandler):
    def handle_request(self, rec: Recorded) -> None:
        key = getattr(self.server, "api_key", None)
        if key and rec.headers.get("authorization") != f"Bearer {key}":
            self.send_json(401, _error("Incorrect API key provided.", code="invalid_api_key"))
            return
        if rec.path == "/v1/models":
            self.send_json(200, {"object": "list", "data": [{"id": "tts-1", "object": "model"}]})
            return
        if rec.path != "/v1/audio/speech" or rec.method != "POST":
            self.send_json(404, _error("Not found"))
            return
        req = rec.json or {}
        if not req.get("input") or not req.get("model"):
            self.send_json(400, _error("Missing required parameter: 'input'."))
            return
        if req.get("voice") not in VOICES:
            self.send_json(400, _error(f"Voice '{req.get('voice')}' not found."))
            return
        speed = float(req.get("speed", 1.0))
        audio = speech_like(str(req["input"]), int(RATE * speed) or RATE)
        fmt = req.get("response_format", "mp3")
        if fmt == "pcm":
            data, ctype = pcm_bytes(audio), "audio/pcm"
        elif fmt == "wav":
            data, ctype = wav_bytes(audio, RATE), "audio/wav"
        elif fmt == "mp3":
            import lameenc

            enc = lameenc.Encoder()
            enc.set_in_sample_rate(RATE)
            enc.set_channels(1)
            enc.set_bit_rate(64)
            data, ctype = bytes(enc.encode(pcm_bytes(audio))) + bytes(enc.flush()), "audio/mpeg"
        else:
            self.send_json(400, _error(f"Unsupported response_format '{fmt}'."))
            return
        step = 8192
        self.send_chunked([data[i : i + step] for i in range(0, len(data), step)], ctype)


def serve(api_key: str | None = None) -> FakeServer:
    server = FakeServer(_Handler)
    server.api_key = api_key  # type: ignore[attr-defined]
    return server
