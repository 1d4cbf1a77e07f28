"""Server settings (TWIN_SERVER_ prefix): bind address, allowed hosts and origins, body limits,
and which engines the server uses. Built with the app, never at import time."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TWIN_SERVER_", extra="forbid")

    host: str = Field("127.0.0.1", description="Address to bind. 0.0.0.0 exposes the server to the network.")
    port: int = Field(3000, ge=0, le=65535, description="TCP port (0 picks a free one).")
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Extra Host header values accepted (e.g. a tunnel's name). Loopback names are always "
        "accepted; anything else is refused (DNS-rebinding guard).",
    )
    cors_origins: list[str] = Field(
        default_factory=list,
        description="Exact origins (scheme://host[:port]) allowed to call the API from a browser. "
        "'*' and 'null' are refused.",
    )
    max_body_bytes: int = Field(2 * 1024**2, ge=1024, description="Largest JSON request body.")
    max_upload_bytes: int = Field(
        25 * 1024**2,
        ge=1024,
        description="Largest audio upload or body carrying audio (voice upload, clone).",
    )
    llm_backend: str = Field("", description="LLM backend for drafting and chat ('' = the writing service's default).")
    llm_model: str = Field("", description="Model name passed to the LLM backend ('' = backend default).")
    tts_engine: str = Field("", description="TTS engine for speech ('' = the synthesizer's default).")
    audit: bool = Field(True, description="Record an audit log entry for every API request.")
    max_concurrent_synthesis: int = Field(2, ge=1, description="Syntheses run at once (each uses every core).")
    max_queued_synthesis: int = Field(32, ge=0, description="Syntheses waiting beyond those; more get 503.")
    max_concurrent_generation: int = Field(2, ge=1, description="Drafts and chat replies generated at once.")
    max_queued_generation: int = Field(32, ge=0, description="Generations waiting beyond those; more get 503.")
    queue_wait_s: float = Field(60.0, gt=0, description="Longest a request waits for its turn before a 503.")
