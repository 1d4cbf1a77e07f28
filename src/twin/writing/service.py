"""WritingService: drafts in the owner's style, one draft per request.

The model is the profile's active one (llm.json, set by `twin model use` / `twin export --activate`).
When that is a trained model, the system prompt is exactly the one it was trained with; otherwise it
is the same prompt family with the owner's measured style line and exemplars of their own messages.
Exemplar separators and chat turn markers are stop strings, the cleaner cuts a second draft, and the
default length fits the owner's own messages of that channel. The reply streams through the cleaner;
the final Draft says which model and adapter drafted and with which prompt."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from twin.errors import InvalidInput, TooLarge
from twin.models.activate import active_record
from twin.models.store import ModelRecord
from twin.profiles import Profile
from twin.providers.llm import (
    LLM,
    ChatMessage,
    LLMConfig,
    LLMOptions,
    TextDelta,
    Timings,
    Usage,
    load_llm_config,
    open_llm,
    run_sync,
)
from twin.style.card import default_max_tokens, style_line
from twin.style.prompt import DRAFT_STOPS, guess_channel
from twin.writing.cleanup import StreamCleaner
from twin.writing.exemplars import Exemplar, find_exemplars
from twin.writing.prompt import build_messages, few_shot_system, with_reference
from twin.writing.settings import WritingSettings, load_writing_settings
from twin.writing.style_source import StyleSource, style_source

PromptSource = Literal["trained", "few-shot"]


@dataclass
class Draft:
    text: str
    model: str
    usage: Usage = field(default_factory=Usage)
    timings: Timings = field(default_factory=Timings)
    finish_reason: str = "stop"
    raw_text: str = ""
    exemplar_ids: list[str] = field(default_factory=list)
    adapter: str | None = None  # the LoRA file applied, if any
    active_model: str | None = None  # the twin model (twin model list) that drafted, if one is active
    prompt: PromptSource = "few-shot"
    channel: str = "chat"

    def to_dict(self) -> dict[str, Any]:
        """The public shape: text, model, adapter, active_model, prompt, channel, usage, timings."""
        return {
            "text": self.text,
            "model": self.model,
            "adapter": self.adapter,
            "active_model": self.active_model,
            "prompt": self.prompt,
            "channel": self.channel,
            "finish_reason": self.finish_reason,
            "usage": asdict(self.usage),
            "timings": {k: round(v, 4) for k, v in asdict(self.timings).items()},
        }


@dataclass
class DraftPlan:
    """Everything decided before the model is called."""

    messages: list[ChatMessage]
    exemplars: list[Exemplar]
    channel: str
    prompt: PromptSource
    max_tokens: int
    stop: list[str]


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
        self.settings = settings or load_writing_settings(profile)
        self.config: LLMConfig = load_llm_config(profile, **llm_overrides)
        self.llm = llm or open_llm(profile, **llm_overrides)
        self.record: ModelRecord | None = active_record(profile, self.config)
        self._style: StyleSource | None = None

    @property
    def adapter(self) -> str | None:
        lora = self.config.lora_path if self.config.backend == "llamacpp" else None
        return Path(lora).name if lora else None

    def style(self) -> StyleSource:
        if self._style is None:
            dataset = self.record.dataset if self.record else None
            self._style = style_source(self.profile, dataset)
        return self._style

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
                    f"Shorten the {what} or raise it: twin write --set max_prompt_chars=N",
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

    def channel(self, request: str) -> str:
        if self.settings.channel != "auto":
            return self.settings.channel
        main = self.record.main_channel if self.record and self.record.main_channel else None
        return guess_channel(request, main or self.style().card.main_channel())

    def plan(self, prompt: str, style_reference: str | None = None) -> DraftPlan:
        """The messages, stop strings and length limit for a request."""
        self._check(prompt, style_reference)
        channel = self.channel(prompt)
        card = self.style().card.channel(channel)
        max_tokens = self.settings.max_tokens or default_max_tokens(card)
        record = self.record
        if record is not None and record.system_prompts:
            trained = (
                record.system_prompts.get(channel)
                or record.system_prompts[record.main_channel or next(iter(record.system_prompts))]
            )
            msgs = build_messages(with_reference(trained, style_reference), prompt)
            return DraftPlan(msgs, [], channel, "trained", max_tokens, list(DRAFT_STOPS))
        found = self.exemplars(prompt + "\n" + (style_reference or ""))
        system = few_shot_system(
            self._owner(),
            self.settings.style or style_line(card),
            found,
            style_reference,
            template=self.style().template,
            max_exemplar_chars=self.settings.max_exemplar_chars,
        )
        return DraftPlan(build_messages(system, prompt), found, channel, "few-shot", max_tokens, list(DRAFT_STOPS))

    def messages(self, prompt: str, style_reference: str | None = None) -> tuple[list[ChatMessage], list[Exemplar]]:
        plan = self.plan(prompt, style_reference)
        return plan.messages, plan.exemplars

    def _options(self, plan: DraftPlan, options: LLMOptions | None, fields: dict[str, Any]) -> LLMOptions:
        base = {"max_tokens": plan.max_tokens, "temperature": self.settings.temperature}
        data = {**base, **(options.model_dump(exclude_unset=True) if options else {}), **fields}
        # validated like any other options (extra="forbid" catches typos)
        opts = LLMOptions.model_validate(data)
        opts.stop = list(dict.fromkeys([*opts.stop, *plan.stop]))
        return opts

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
        plan = await asyncio.to_thread(self.plan, prompt, style_reference)
        opts = self._options(plan, options, option_fields)
        cleaner = StreamCleaner() if self.settings.clean else None
        async for item in self.llm.stream_chat(plan.messages, opts, cancel=cancel):
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
                exemplar_ids=[e.id for e in plan.exemplars],
                adapter=self.adapter,
                active_model=self.record.name if self.record else None,
                prompt=plan.prompt,
                channel=plan.channel,
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
        result: Draft = run_sync(self.draft(prompt, style_reference, options, **option_fields))
        return result
