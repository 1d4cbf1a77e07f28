"""ChatService: the one chat turn every surface uses (CLI, HTTP/SSE, the OpenAI route, the voice loop).

A turn = persona → conversation → store the user's words (secrets redacted) → recall memories (budgeted)
→ assemble the prompt within the window → stream the reply → store it (cut to what was delivered when
interrupted or when the model fails) → in the background: extract memories from the user's words, add
a chunk of recent turns, and update the rolling summary when turns fell out of the window."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from twin.chat.conversations import ChatTurn, Conversation, ConversationStore
from twin.chat.owner import owner_name, persona_block
from twin.chat.personas import Persona, PersonaStore
from twin.chat.prompt import Assembler, Prompt
from twin.chat.summary import heuristic_summary, llm_summary
from twin.errors import InvalidInput, TooLarge, TwinError
from twin.memory.config import MemoryConfig, load_memory_config
from twin.memory.filters import redact_secrets
from twin.memory.models import MemoryItem
from twin.memory.service import MemoryService
from twin.profiles import Profile
from twin.providers.llm import LLM, ChatResult, LLMOptions, TextDelta, open_llm
from twin.store.db import connect

log = logging.getLogger("twin.chat")
MAX_MESSAGE_CHARS = 8000


@dataclass
class TurnResult:
    conversation_id: str
    persona: str
    reply: str
    user_message_id: str
    assistant_message_id: str | None
    memories_used: list[str]
    model: str
    finish_reason: str
    interrupted: bool
    timings: dict[str, float] = field(default_factory=dict)
    usage: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "conversation_id": self.conversation_id,
            "persona": self.persona,
            "reply": self.reply,
            "user_message_id": self.user_message_id,
            "assistant_message_id": self.assistant_message_id,
            "memories_used": self.memories_used,
            "model": self.model,
            "finish_reason": self.finish_reason,
            "interrupted": self.interrupted,
            "timings": self.timings,
            "usage": self.usage,
        }


ChatEvent = TextDelta | TurnResult


_BLANK = " \t\n\r\f\v\u00a0\u2028\u2029\u3000"


def check_message(text: str) -> str:
    if not isinstance(text, str) or not text.strip(_BLANK):
        raise InvalidInput("The message is empty.", "Type something to say to the persona.")
    if len(text) > MAX_MESSAGE_CHARS:
        raise TooLarge(
            f"The message is {len(text)} characters; the limit is {MAX_MESSAGE_CHARS}.", "Send a shorter message."
        )
    return text.strip(_BLANK)


class ChatService:
    """One per profile. `llm` fixes the model (tests, the server's engine cache); otherwise each persona's
    LLM config, falling back to the profile's llm.json, picks it."""

    def __init__(
        self,
        profile: Profile,
        *,
        llm: LLM | None = None,
        memory: MemoryService | None = None,
        memory_config: MemoryConfig | None = None,
        summarizer: str = "auto",
        conn: sqlite3.Connection | None = None,
    ) -> None:
        self.profile = profile
        self.conn = conn or connect(profile)
        self.personas = PersonaStore(self.conn)
        self.conversations = ConversationStore(self.conn)
        self.memory_config = memory_config or load_memory_config(profile)
        self._memory = memory
        self._llm = llm
        self._llms: dict[str, LLM] = {}
        self.summarizer = summarizer
        self._jobs: queue.Queue[Any] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._worker_lock = threading.Lock()

    # ---- parts ---------------------------------------------------------------------------------
    @property
    def memory(self) -> MemoryService:
        if self._memory is None:
            self._memory = MemoryService(self.profile, self.conn, self.memory_config)
            self._memory.on_forget.append(self._clear_prompt_caches)
        return self._memory

    def _clear_prompt_caches(self) -> None:
        for llm in [self._llm, *self._llms.values()]:
            if llm is not None:
                llm.clear_prompt_cache()

    def llm_for(self, persona: Persona) -> LLM:
        if self._llm is not None:
            return self._llm
        key = persona.llm.model_dump_json() if persona.llm else ""
        if key not in self._llms:
            over: dict[str, Any] = {}
            if persona.llm:
                over = {"backend": persona.llm.backend, "model": persona.llm.model, "lora_path": persona.llm.adapter}
            self._llms[key] = open_llm(self.profile, **over)
        return self._llms[key]

    async def warm_up(self, persona: str | None = None, memory: bool = True) -> None:
        """Load the persona's model and the embedding model side by side. A cold first turn would load
        them one after the other, and its recall would run out of budget while the embeddings load."""
        chosen = self.personas.get(persona)
        jobs = [self.llm_for(chosen).ensure_loaded()]
        if memory and chosen.memory_policy != "off" and self.memory_config.recall_k > 0:
            jobs.append(asyncio.to_thread(self.memory.warm_up))
        await asyncio.gather(*jobs)

    def user_name(self) -> str:
        return owner_name(self.profile) or "The user"

    def resolve(self, persona: str | None, conversation_id: str | None) -> tuple[Persona, Conversation]:
        if conversation_id:
            conv = self.conversations.get(conversation_id)
            chosen = self.personas.get(conv.persona_id)
            if persona and persona not in (chosen.name, chosen.id):
                raise InvalidInput(
                    f"Conversation {conv.id} belongs to persona '{chosen.name}', not '{persona}'.",
                    "Leave out the persona, or start a new conversation.",
                )
            return chosen, conv
        chosen = self.personas.get(persona)
        return chosen, self.conversations.create(chosen.id)

    # ---- a turn ----------------------------------------------------------------------------------
    async def stream_turn(
        self,
        message: str,
        persona: str | None = None,
        conversation_id: str | None = None,
        *,
        use_memory: bool = True,
        options: LLMOptions | None = None,
        cancel: asyncio.Event | None = None,
    ) -> AsyncIterator[ChatEvent]:
        """TextDelta pieces of the reply, then one TurnResult."""
        text = check_message(message)
        chosen, conv = self.resolve(persona, conversation_id)
        remember = use_memory and chosen.memory_policy != "off"
        stored = redact_secrets(text).text
        history = self.conversations.turns(conv.id, conv.summary_upto)
        user_turn = self.conversations.add(conv.id, "user", stored, memory_state="pending" if remember else "skipped")
        if not conv.title:
            self.conversations.set_title(conv.id, stored[:60])
        llm = self.llm_for(chosen)
        opts = options or LLMOptions(max_tokens=256)
        start = time.perf_counter()
        recalled: list[MemoryItem] = []
        timings: dict[str, float] = {}
        if use_memory and self.memory_config.recall_k > 0:
            recall = await self.memory.recall(stored, chosen.id)
            recalled, timings = recall.items, dict(recall.timings)
            timings["recall_degraded"] = float(recall.degraded)
        t0 = time.perf_counter()
        prompt = await self._assemble(llm, opts, chosen, conv, history, stored, recalled)
        timings["assemble_ms"] = round((time.perf_counter() - t0) * 1000, 2)
        user_turn.tokens = await llm.count_tokens(stored)
        parts: list[str] = []
        result: ChatResult | None = None
        retried = False
        while True:
            try:
                async for item in llm.stream_chat(prompt.messages, opts, cancel=cancel):
                    if isinstance(item, TextDelta):
                        parts.append(item.text)
                        yield item
                    else:
                        result = item
            except BaseException as exc:
                finish = "cancelled" if isinstance(exc, asyncio.CancelledError) else "error"
                with contextlib.suppress(Exception):
                    self._store_reply(conv, "".join(parts), llm.model, finish, True, prompt, 0)
                if remember:
                    self._background(self._after(chosen, conv, user_turn, prompt, llm))
                if isinstance(exc, TwinError):
                    exc.message = f"The model failed mid-reply: {exc.message}" if parts else exc.message
                raise
            assert result is not None
            stopped = result.finish_reason == "cancelled" or (cancel is not None and cancel.is_set())
            if retried or stopped or result.text.strip():
                break
            # small models sometimes end at once (an empty reply): nobody was shown anything, so sample again
            log.info("the model gave an empty reply; sampling once more")
            retried, parts, result = True, [], None
            opts = _resampled(opts)
        timings["empty_reply_retries"] = float(retried)
        interrupted = result.finish_reason == "cancelled"
        reply_turn = self._store_reply(
            conv, result.text, result.model, result.finish_reason, interrupted, prompt, result.usage.completion_tokens
        )
        self.memory.store.touch(prompt.memory_ids) if prompt.memory_ids else None
        if remember or prompt.history_dropped:
            self._background(self._after(chosen, conv, user_turn, prompt, llm, remember))
        timings.update(
            first_token_s=round(result.timings.first_token_s, 4),
            total_s=round(time.perf_counter() - start, 4),
            tokens_per_s=round(result.timings.tokens_per_s, 2),
        )
        yield TurnResult(
            conversation_id=conv.id,
            persona=chosen.name,
            reply=result.text,
            user_message_id=user_turn.id,
            assistant_message_id=reply_turn.id if reply_turn else None,
            memories_used=prompt.memory_ids,
            model=result.model,
            finish_reason=result.finish_reason,
            interrupted=interrupted,
            timings=timings,
            usage={
                "prompt_tokens": result.usage.prompt_tokens,
                "completion_tokens": result.usage.completion_tokens,
                "window": prompt.window,
            },
        )

    def mark_interrupted(self, message_id: str, heard: str) -> ChatTurn:
        """A spoken reply the user talked over: store what they heard, so the next prompt (and the
        conversation's history) holds the reply as it was cut off."""
        return self.conversations.mark_interrupted(message_id, heard)

    async def turn(
        self, message: str, persona: str | None = None, conversation_id: str | None = None, **kw: Any
    ) -> TurnResult:
        final: TurnResult | None = None
        async for event in self.stream_turn(message, persona, conversation_id, **kw):
            if isinstance(event, TurnResult):
                final = event
        assert final is not None
        return final

    async def _assemble(
        self,
        llm: LLM,
        opts: LLMOptions,
        persona: Persona,
        conv: Conversation,
        history: list[ChatTurn],
        message: str,
        recalled: list[MemoryItem],
    ) -> Prompt:
        await llm.ensure_loaded()
        system = await asyncio.to_thread(persona_block, self.profile, self.conn, persona)
        assembler = Assembler(llm, opts.max_tokens, self.memory_config.memory_tokens)
        return await assembler.assemble(
            system, conv.summary, history, message, recalled, self.user_name(), persona.label()
        )

    def _store_reply(
        self, conv: Conversation, text: str, model: str, finish: str, interrupted: bool, prompt: Prompt, tokens: int
    ) -> ChatTurn | None:
        if not text and finish in ("error", "cancelled"):
            return None
        return self.conversations.add(
            conv.id,
            "assistant",
            text,
            tokens=tokens,
            model=model,
            interrupted=interrupted,
            finish_reason=finish,
            memories_used=prompt.memory_ids,
        )

    # ---- after the reply ------------------------------------------------------------------------
    def _background(self, coro: Any) -> None:
        """Queue work for the service's own worker thread and event loop, so it never delays a reply and
        outlives the request's loop (work for one profile runs in order, one job at a time)."""
        with self._worker_lock:
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._work, name="twin-chat-memory", daemon=True)
                self._worker.start()
        self._jobs.put(coro)

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                if job is None:
                    return
                asyncio.run(job)
            except Exception:  # _after logs its own failures; keep the worker alive regardless
                log.exception("background chat work failed")
            finally:
                self._jobs.task_done()

    async def drain(self) -> None:
        """Wait for background memory and summary work (the CLI does before it exits)."""
        await asyncio.to_thread(self._jobs.join)

    async def _after(
        self, persona: Persona, conv: Conversation, user_turn: ChatTurn, prompt: Prompt, llm: LLM, remember: bool = True
    ) -> None:
        try:
            if remember:
                await self.remember_turn(persona, user_turn, llm)
                await asyncio.to_thread(self._maybe_chunk, persona, conv.id)
            if prompt.history_dropped:
                await self._summarize(persona, conv.id, llm)
        except Exception:  # background work must never break the chat; the turn stays pending for a retry
            log.exception("memory or summary work failed")

    async def remember_turn(self, persona: Persona, turn: ChatTurn, llm: LLM | None) -> None:
        await self.memory.remember(turn.text, turn.id, persona, self.user_name(), llm)
        self.conversations.set_memory_state(turn.id, "done")

    def _maybe_chunk(self, persona: Persona, conversation_id: str) -> None:
        turns = self.conversations.turns(conversation_id)
        size = self.memory_config.chunk_turns
        if turns and len(turns) % size == 0:
            window = [(t.id, t.role, t.text) for t in turns[-size:]]
            self.memory.add_chunk(persona, conversation_id, window)

    async def _summarize(self, persona: Persona, conversation_id: str, llm: LLM) -> None:
        conv = self.conversations.get(conversation_id)
        turns = self.conversations.turns(conv.id, conv.summary_upto)
        older = turns[: max(len(turns) - 6, 0)]  # keep the latest exchanges verbatim
        if not older:
            return
        use_llm = self.summarizer == "llm" or (
            self.summarizer == "auto" and llm.name != "fake" and llm.context_window >= 4096
        )
        label = persona.label()
        try:
            text = await llm_summary(llm, conv.summary, older, label) if use_llm else ""
        except TwinError:
            text = ""
        text = text or heuristic_summary(conv.summary, older, label)
        self.conversations.set_summary(conv.id, redact_secrets(text).text, older[-1].seq)

    async def catch_up(self) -> int:
        """Extract memories from user turns a crash left pending (tombstones keep forgotten ones away)."""
        n = 0
        for turn in self.conversations.pending():
            conv = self.conversations.find(turn.conversation_id)
            if conv is None:
                continue
            persona = self.personas.get(conv.persona_id)
            await self.remember_turn(persona, turn, None)
            n += 1
        return n

    # ---- OpenAI-style entry point -----------------------------------------------------------------
    async def stream_messages(
        self,
        messages: Sequence[Mapping[str, str]],
        persona: str | None = None,
        conversation_id: str | None = None,
        *,
        options: LLMOptions | None = None,
        cancel: asyncio.Event | None = None,
    ) -> AsyncIterator[ChatEvent]:
        """For /v1/chat/completions with model "persona:<name>": the last user message of an OpenAI
        message list is the turn; the client's own system and history are ignored in favour of the
        persona, its memory and the stored conversation. Without conversation_id, the stored
        conversation whose user turns are the list's earlier user messages is continued (clients resend
        the whole history each turn), else a new one starts."""
        users = [str(m.get("content", "")) for m in messages if m.get("role") == "user"]
        users = [u for u in users if u.strip()]
        if not users:
            raise InvalidInput("The messages contain no user message.", 'Send at least one {"role": "user"} message.')
        if conversation_id is None and len(users) > 1:
            chosen = self.personas.get(persona)
            stored = [redact_secrets(u.strip(_BLANK)).text for u in users[:-1]]  # as stream_turn stores them
            conversation_id = self.conversations.continued_by(chosen.id, stored)
        async for event in self.stream_turn(users[-1], persona, conversation_id, options=options, cancel=cancel):
            yield event

    def close(self) -> None:
        if self._worker is not None and self._worker.is_alive():
            self._jobs.join()
            self._jobs.put(None)
            self._worker.join(timeout=30)
        if self._memory is not None:
            self._memory.close()
        self.conn.close()


def _resampled(opts: LLMOptions) -> LLMOptions:
    """The same request sampled a little hotter and with another seed."""
    seed = None if opts.seed is None else opts.seed + 1
    return opts.model_copy(update={"temperature": min(max(opts.temperature, 0.7) + 0.3, 2.0), "seed": seed})
