"""The API drafts with the profile's active model and the prompt it was trained with: activation writes
llm.json, which the server reads like `twin write` does."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient  # noqa: E402

from twin.api.config import ServerSettings  # noqa: E402
from twin.api.main import build_app  # noqa: E402
from twin.backends.fake_ollama import FakeOllama  # noqa: E402
from twin.keys import KeyStore  # noqa: E402
from twin.models.activate import activate  # noqa: E402
from twin.models.store import ModelRecord  # noqa: E402
from twin.models.store import save as save_model  # noqa: E402
from twin.profiles import ProfileManager  # noqa: E402
from twin.settings import load_settings  # noqa: E402

TRAINED = "You are Thota's writing twin. Write exactly as Thota would: very short chat messages, all lowercase."


def test_api_drafts_with_the_activated_model_and_its_training_prompt(twin_home) -> None:
    settings = load_settings(home=twin_home)
    profile = ProfileManager(settings).create("me")
    keys = KeyStore(settings)
    secret = keys.create("me").secret
    keys.close()
    systems: list[str] = []

    def reply(model: str, messages: list[dict]) -> str:
        systems.append(messages[0]["content"])
        return "sounds good, see you then"

    with FakeOllama(models=["me-writing"], reply_fn=reply) as ollama:
        record = ModelRecord(
            name="me-writing",
            kind="ollama",
            run="r1",
            ollama_model="me-writing",
            ollama_host=ollama.url,
            system_prompts={"chat": TRAINED},
            main_channel="chat",
        )
        save_model(profile, record)
        activate(profile, "me-writing")
        app = build_app(settings, ServerSettings())
        with TestClient(app, base_url="http://127.0.0.1") as client:
            r = client.post(
                "/api/tts/lora/generate",
                headers={"Authorization": f"Bearer {secret}"},
                json={"prompt": "Are we still on for lunch?"},
            )
    assert r.status_code == 200, r.text
    assert r.json()["text"] == "sounds good, see you then" and "me-writing" in r.json()["model"]
    assert systems == [TRAINED]
