"""Settings from the environment (TWIN_ prefix). Built by load_settings(), never at import time."""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_data_dir
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class IngestLimits(BaseSettings):
    """Limits applied to every archive and file before it is read."""

    model_config = SettingsConfigDict(env_prefix="TWIN_INGEST_", extra="forbid")

    max_archive_members: int = Field(100_000, description="Most members an archive may hold.")
    max_uncompressed_bytes: int = Field(
        20 * 1024**3, description="Most bytes an archive may expand to, counted while reading."
    )
    max_member_bytes: int = Field(8 * 1024**3, description="Most bytes one archive member may expand to.")
    max_compression_ratio: int = Field(
        200, description="Largest expansion ratio allowed for an archive member (zip-bomb guard)."
    )
    max_line_chars: int = Field(
        1024**2,
        gt=0,
        description="Longest line read from a chat or subtitle file; the message or cue holding a longer line "
        "is skipped (reason line_too_long) and the rest of the file is still read.",
    )
    max_chat_message_chars: int = Field(
        1024**2,
        gt=0,
        description="Longest chat message or subtitle cue, continuation lines included (WhatsApp itself allows "
        "65,536 characters); a longer one is skipped (reason message_too_large).",
    )
    max_message_bytes: int = Field(
        8 * 1024**2,
        gt=0,
        description="Most bytes of one email that are read. Headers and text come first, so a larger mail keeps "
        "them and loses only the attachments after this point (reason message_truncated); an Outlook .msg "
        "larger than this is skipped (message_too_large).",
    )
    max_archive_index_bytes: int = Field(
        64 * 1024**2,
        gt=0,
        description="Largest archive index that is read whole before any content: a zip's central directory, "
        "or one tar extended header or long-name record.",
    )


class Settings(BaseSettings):
    """Process-wide settings. Per-profile choices live in the profile, not here."""

    model_config = SettingsConfigDict(env_prefix="TWIN_", extra="ignore")

    home: Path = Field(
        default_factory=lambda: Path(user_data_dir("twin", appauthor=False)),
        description="Where profiles and their data live.",
    )
    cache: Path | None = Field(
        None, description="Derived files all profiles share (the embedding model's onnx export); default <home>/cache."
    )
    default_profile: str = Field("default", description="Profile used when --profile is not given.")
    ingest: IngestLimits = Field(default_factory=IngestLimits)

    @property
    def profiles_dir(self) -> Path:
        return self.home / "profiles"

    @property
    def cache_dir(self) -> Path:
        return self.cache or self.home / "cache"


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment, with explicit overrides (tests, CLI flags)."""
    return Settings(**overrides)  # type: ignore[arg-type]
