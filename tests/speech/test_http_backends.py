"""Each external engine's client against a fake server speaking its wire format."""

from __future__ import annotations

import asyncio
import base64

import pytest

from speech.conftest import tone
from twin.audio.encode import save_wav
from twin.backends import (
    fake_tts_gptsovits,
    fake_tts_openai_speech,
    fake_tts_openvoice,
    fake_tts_xtts,
)
from twin.backends.fake_tts_common import SECONDS_PER_CHAR
from twin.backends.tts_gptsovits import GPTSoVITSTTS
from twin.backends.tts_openai_speech import OpenAISpeechTTS
from twin.backends.tts_openvoice import OpenVoiceTTS
from twin.backends.tts_xtts import XTTSTTS
from twin.errors import InvalidInput, Unauthorized, Unavailable
from twin.providers.tts import TTSOptions, VoiceSpec

TEXT = "Hello from the fake engine."


@pytest.fixture
def voice(tmp_path) -> VoiceSpec:
    ref = save_wav(tmp_path / "ref.wav", tone(1.0), 22050)
    return VoiceSpec(voice_id="owner", reference_audio=ref, reference_text="A reference sentence.")


def run(backend, text=TEXT, voice=None, **opts):
    async def go():
        return [c async for c in backend.synthesize(text, voice or VoiceSpec(), TTSOptions(**opts))]

    return asyncio.run(go())


def seconds(chunks) -> float:
    return sum(c.duration_s for c in chunks)


def test_openvoice_json_and_multipart(voice) -> None:
    with fake_tts_openvoice.serve() as srv:
        chunks = run(OpenVoiceTTS(base_url=srv.url), voice=voice)
        req = srv.requests[-1]
        assert req.path == "/tts" and req.headers["content-type"].startswith("application/json")
        assert req.json["text"] == TEXT
        assert base64.b64decode(req.json["reference"]) == voice.reference_audio.read_bytes()
        assert chunks[0].sample_rate == 24000 and abs(seconds(chunks) - len(TEXT) * SECONDS_PER_CHAR) < 0.01
        run(OpenVoiceTTS(base_url=srv.url, multipart=True), voice=voice)
        req = srv.requests[-1]
        assert req.headers["content-type"].startswith("multipart/form-data")
        assert req.form["text"] == TEXT and req.files["reference"] == voice.reference_audio.read_bytes()


def test_openvoice_errors(voice) -> None:
    with fake_tts_openvoice.serve() as srv:
        backend = OpenVoiceTTS(base_url=srv.url)
        with pytest.raises(InvalidInput):
            run(backend)  # no reference clip
        srv.fail_next(422, {"detail": "field required"})
        with pytest.raises(InvalidInput, match="field required"):
            run(backend, voice=voice)
        srv.fail_next(500, {"detail": "CUDA out of memory"})
        with pytest.raises(Unavailable, match="out of memory"):
            run(backend, voice=voice)
        url = srv.url
    with pytest.raises(Unavailable, match="not reachable"):
        run(OpenVoiceTTS(base_url=url), voice=voice)
    assert not asyncio.run(OpenVoiceTTS(base_url=url).health())


def test_gptsovits_request_shape_and_stream(voice) -> None:
    with fake_tts_gptsovits.serve() as srv:
        chunks = run(GPTSoVITSTTS(base_url=srv.url), voice=voice, speed=1.25)
        body = srv.requests[-1].json
        assert body["ref_audio_path"] == str(voice.reference_audio.resolve())
        assert body["prompt_text"] == "A reference sentence." and body["text_lang"] == "en"
        assert body["speed_factor"] == 1.25 and body["streaming_mode"] is False and body["media_type"] == "wav"
        assert len(chunks) == 1 and chunks[0].sample_rate == 32000
        streamed = run(GPTSoVITSTTS(base_url=srv.url, stream=True), voice=voice)
        assert srv.requests[-1].json["streaming_mode"] is True
        assert len(streamed) > 1 and abs(seconds(streamed) - seconds(chunks)) < 1e-3
        assert asyncio.run(GPTSoVITSTTS(base_url=srv.url).health())


def test_gptsovits_server_error_message(voice, tmp_path) -> None:
    missing = VoiceSpec(reference_audio=tmp_path / "gone.wav")
    with fake_tts_gptsovits.serve() as srv, pytest.raises(InvalidInput, match="not exists"):
        run(GPTSoVITSTTS(base_url=srv.url), voice=missing)


def test_xtts_post_and_stream(voice) -> None:
    with fake_tts_xtts.serve() as srv:
        chunks = run(XTTSTTS(base_url=srv.url), voice=voice)
        req = srv.requests[-1]
        assert req.path == "/tts_to_audio/" and req.json == {
            "text": TEXT,
            "speaker_wav": str(voice.reference_audio.resolve()),
            "language": "en",
        }
        streamed = run(XTTSTTS(base_url=srv.url, stream=True), voice=voice)
        req = srv.requests[-1]
        assert req.method == "GET" and req.path == "/tts_stream" and req.query["text"] == TEXT
        assert len(streamed) > 1 and abs(seconds(streamed) - seconds(chunks)) < 1e-3
        base = run(XTTSTTS(base_url=srv.url, speaker="male_deep"))  # named speaker for the base voice
        assert srv.requests[-1].json["speaker_wav"] == "male_deep" and seconds(base) > 0
        with pytest.raises(InvalidInput, match="unsupported"):
            run(XTTSTTS(base_url=srv.url), voice=voice, language="xx")


def test_openai_speech_wav_pcm_and_auth() -> None:
    with fake_tts_openai_speech.serve(api_key="sk-test") as srv:
        url = srv.url + "/v1"
        chunks = run(OpenAISpeechTTS(base_url=url, api_key="sk-test", voice="nova"))
        req = srv.requests[-1]
        assert req.path == "/v1/audio/speech" and req.headers["authorization"] == "Bearer sk-test"
        assert req.json == {"model": "tts-1", "input": TEXT, "voice": "nova", "response_format": "wav", "speed": 1.0}
        streamed = run(OpenAISpeechTTS(base_url=url, api_key="sk-test", stream=True))
        assert srv.requests[-1].json["response_format"] == "pcm"
        assert streamed[0].sample_rate == 24000 and abs(seconds(streamed) - seconds(chunks)) < 1e-3
        with pytest.raises(Unauthorized):
            run(OpenAISpeechTTS(base_url=url, api_key="wrong"))
        with pytest.raises(InvalidInput, match="not found"):
            run(OpenAISpeechTTS(base_url=url, api_key="sk-test", voice="nobody"))


def test_openai_fake_with_the_real_client() -> None:
    openai = pytest.importorskip("openai")
    with fake_tts_openai_speech.serve(api_key="sk-test") as srv:
        client = openai.OpenAI(base_url=srv.url + "/v1", api_key="sk-test")
        resp = client.audio.speech.create(model="tts-1", voice="alloy", input=TEXT, response_format="mp3")
        from twin.audio.decode import decode_bytes as decode

        samples, sr = decode(resp.content)
        assert sr == 24000 and abs(len(samples) / sr - len(TEXT) * SECONDS_PER_CHAR) < 0.1
