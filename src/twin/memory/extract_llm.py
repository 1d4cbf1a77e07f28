"""The LLM extractor for capable models: the user's own message (never assistant turns, persona or
system prompts) goes to the model with a JSON schema, and the constrained reply becomes candidates."""

from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from twin.memory.models import Candidate
from twin.providers.llm import LLM, ChatMessage, LLMOptions

NAME = "llm"


class ExtractedFact(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(..., max_length=400, description="Self-contained third-person statement.")
    subject: str = Field(..., max_length=80, description="What it is about, e.g. user.employer.")
    value: str = Field("", max_length=120)
    single_valued: bool = False
    ends: bool = False
    importance: float = Field(0.5, ge=0, le=1)
    scope: Literal["user", "persona"] = "user"


class Extraction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    facts: list[ExtractedFact] = Field(default_factory=list, max_length=12)


SCHEMA = Extraction.model_json_schema()
INSTRUCTIONS = (
    "Extract durable facts {user} states about themselves (or people close to them) from the message below. "
    "Only explicit statements; no questions, moods of the moment, guesses or small talk. Write each fact as "
    "one self-contained sentence about {user} in the third person. subject names the attribute "
    "(user.employer, user.home, user.partner, brother ravi.job, user.likes.coffee); single_valued is true "
    "when the attribute holds one value at a time; ends is true when the message says a fact stopped being "
    'true. Reply with JSON only: {{"facts": [...]}}. An empty list is fine.'
)


class LLMExtractor:
    name = NAME

    def __init__(self, llm: LLM, user: str = "The user") -> None:
        self.llm = llm
        self.user = user

    async def extract(self, text: str, message_ids: list[str]) -> list[Candidate]:
        messages = [
            ChatMessage(role="system", content=INSTRUCTIONS.format(user=self.user)),
            ChatMessage(role="user", content=f"Message from {self.user}:\n<<<\n{text}\n>>>"),
        ]
        opts = LLMOptions(max_tokens=400, temperature=0.0, json_schema=SCHEMA, timeout_s=60)
        result = await self.llm.chat(messages, opts)
        try:
            parsed = Extraction.model_validate(json.loads(result.text))
        except (ValueError, ValidationError):
            return []
        return [
            Candidate(
                text=f.text.strip().rstrip(".") + ".",
                source_message_ids=message_ids,
                reason="extracted by the model from the user's own words",
                extractor=NAME,
                subject=f.subject.strip().lower() or None,
                value=f.value.strip().lower() or None,
                single_valued=f.single_valued,
                ends=f.ends,
                importance=f.importance,
                scope=f.scope,
            )
            for f in parsed.facts
            if f.text.strip()
        ]
