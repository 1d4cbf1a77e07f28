from __future__ import annotations

import pytest

from twin.backends.fake_ollama import FakeOllama
from twin.backends.fake_openai import FakeOpenAI
from twin.errors import NotFound


@pytest.fixture
def fake_ollama():
    with FakeOllama(models=["llama3.2", "me-writing", "broken"], fail_after={"broken": 2}) as server:
        yield server


@pytest.fixture
def fake_openai():
    with FakeOpenAI(models=["base-model", "me-lora", "broken"], fail_after={"broken": 2}) as server:
        yield server


def smollm2_available() -> bool:
    try:
        import llama_cpp  # noqa: F401

        from twin.backends.llm_llamacpp import default_model_path

        default_model_path()
    except (ImportError, NotFound):
        return False
    return True
