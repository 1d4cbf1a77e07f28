"""Undo an import (or drop a whole conversation): the messages it brought that no other import holds,
their full-text entries (the store's triggers), its import record and its kept copy in exports/."""

from __future__ import annotations

import difflib
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from twin.errors import InvalidInput, NotFound
from twin.ingest.exports_copy import copy_dir, remove_copy
from twin.profiles import Profile
from twin.store.db import connect
from twin.store.messages import (
    Forgotten,
    ImportRecord,
    conversation_exists,
    conversation_ids,
    find_imports,
    forget_conversation,
    forget_imports,
    list_imports,
)


@dataclass
class ForgetReport:
    target: str  # what was asked for: "source NAME" or "conversation ID"
    messages: int  # messages deleted
    kept: int  # messages of the import kept because another import holds them too
    imports: list[dict[str, str]] = field(default_factory=list)  # {"source", "sha256"} of each removed record
    copies_removed: int = 0
    dry_run: bool = False

    def to_dict(self) -> dict[str, object]:
        return {
            "target": self.target,
            "messages": self.messages,
            "kept": self.kept,
            "imports": self.imports,
            "copies_removed": self.copies_removed,
            "dry_run": self.dry_run,
        }


def forget(
    profile: Profile, *, source: str | None = None, conversation: str | None = None, dry_run: bool = False
) -> ForgetReport:
    """Forget one import (by the name given to `twin ingest`, or its digest) or one conversation.
    With dry_run the store is left as it was and the report says what would go."""
    if (source is None) == (conversation is None):
        raise InvalidInput(
            "Say what to forget: either --source NAME or --conversation ID.",
            "List the imports with: twin messages imports",
        )
    conn = connect(profile)
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            done, target = _forget_in_store(conn, profile, source, conversation)
        except BaseException:
            conn.rollback()
            raise
        if dry_run:
            conn.rollback()
        else:
            conn.commit()
    finally:
        conn.close()
    report = ForgetReport(
        target=target,
        messages=done.messages,
        kept=done.kept,
        imports=[{"source": i.source, "sha256": i.sha256} for i in done.imports],
        dry_run=dry_run,
    )
    if not dry_run:
        report.copies_removed = sum(remove_copy(profile, i.sha256) for i in done.imports)
    return report


def _imports_named(conn: sqlite3.Connection, profile: Profile, name: str) -> list[ImportRecord]:
    """Imports called `name` (or with that digest prefix). The same bytes imported under another name
    are the same import: that name is found among the copies kept for it."""
    found = find_imports(conn, name)
    if found or not name or Path(name).name != name or name.startswith("."):
        return found
    return [i for i in list_imports(conn) if (copy_dir(profile, i.sha256) / name).is_file()]


def _forget_in_store(
    conn: sqlite3.Connection, profile: Profile, source: str | None, conversation: str | None
) -> tuple[Forgotten, str]:
    if source is not None:
        imports = _imports_named(conn, profile, source)
        if not imports:
            names = [i.source for i in list_imports(conn)]
            raise NotFound(f"No import called '{source}'.", _did_you_mean(source, names, "twin messages imports"))
        return forget_imports(conn, imports), f"source {source}"
    assert conversation is not None
    if not conversation_exists(conn, conversation):
        ids = conversation_ids(conn)
        raise NotFound(
            f"No conversation '{conversation}'.", _did_you_mean(conversation, ids, "twin messages conversations")
        )
    return forget_conversation(conn, conversation), f"conversation {conversation}"


def _did_you_mean(wrong: str, known: list[str], listing: str) -> str:
    close = difflib.get_close_matches(wrong, known, n=3, cutoff=0.5)
    if close:
        return "Did you mean " + " or ".join(f"'{c}'" for c in close) + f"? See them all with: {listing}"
    return f"See them all with: {listing}"
