"""WritingService: drafts in the owner's style.

Messages = the style system prompt (with k exemplars of the owner's own messages retrieved for the
request, and the optional style reference) + the request. The reply streams through the cleaner, so
what is shown is already free of preambles and markers; the final Draft carries the clean text, the
raw model output, usage and timings."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from twin.errors import InvalidInput, TooLarge
from twin.profiles import Profile
from twin.providers.llm import LLM, ChatMessage, LLMOptions, TextDelta, Timings, Usage, open_llm, run_sync
from twin.writing.cleanup import StreamCleaner
from twin.writing.exemplars import Exemplar, find_exemplars
from twin.writing.prompt import DEFAULT_STYLE, build_messages


class WritingSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    exemplars: int = Field(4, ge=0, le=20, description="How many of the owner's messages to show the model.")
    max_exemplar_chars: int = Field(600, ge=50, description="Longer exemplars are cut to this length.")
    owner_name: str | None = Field(
        None, description="Name in the system prompt (default: the profile identity's first name, else 'the owner')."
    )
    style: str = Field(DEFAULT_STYLE, description="One line describing the owner's style.")
    clean: bool = Field(True, description="Strip preambles, markers, fences and trailing notes.")
    max_prompt_chars: int = Field(8000, ge=100, description="Longest request or style reference accepted.")


@dataclass
class Draft:
    text: str
    model: str
    usage: Usage = field(default_factory=Usage)
    timings: Timings = field(default_factory=Timings)
    finish_reason: str = "stop"
    raw_text: str = ""
    exemplar_ids: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The public shape: text, model, usage{prompt_tokens, completion_tokens}, timings{…}."""
        return {
            "text": self.text,
            "model": self.model,
            "usage": asdict(self.usage),
            "timings": {k: round(v, 4) for k, v in asdict(self.timings).items()},
        }


class WritingService:
    def __init__(
        self,
        profile: Profile | None = None,
        settings: WritingSettings | None = None,
        *,
        llm: LLM | None = None,
        **llm_overrides: Any,
    ) -> None:
        self.profile = profile
        self.settings = settings or WritingSettings()
        self.llm = llm or open_llm(profile, **llm_overrides)

    def _owner(self) -> str:
        if self.settings.owner_name:
            return self.settings.owner_name
        try:
            names = self.profile.identity.names if self.profile else []
        except (OSError, ValueError):
            names = []
        return names[0].split()[0] if names and names[0].strip() else "the owner"

    def _check(self, prompt: str, style_reference: str | None) -> None:
        if not prompt or not prompt.strip():
            raise InvalidInput(
                "The drafting request is empty.", 'Say what to write, e.g. "Thank Sam for the help with the release".'
            )
        limit = self.settings.max_prompt_chars
        for what, text in (("request", prompt), ("style reference", style_reference or "")):
            if len(text) > limit:
                raise TooLarge(
                    f"The {what} is {len(text)} characters; the limit is {limit}.",
                    f"Shorten the {what} or raise max_prompt_chars in the writing settings.",
                )

    def exemplars(self, request: str) -> list[Exemplar]:
        if self.profile is None or self.settings.exemplars == 0 or not self.profile.db_path.exists():
            return []
        from twin.store.db import connect

        conn = connect(self.profile)
        try:
            return find_exemplars(
                conn, request, self.settings.exemplars, max_chars=max(self.settings.max_exemplar_chars * 2, 200)
            )
        finally:
            conn.close()

    def messages(self, prompt: str, style_reference: str | None = None) -> tuple[list[ChatMessage], list[Exemplar]]:
        self._check(prompt, style_reference)
        found = self.exemplars(prompt + "\n" + (style_reference or ""))
        msgs = build_messages(
            prompt,
            owner=self._owner(),
            style=self.settings.style,
            exemplars=found,
            style_reference=style_reference,
            max_exemplar_chars=self.settings.max_exemplar_chars,
        )
        return msgs, found

    async def stream_draft(
        self,
        prompt: str,
        style_reference: str | None = None,
        options: LLMOptions | None = None,
        *,
        cancel: asyncio.Event | None = None,
        **option_fields: Any,
    ) -> AsyncIterator[TextDelta | Draft]:
        """Clean text deltas, then one Draft. `option_fields` (max_tokens=…, temperature=…) override options."""
        opts = options or LLMOptions()
        if option_fields:  # validated like any other options (extra="forbid" catches typos)
            opts = LLMOptions.model_validate({**opts.model_dump(), **option_fields})
        msgs, found = await asyncio.to_thread(self.messages, prompt, style_reference)
        cleaner = StreamCleaner() if self.settings.clean else None
        async for item in self.llm.stream_chat(msgs, opts, cancel=cancel):
            if isinstance(item, TextDelta):
                out = cleaner.feed(item.text) if cleaner else item.text
                if out:
                    yield TextDelta(out)
                continue
            text = item.text
            if cleaner:
                rest, text = cleaner.finish()
                if rest:
                    yield TextDelta(rest)
            yield Draft(
                text=text,
                model=item.model,
                usage=item.usage,
                timings=item.timings,
                finish_reason=item.finish_reason,
                raw_text=item.text,
                exemplar_ids=[e.id for e in found],
            )

    async def draft(
        self,
        prompt: str,
        style_reference: str | None = None,
        options: LLMOptions | None = None,
        *,
        cancel: asyncio.Event | None = None,
        **option_fields: Any,
    ) -> Draft:
        final: Draft | None = None
        async for item in self.stream_draft(prompt, style_reference, options, cancel=cancel, **option_fields):
            if isinstance(item, Draft):
                final = item
        assert final is not None
        return final

    def draft_sync(
        self, prompt: str, style_reference: str | None = None, options: LLMOptions | None = None, **option_fields: Any
    ) -> Draft:
        return run_sync(self.draft(prompt, style_reference, options, **option_fields))
