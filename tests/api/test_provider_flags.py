"""The contracts' public `loaded` flag and the registry's `available()`, which the Engines view reads
instead of backends' private fields."""

from __future__ import annotations

import asyncio

import pytest

from twin.errors import MissingDependency
from twin.providers import registry
from twin.providers.llm import LLM
from twin.providers.tts import TTSBackend


class Lazy(TTSBackend):
    name = "lazy"

    def __init__(self, fail: bool = False) -> None:
        super().__init__()
        self.fail = fail

    def load(self) -> None:
        if self.fail:
            raise MissingDependency.for_extra("Lazy", "voice", "lazy_engine")

    def synthesize(self, text, voice, options):  # noqa: ANN001, ANN201 - not used here
        raise NotImplementedError


class Plain(Lazy):
    """A backend that does not override load() still reports being loaded once used."""

    load = TTSBackend.load


class AsyncLazy(LLM):
    name = "async_lazy"

    async def load(self) -> None:
        await asyncio.sleep(0)

    def _stream(self, messages, options):  # noqa: ANN001, ANN202 - not used here
        raise NotImplementedError


def test_loaded_turns_true_only_after_load_returns() -> None:
    ok, broken, plain = Lazy(), Lazy(fail=True), Plain()
    assert not ok.loaded and not broken.loaded and not plain.loaded
    ok.load()
    plain.load()
    with pytest.raises(MissingDependency):
        broken.load()
    assert ok.loaded and plain.loaded and not broken.loaded
    llm = AsyncLazy("m")
    assert not llm.loaded
    asyncio.run(llm.load())
    assert llm.loaded


def test_available_checks_modules_without_importing_them() -> None:
    registry.register("tts", "not_here", "twin_missing_backend_module:Factory")
    try:
        found = registry.available("tts")
    finally:
        registry._BUILTIN["tts"].pop("not_here")
    assert found["not_here"] is False and found["piper"] is True
    assert set(registry.available("llm")) == set(registry.names("llm"))
    assert registry.available("nothing") == {}
