"""Drafting and chat for the API: the writing stage's Draft and the LLM provider's stream items."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from twin.api.services.base import ServicesBase
from twin.profiles import Profile
from twin.providers.llm import ChatResult, LLMOptions, TextDelta
from twin.writing import Draft, WritingService


def llm_options(max_tokens: int | None, temperature: float | None) -> dict[str, Any]:
    """The sampling options a request set (the rest keep the backend's defaults)."""
    out: dict[str, Any] = {}
    if max_tokens is not None:
        out["max_tokens"] = max_tokens
    if temperature is not None:
        out["temperature"] = temperature
    return out


class WritingServices(ServicesBase):
    def writer(self, profile: Profile) -> WritingService:
        return WritingService(profile, llm=self.llm(profile))

    async def draft(
        self,
        profile: Profile,
        prompt: str,
        style_reference: str | None,
        max_tokens: int | None,
        temperature: float | None,
    ) -> Draft:
        writer = self.writer(profile)
        options = llm_options(max_tokens, temperature)
        return await self.generation_gate.run(lambda: writer.draft(prompt, style_reference, **options))

    def stream_draft(
        self,
        profile: Profile,
        prompt: str,
        style_reference: str | None,
        max_tokens: int | None,
        temperature: float | None,
    ) -> AsyncIterator[TextDelta | Draft]:
        """Clean text deltas, then one Draft."""
        options = llm_options(max_tokens, temperature)
        writer = self.writer(profile)
        return self.generation_gate.stream(lambda: writer.stream_draft(prompt, style_reference, **options))

    def stream_chat(
        self,
        profile: Profile,
        messages: list[dict[str, str]],
        max_tokens: int | None,
        temperature: float | None,
    ) -> AsyncIterator[TextDelta | ChatResult]:
        """Text deltas, then one ChatResult with usage and timings."""
        options = LLMOptions.model_validate(llm_options(max_tokens, temperature))
        llm = self.llm(profile)
        return self.generation_gate.stream(lambda: llm.stream_chat(messages, options))

    async def models(self, profile: Profile) -> list[str]:
        return list(await self.llm(profile).list_models())
