"""Consent for voices that are not the owner's. A reference clip is compared with the owner's enrolled
voice (the speaker embedding of the voices built from their own recordings); one that does not match
needs an explicit consent statement (who, and that they agreed), which is kept in the voice profile and
the audit log. Characters from the movie pipeline are marked as such.

Enrolment: voices built from the voice library are the owner's recordings. When a profile has none, the
first voice it makes from a reference becomes the enrolled voice (trust on first use; recorded as such),
and every later reference is compared with it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from twin.errors import TwinError
from twin.profiles import Profile
from twin.voice.storage import load_voice_npy

OWNER_SIMILARITY = 0.75  # cosine of speaker embeddings; one speaker scores ~0.8-0.95, two ~0.4-0.7


class ConsentRequired(TwinError):
    code = "consent_required"
    http_status = 403


class ConsentRequest(BaseModel):
    """What the user states when the voice is someone else's."""

    who: str = Field(min_length=1, max_length=120, description="Whose voice this is.")
    statement: str = Field(
        min_length=10, max_length=1000, description="How and when they agreed, e.g. 'Priya agreed in writing on 3 May'."
    )


class Consent(BaseModel):
    kind: Literal["owner", "consented", "character"]
    basis: str
    similarity: float | None = None
    who: str | None = None
    statement: str | None = None
    source: str | None = None
    recorded: str = Field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))


def character(name: str, source: str) -> Consent:
    """The mark a voice cut from a movie gets: a character of `source`, not a real person's consent."""
    return Consent(kind="character", basis="character from the movie pipeline", who=name[:120], source=source[:200])


def _voice_metas(profile: Profile) -> list[tuple[Path, dict[str, object]]]:
    root = profile.voice_dir / "profiles"
    out = []
    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        if folder.name.startswith(".") or not (folder / "voice.json").is_file():
            continue
        try:
            meta = json.loads((folder / "voice.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(meta, dict):
            out.append((folder, meta))
    return out


def owner_embedding(profile: Profile) -> np.ndarray | None:
    """Mean speaker embedding of the owner's voices (from the library, or enrolled as the owner's)."""
    embs = []
    for folder, meta in _voice_metas(profile):
        consent = meta.get("consent")
        if isinstance(consent, dict):  # a character's library voice is not the owner's
            owner = consent.get("kind") == "owner"
        else:  # voices made before consent was recorded: the library holds the owner's recordings
            owner = meta.get("source") == "library" and not meta.get("speaker")
        path = folder / str(meta.get("embedding") or "embedding.npy")
        if owner and path.is_file():
            embs.append(np.asarray(load_voice_npy(path), dtype=np.float32).reshape(-1))
    if not embs:
        return None
    mean = np.mean(np.stack(embs), axis=0)
    return mean / (np.linalg.norm(mean) or 1.0)


def decide(profile: Profile, embedding: np.ndarray, request: ConsentRequest | None) -> Consent:
    """Owner, consented, or ConsentRequired for a reference whose speaker embedding is `embedding`."""
    from twin.providers.speaker import cosine

    owner = owner_embedding(profile)
    if owner is None:
        if request is not None:
            return Consent(kind="consented", basis="consent statement", who=request.who, statement=request.statement)
        return Consent(
            kind="owner", basis="first voice of the profile: enrolled as the owner's (no recordings to compare)"
        )
    similarity = round(float(cosine(np.asarray(embedding, dtype=np.float32).reshape(-1), owner)), 3)
    if similarity >= OWNER_SIMILARITY:
        return Consent(kind="owner", basis="matches the owner's enrolled voice", similarity=similarity)
    if request is None:
        raise ConsentRequired(
            f"This reference does not sound like the owner's voice (similarity {similarity:.2f} "
            f"< {OWNER_SIMILARITY}). Cloning someone else's voice needs their consent.",
            "State who they are and how they agreed: --consent-who NAME --consent 'STATEMENT' "
            "(API: consent_who and consent_statement).",
        )
    return Consent(
        kind="consented", basis="consent statement", similarity=similarity, who=request.who, statement=request.statement
    )


def consent_request(who: str | None, statement: str | None) -> ConsentRequest | None:
    """A ConsentRequest from two optional fields; both or neither."""
    from twin.errors import InvalidInput

    if not who and not statement:
        return None
    if not (who and statement):
        raise InvalidInput(
            "Consent needs both who agreed and their statement.", "Give both, e.g. --consent-who and --consent."
        )
    try:
        return ConsentRequest(who=who.strip(), statement=statement.strip())
    except ValueError:
        raise InvalidInput(
            "The consent statement is too short or too long.", "Say who agreed and how, in 10-1000 characters."
        ) from None
