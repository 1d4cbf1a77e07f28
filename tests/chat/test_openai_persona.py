"""A persona through the OpenAI API, as Open WebUI, SillyTavern and the `openai` SDK reach it: the
persona is listed as a model, a turn runs with its memory, a client that resends the whole history
continues the same stored conversation, and what cannot work for a persona is refused."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.api.conftest import Env, make_env
from tests.api.live import serve

openai = pytest.importorskip("openai")


@pytest.fixture
def live(twin_home: Path) -> Iterator[tuple[Env, str]]:
    env = make_env(twin_home)
    with serve(env.client.app) as url:
        yield env, url


def _memories(url: str, key: str, wanted: str, timeout_s: float = 90) -> list[str]:
    """The profile's memory texts once one mentions `wanted` (extraction runs after the reply)."""
    deadline = time.monotonic() + timeout_s
    texts: list[str] = []
    while time.monotonic() < deadline:
        r = httpx.get(url + "/api/memories", headers={"Authorization": f"Bearer {key}"}, timeout=30)
        assert r.status_code == 200, r.text
        texts = [m["text"] for m in r.json()["items"]]
        if any(wanted in t for t in texts):
            return texts
        time.sleep(0.3)
    return texts


def test_a_persona_is_a_model_with_memory_and_one_conversation(live: tuple[Env, str]) -> None:
    env, url = live
    client = openai.OpenAI(base_url=url + "/v1", api_key=env.alice, max_retries=0)
    assert "persona:twin" in [m.id for m in client.models.list()]

    first = [{"role": "user", "content": "I work at Globex and I live in Leeds."}]
    raw = client.chat.completions.with_raw_response.create(model="persona:twin", messages=first)
    reply = raw.parse()
    conversation = raw.headers["x-twin-conversation"]
    assert reply.model == "persona:twin" and reply.choices[0].message.content
    assert any("Globex" in t for t in _memories(url, env.alice, "Globex"))

    # the client resends the history with the next message: the same stored conversation continues
    history = [*first, {"role": "assistant", "content": reply.choices[0].message.content}]
    pieces = [
        c.choices[0].delta.content or ""
        for c in client.chat.completions.create(
            model="persona:twin", stream=True, messages=[*history, {"role": "user", "content": "Where do I live?"}]
        )
        if c.choices
    ]
    assert "".join(pieces)
    shown = httpx.get(
        f"{url}/api/conversations/{conversation}", headers={"Authorization": f"Bearer {env.alice}"}, timeout=30
    )
    assert shown.status_code == 200, shown.text
    users = [t["text"] for t in shown.json()["turns"] if t["role"] == "user"]
    assert users == ["I work at Globex and I live in Leeds.", "Where do I live?"]

    # a different first message starts a conversation of its own
    other = client.chat.completions.with_raw_response.create(
        model="persona:twin", messages=[{"role": "user", "content": "Hello again."}]
    )
    assert other.headers["x-twin-conversation"] != conversation


def test_persona_refusals(live: tuple[Env, str]) -> None:
    env, url = live
    client = openai.OpenAI(base_url=url + "/v1", api_key=env.alice, max_retries=0)
    hello = [{"role": "user", "content": "hi"}]
    with pytest.raises(openai.NotFoundError) as missing:
        client.chat.completions.create(model="persona:nobody", messages=hello)
    assert "nobody" in str(missing.value)
    with pytest.raises(openai.BadRequestError) as many:
        client.chat.completions.create(model="persona:twin", messages=hello, n=2)
    assert "persona answers once" in str(many.value)
    bob = openai.OpenAI(base_url=url + "/v1", api_key=env.bob, max_retries=0)
    with pytest.raises(openai.UnprocessableEntityError, match="no user message"):
        bob.chat.completions.create(model="persona:twin", messages=[{"role": "system", "content": "only system"}])
