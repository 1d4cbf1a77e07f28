"""Per-profile memory settings in <profile>/memory.json: which vector store and embedding model, and
the recall and extraction knobs. Missing file = the embedded defaults (sqlite-vec in the profile's
memory_vectors.db, MiniLM)."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from twin.errors import InvalidInput
from twin.profiles import Profile, write_text_atomic


class MemoryConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    vector_store: Literal["sqlite_vec", "qdrant", "pgvector"] = Field(
        "sqlite_vec", description="sqlite_vec (memory_vectors.db in the profile, default), qdrant or pgvector."
    )
    qdrant_url: str | None = Field(None, description="Qdrant server URL; empty uses local mode in <profile>/qdrant.")
    qdrant_api_key: str | None = Field(None, description="API key of the Qdrant server, if it needs one.")
    qdrant_collection: str | None = Field(
        None, description="Qdrant collection name; empty = one per profile (twin_memories_<profile>)."
    )
    pgvector_dsn: str | None = Field(None, description="Postgres connection string (needs the vector extension).")
    pgvector_table: str | None = Field(
        None, description="Postgres table for the vectors; empty = one per profile (twin_memories_<profile>)."
    )
    embeddings: str = Field("minilm", description="Embedding backend (minilm = all-MiniLM-L6-v2, embedded).")
    embeddings_path: str | None = Field(None, description="Local folder of another sentence-transformers model.")
    extractor: Literal["auto", "rules", "llm"] = Field(
        "auto", description="auto: model-free rules with small models, the LLM with capable ones; or force one."
    )
    llm_extractor_min_context: int = Field(
        8192, ge=512, description="In auto mode, use the LLM extractor for models with at least this window."
    )
    recall_k: int = Field(6, ge=0, le=50, description="Most memories put in a prompt.")
    memory_tokens: int = Field(350, ge=0, le=8000, description="Token budget of the memory block.")
    recall_budget_ms: int = Field(300, ge=10, le=10_000, description="Time allowed for vector recall per turn.")
    chunk_turns: int = Field(4, ge=3, le=6, description="Turns per raw recall chunk (3-6).")
    recency_half_life_days: float = Field(45.0, gt=0, description="Recency weight halves every this many days.")


def shared_store_name(profile: Profile, configured: str | None) -> str:
    """The collection or table of this profile in a server's store: profiles never share one, since
    each profile's database is the truth for its own vectors only."""
    if configured:
        return configured
    return "twin_memories_" + re.sub(r"[^a-z0-9_]", "_", profile.name.lower())[:40]


def config_path(profile: Profile) -> Any:
    return profile.root / "memory.json"


def load_memory_config(profile: Profile) -> MemoryConfig:
    path = config_path(profile)
    if not path.is_file():
        return MemoryConfig()
    try:
        return MemoryConfig.model_validate_json(path.read_text("utf-8"))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "memory.json"
        raise InvalidInput(f"Invalid {path.name}: {where}: {first['msg']}.", "Fix or delete memory.json.") from None


def save_memory_config(profile: Profile, config: MemoryConfig) -> None:
    write_text_atomic(config_path(profile), config.model_dump_json(indent=2, exclude_defaults=True))
