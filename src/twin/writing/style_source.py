"""Where drafting takes the owner's style from when no trained model is active: the newest built
dataset (its prompt template and style card, the very ones training would use), else a style card
measured straight from the owner's messages in the store (cached in <profile>/style_card.json until
the messages change)."""

from __future__ import annotations

import json
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from twin.profiles import Profile, write_text_atomic
from twin.style.card import StyleCard, measure
from twin.style.prompt import DEFAULT_SYSTEM_PROMPT

CACHE = "style_card.json"
_PER_CHANNEL = 2000  # the newest messages per channel are plenty to measure habits


@dataclass
class StyleSource:
    template: str
    card: StyleCard
    dataset: str | None  # the dataset it came from, None when measured from the store


def _dataset_dirs(profile: Profile) -> list[Path]:
    if not profile.datasets_dir.is_dir():
        return []
    built = [d for d in profile.datasets_dir.iterdir() if (d / "manifest.json").is_file()]
    return sorted(built, key=lambda d: (d.name == "default", (d / "manifest.json").stat().st_mtime), reverse=True)


def from_dataset(dataset_dir: Path) -> StyleSource | None:
    manifest_path, card_path = dataset_dir / "manifest.json", dataset_dir / "style_card.json"
    if not (manifest_path.is_file() and card_path.is_file()):
        return None
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    card = StyleCard.model_validate_json(card_path.read_text(encoding="utf-8"))
    return StyleSource(manifest.get("system_template") or DEFAULT_SYSTEM_PROMPT, card, dataset_dir.name)


_QUERY = (
    "SELECT text FROM messages WHERE sender_is_me = 1 AND kind = 'text' AND (flags = '[]' OR flags IS NULL) "
    "AND {cond} ORDER BY timestamp DESC LIMIT ?"
)
_CHANNELS = (("email", "conversation_id LIKE 'email:%'"), ("chat", "conversation_id NOT LIKE 'email:%'"))


def from_store(profile: Profile) -> StyleSource:
    """A style card of the owner's stored messages (cached until the store changes)."""
    if not profile.db_path.exists():
        return StyleSource(DEFAULT_SYSTEM_PROMPT, StyleCard(), None)
    from twin.store.db import connect

    cache = profile.root / CACHE
    with closing(connect(profile)) as conn:
        key = list(conn.execute("SELECT count(*), coalesce(max(rowid), 0) FROM messages").fetchone())
        if cache.is_file():
            data = json.loads(cache.read_text(encoding="utf-8"))
            if data.get("key") == key:
                return StyleSource(DEFAULT_SYSTEM_PROMPT, StyleCard.model_validate(data["card"]), None)
        texts = {ch: [r[0] for r in conn.execute(_QUERY.format(cond=cond), (_PER_CHANNEL,))] for ch, cond in _CHANNELS}
    from twin.dataset.language import LanguageDetector

    card = measure({ch: t for ch, t in texts.items() if t}, LanguageDetector().detect)
    write_text_atomic(cache, json.dumps({"key": key, "card": card.model_dump(mode="json")}, ensure_ascii=False))
    return StyleSource(DEFAULT_SYSTEM_PROMPT, card, None)


def style_source(profile: Profile | None, dataset: str | None = None) -> StyleSource:
    """The named dataset's style, else the newest dataset's, else the store's."""
    if profile is None:
        return StyleSource(DEFAULT_SYSTEM_PROMPT, StyleCard(), None)
    dirs = [profile.dataset_dir(dataset)] if dataset else []
    for d in dirs + _dataset_dirs(profile):
        found = from_dataset(d)
        if found is not None:
            return found
    return from_store(profile)
