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


class Settings(BaseSettings):
    """Process-wide settings. Per-profile choices live in the profile, not here."""

    model_config = SettingsConfigDict(env_prefix="TWIN_", extra="ignore")

    home: Path = Field(
        default_factory=lambda: Path(user_data_dir("twin", appauthor=False)),
        description="Where profiles and their data live.",
    )
    default_profile: str = Field("default", description="Profile used when --profile is not given.")
    ingest: IngestLimits = Field(default_factory=IngestLimits)

    @property
    def profiles_dir(self) -> Path:
        return self.home / "profiles"


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment, with explicit overrides (tests, CLI flags)."""
    return Settings(**overrides)  # type: ignore[arg-type]
