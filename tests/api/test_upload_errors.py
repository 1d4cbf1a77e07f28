"""Upload errors name the user's file, never the server's temporary file or its folders; an
over-limit upload streamed without a Content-Length is still a clean 413."""

from __future__ import annotations

import pytest

from .conftest import Env, tone_wav


@pytest.mark.parametrize(
    ("sent", "shown"),
    [("my recording.wav", "my recording.wav"), ("C:\\Users\\me\\take 2.wav", "take 2.wav"), ("../../x.wav", "x.wav")],
)
def test_errors_name_the_users_file(env: Env, sent: str, shown: str) -> None:
    r = env.client.post(
        "/api/voice/upload",
        headers=env.auth(),
        files={"file": (sent, b"RIFF\x00\x00\x00\x00WAVEjunk" * 4, "audio/wav")},
    )
    assert r.status_code in (415, 422), r.text
    message = r.json()["error"]["message"]
    assert message.startswith(shown + ":"), message
    assert "upload-" not in r.text and ".bin" not in r.text and str(env.settings.home) not in r.text


def test_empty_upload_names_the_file(env: Env) -> None:
    r = env.client.post("/api/voice/upload", headers=env.auth(), files={"file": ("quiet.wav", b"", "audio/wav")})
    assert r.status_code == 422 and r.json()["error"]["message"] == "quiet.wav is empty."


def test_streamed_upload_over_limit_is_413(small_env: Env) -> None:
    body = (
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\n'
        + tone_wav(3.0)
        + b"\r\n--b--\r\n"
    )

    def chunks():  # noqa: ANN202 - no Content-Length: the limit is enforced as the body flows
        for i in range(0, len(body), 8192):
            yield body[i : i + 8192]

    r = small_env.client.post(
        "/api/voice/upload",
        headers={**small_env.auth(), "Content-Type": "multipart/form-data; boundary=b"},
        content=chunks(),
    )
    assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"
    tmp = small_env.settings.profiles_dir / "alice" / "voice" / "tmp"
    assert not tmp.exists() or list(tmp.iterdir()) == []
