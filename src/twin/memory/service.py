"""MemoryService: the write policy (extract from the user's own words → filter → tombstone check →
reinforce / supersede / add), chunks of recent turns, budgeted hybrid recall, forgetting, and JSONL
export/import. One instance per profile; blocking work runs in threads from the async methods."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from twin.chat.personas import Persona
from twin.errors import InvalidInput
from twin.memory.config import MemoryConfig, load_memory_config, shared_store_name
from twin.memory.english import normalize, sentences
from twin.memory.extract_llm import LLMExtractor
from twin.memory.extract_rules import RuleExtractor
from twin.memory.filters import blocked, redact_secrets
from twin.memory.models import Candidate, MemoryItem
from twin.memory.retrieval import Recall, bm25_ranked, fuse, vector_ranked
from twin.memory.store import MemoryStore
from twin.profiles import Profile
from twin.providers import registry
from twin.providers.embeddings import Embeddings
from twin.providers.llm import LLM
from twin.providers.vectorstore import VectorStore

NEAR_DUPLICATE = 0.9
_RECALL_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="twin-recall")


@dataclass
class WriteReport:
    added: list[MemoryItem] = field(default_factory=list)
    reinforced: list[MemoryItem] = field(default_factory=list)
    superseded: list[MemoryItem] = field(default_factory=list)
    refused: dict[str, int] = field(default_factory=dict)  # reason -> count, never the text

    def refuse(self, why: str) -> None:
        self.refused[why] = self.refused.get(why, 0) + 1


def open_vector_store(profile: Profile, config: MemoryConfig, dim: int) -> VectorStore:
    if config.vector_store == "sqlite_vec":
        return registry.create("vectorstore", "sqlite_vec", path=profile.vectors_db_path, dim=dim)
    if config.vector_store == "qdrant":
        kw: dict[str, Any] = {"dim": dim, "collection": shared_store_name(profile, config.qdrant_collection)}
        if config.qdrant_url:
            kw.update(url=config.qdrant_url, api_key=config.qdrant_api_key)
        else:
            kw["path"] = profile.root / "qdrant"
        return registry.create("vectorstore", "qdrant", **kw)
    if not config.pgvector_dsn:
        raise InvalidInput(
            "memory.json selects pgvector but gives no pgvector_dsn.", "Add pgvector_dsn to memory.json."
        )
    table = shared_store_name(profile, config.pgvector_table)
    return registry.create("vectorstore", "pgvector", dsn=config.pgvector_dsn, dim=dim, table=table)


def open_embeddings(config: MemoryConfig, cache_dir: Path | None = None) -> Embeddings:
    kw: dict[str, Any] = {"model_path": config.embeddings_path} if config.embeddings_path else {}
    if cache_dir is not None:
        kw["cache_dir"] = cache_dir / "embeddings"
    return registry.create("embeddings", config.embeddings, **kw)


class MemoryRecord(BaseModel):
    """One line of a memory export."""

    model_config = ConfigDict(extra="ignore")

    id: str
    kind: str = Field(pattern="^(fact|chunk)$")
    scope: str = Field(pattern="^(user|persona)$")
    persona: str | None = None
    text: str = Field(min_length=1, max_length=8000)
    status: str = Field("active", pattern="^(active|superseded)$")
    superseded_by: str | None = None
    importance: float = Field(0.5, ge=0, le=1)
    reason: str = Field("", max_length=500)
    source_message_ids: list[str] = Field(default_factory=list, max_length=50)
    created: str = ""
    subject: str | None = Field(None, max_length=200)
    category: str | None = None
    extractor: str = "import"
    mentions: int = Field(1, ge=1)


class MemoryService:
    def __init__(
        self,
        profile: Profile,
        conn: sqlite3.Connection,
        config: MemoryConfig | None = None,
        *,
        embeddings: Embeddings | None = None,
        vectors: VectorStore | None = None,
    ) -> None:
        self.profile = profile
        self.config = config or load_memory_config(profile)
        self.embeddings = embeddings or open_embeddings(self.config, profile.cache_dir)
        self.vectors = vectors or open_vector_store(profile, self.config, self.embeddings.dim)
        self.store = MemoryStore(profile, conn, self.vectors, self.embeddings)
        self.store.reconcile_if_needed()
        self._write_lock = threading.Lock()
        self.on_forget: list[Callable[[], None]] = []  # e.g. drop engine prompt caches that held the text

    def close(self) -> None:
        self.vectors.close()

    # ---- writing ----------------------------------------------------------------------------
    def extractor(self, persona: Persona, user: str, llm: LLM | None) -> RuleExtractor | LLMExtractor:
        mode = self.config.extractor
        capable = llm is not None and llm.context_window >= self.config.llm_extractor_min_context
        if llm is not None and (mode == "llm" or (mode == "auto" and capable and llm.name != "fake")):
            return LLMExtractor(llm, user)
        return RuleExtractor(user, permissive=persona.memory_policy == "permissive")

    async def remember(
        self, text: str, message_id: str, persona: Persona, user: str, llm: LLM | None = None
    ) -> WriteReport:
        """Facts from one user message (its stored, secret-free text)."""
        report = WriteReport()
        if persona.memory_policy == "off":
            return report
        extractor = self.extractor(persona, user, llm)
        kept = _without_refused(text, persona.do_not_store, report)
        if not kept.strip():
            return report
        if isinstance(extractor, LLMExtractor):
            candidates = await extractor.extract(kept, [message_id])
        else:
            candidates = extractor.extract(kept, [message_id])
        await asyncio.to_thread(self._apply_all, candidates, persona, report)
        return report

    def _apply_all(self, candidates: list[Candidate], persona: Persona, report: WriteReport) -> None:
        with self._write_lock:
            for cand in candidates:
                self._apply(cand, persona, report)

    def _apply(self, cand: Candidate, persona: Persona, report: WriteReport) -> None:
        category = blocked(cand.text, persona.do_not_store)
        if category:
            report.refuse(category)
            return
        if redact_secrets(cand.text).changed:
            report.refuse("secret")
            return
        store = self.store
        pid = persona.id if cand.scope == "persona" else None
        fp = store.fingerprint(cand.text)
        if store.tombstoned(fp, cand.source_message_ids):
            report.refuse("forgotten")
            return
        same = store.active_by_fingerprint(fp, cand.scope, pid)
        if same is not None:
            report.reinforced.append(store.reinforce(same, cand.source_message_ids, cand.importance))
            return
        related = [
            m
            for m in store.query(persona_id=pid, scope=cand.scope, kind="fact", subject=cand.subject)
            if cand.subject is not None
        ]
        if cand.ends:
            value = cand.value or ""
            old = [m for m in related if not value or value in normalize(m.text)]
        elif cand.single_valued:
            keep = [
                m for m in related if cand.value and cand.value not in ("yes", "no") and cand.value in normalize(m.text)
            ]
            if keep:
                report.reinforced.append(store.reinforce(keep[0], cand.source_message_ids, cand.importance))
                return
            old = related
        else:
            near = self._near_duplicate(cand, pid)
            if near is not None:
                report.reinforced.append(store.reinforce(near, cand.source_message_ids, cand.importance))
                return
            old = []
        # an ending is history, not the current value: a later value must not supersede it
        subject = f"{cand.subject}.ended" if cand.ends and cand.subject else cand.subject
        item = store.new_item(
            kind="fact", scope=cand.scope, persona_id=pid, text=cand.text, subject=subject,
            importance=cand.importance, reason=cand.reason, extractor=cand.extractor,
            source_message_ids=list(cand.source_message_ids), category=cand.category,
        )  # fmt: skip
        store.add([item])
        store.supersede(old, item.id)
        report.added.append(item)
        report.superseded += old

    def _near_duplicate(self, cand: Candidate, persona_id: str | None) -> MemoryItem | None:
        vec = self.embeddings.embed([cand.text])[0]
        part = "user" if persona_id is None else f"persona:{persona_id}"
        for hit in self.vectors.search(vec, 3, [part]):
            if hit.score >= NEAR_DUPLICATE:
                item = self.store.find(hit.id)
                if item is not None and item.kind == "fact" and item.status == "active":
                    return item
        return None

    def add_chunk(
        self, persona: Persona, conversation_id: str, turns: Sequence[tuple[str, str, str]]
    ) -> MemoryItem | None:
        """A raw window of turns (id, role, text) as episodic memory of this persona; refused
        categories are cut out of the user's lines."""
        if persona.memory_policy == "off" or not turns:
            return None
        report = WriteReport()
        lines = []
        for _mid, role, text in turns:
            shown = _without_refused(text, persona.do_not_store, report, marker=True) if role == "user" else text
            lines.append(f"{'User' if role == 'user' else persona.label() or 'Twin'}: {shown.strip()}")
        text = redact_secrets("\n".join(lines)).text
        item = self.store.new_item(
            kind="chunk", scope="persona", persona_id=persona.id, conversation_id=conversation_id, text=text[:6000],
            importance=0.4, reason=f"the last {len(turns)} turns of a conversation", extractor="chunker",
            source_message_ids=[t[0] for t in turns],
        )  # fmt: skip
        self.store.add([item])
        return item

    # ---- recall -----------------------------------------------------------------------------
    async def recall(
        self,
        query: str,
        persona_id: str | None,
        k: int | None = None,
        include_superseded: bool = False,
        budget_s: float | None = None,
        kind: str | None = None,
    ) -> Recall:
        k = self.config.recall_k if k is None else k
        start = time.perf_counter()
        budget = self.config.recall_budget_ms / 1000 if budget_s is None else budget_s
        depth = max(k * 4, 20)
        # the vector leg's cost grows with its depth (sqlite-vec's Hamming KNN keeps 4x as many candidates)
        vector_depth = max(k * 2, 12)
        # its own pool: a vector search abandoned at the budget must not hold up the loop's shutdown
        vector_task = asyncio.get_running_loop().run_in_executor(
            _RECALL_POOL, vector_ranked, self.store, query, persona_id, include_superseded, vector_depth
        )
        bm25 = await asyncio.to_thread(bm25_ranked, self.store.conn, query, persona_id, include_superseded, depth)
        bm25_ms = (time.perf_counter() - start) * 1000
        degraded = False
        try:
            vec = await asyncio.wait_for(
                asyncio.shield(vector_task), max(budget - (time.perf_counter() - start), 0.001)
            )
        except TimeoutError:
            vec, degraded = [], True
            vector_task.add_done_callback(lambda t: t.exception() if not t.cancelled() else None)
        items = fuse(self.store, vec, bm25, k, self.config.recency_half_life_days, kind)
        total = (time.perf_counter() - start) * 1000
        return Recall(items, {"bm25_ms": round(bm25_ms, 2), "recall_ms": round(total, 2)}, degraded)

    def search_sync(
        self, query: str, persona_id: str | None, limit: int, include_superseded: bool = False
    ) -> list[MemoryItem]:
        depth = max(limit * 4, 20)
        vec = vector_ranked(self.store, query, persona_id, include_superseded, depth)
        bm25 = bm25_ranked(self.store.conn, query, persona_id, include_superseded, depth)
        return fuse(self.store, vec, bm25, limit, self.config.recency_half_life_days)

    def warm_up(self) -> None:
        self.embeddings.embed(["warm up"])

    # ---- forgetting, export, import ----------------------------------------------------------
    def _forgotten(self, n: int) -> int:
        for hook in self.on_forget if n else []:
            hook()
        return n

    def forget(self, memory_id: str) -> MemoryItem:
        item = self.store.get(memory_id)
        self._forgotten(self.store.delete([item]))
        return item

    def forget_all(self, persona_id: str | None = None) -> int:
        """Everything (persona_id None) or one persona's episodic memory."""
        scope = "persona" if persona_id else "all"
        items = self.store.query(persona_id=persona_id, scope=scope, include_superseded=True, limit=10**9)
        return self._forgotten(self.store.delete(items))

    def forget_conversation(self, conversation_id: str) -> int:
        rows = self.store.conn.execute("SELECT id FROM memories WHERE conversation_id = ?", (conversation_id,))
        items = list(self.store.many([r[0] for r in rows]).values())
        return self._forgotten(self.store.delete(items))

    def export_jsonl(self, out: IO[str]) -> int:
        n = 0
        for item in self.store.iter_all():
            out.write(json.dumps(item.detail(), ensure_ascii=False) + "\n")
            n += 1
        return n

    def import_jsonl(self, lines: Iterable[str], personas: dict[str, Persona]) -> dict[str, Any]:
        added, skipped, errors = 0, 0, []
        items: list[MemoryItem] = []
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                rec = MemoryRecord.model_validate_json(line)
            except ValidationError as exc:
                errors.append(f"line {number}: {exc.errors()[0]['msg']}")
                continue
            persona = personas.get(rec.persona or "") if rec.scope == "persona" else None
            clean = redact_secrets(rec.text).text
            if (rec.scope == "persona" and persona is None) or self.store.find(rec.id) is not None:
                skipped += 1
                continue
            items.append(self._imported(rec, clean, persona))
            added += 1
        self.store.add(items)
        return {"added": added, "skipped": skipped, "errors": errors[:20], "error_count": len(errors)}

    def _imported(self, rec: MemoryRecord, text: str, persona: Persona | None) -> MemoryItem:
        from twin.ids import check_id

        check_id(rec.id, "memory id")
        extra = {"created": rec.created} if rec.created else {}
        return self.store.new_item(
            id=rec.id, kind=rec.kind, scope=rec.scope, persona_id=persona.id if persona else None, text=text,
            subject=rec.subject, category=rec.category, status=rec.status, superseded_by=None,
            importance=rec.importance, reason=rec.reason or "imported", extractor=rec.extractor,
            source_message_ids=rec.source_message_ids, mentions=rec.mentions, **extra,
        )  # fmt: skip


def _without_refused(text: str, refused: Sequence[str], report: WriteReport, marker: bool = False) -> str:
    """`text` without its sentences in refused categories (replaced by a marker in chunks)."""
    out = []
    for sentence in sentences(text):
        category = blocked(sentence, refused)
        if category:
            report.refuse(category)
            if marker:
                out.append(f"[not stored: {category}]")
            continue
        out.append(sentence)
    return " ".join(out)
