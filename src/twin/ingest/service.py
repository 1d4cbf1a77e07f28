"""The ingest service: detect → keep a read-only copy → parse → store idempotently → identity.

Messages are written in batches with INSERT OR IGNORE on a content fingerprint, so re-importing the
same export adds nothing and an interrupted import (even kill -9) completes when run again."""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from twin.errors import TwinError
from twin.ids import new_id
from twin.ingest.detect import ExportUnit, detect
from twin.ingest.exports_copy import keep_copy
from twin.ingest.identity import Inference, Matcher, apply_identity, identity_from_aliases, infer_identity, merge
from twin.ingest.parsers import parser_for
from twin.ingest.record import ParsedMessage, Skipped
from twin.profiles import Profile
from twin.settings import Settings
from twin.store.db import connect

log = logging.getLogger(__name__)
_BATCH = 2000
_COLUMNS = (
    "id",
    "fingerprint",
    "source",
    "source_sha256",
    "locator",
    "format",
    "conversation_id",
    "seq",
    "sender",
    "sender_address",
    "timestamp",
    "text",
    "kind",
    "flags",
    "subject",
    "recipients",
    "extra",
)
_INSERT = f"INSERT OR IGNORE INTO messages ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"


@dataclass
class FileReport:
    path: str
    format: str
    messages: int = 0
    new: int = 0
    mine: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    hint: str | None = None
    # (sender, address) → count, so the owner's share can be counted once identity is known.
    senders: Counter = field(default_factory=Counter, repr=False)


@dataclass
class IngestReport:
    files: list[FileReport] = field(default_factory=list)
    identity: dict | None = None
    identity_basis: str | None = None

    @property
    def messages(self) -> int:
        return sum(f.messages for f in self.files)

    @property
    def mine(self) -> int:
        return sum(f.mine for f in self.files)

    @property
    def readable(self) -> bool:
        return any(f.error is None for f in self.files)

    @property
    def failed(self) -> list[FileReport]:
        return [f for f in self.files if f.error is not None]

    def to_dict(self) -> dict:
        files = []
        for f in self.files:
            d = asdict(f)
            d.pop("senders")
            if d["hint"] is None:
                d.pop("hint")
            files.append(d)
        out = {"files": files, "messages": self.messages, "mine": self.mine}
        if self.identity is not None:
            out["identity"] = self.identity
            out["identity_basis"] = self.identity_basis
        return out


class _Fingerprinter:
    """Content key per message. Identical messages in the same minute are told apart by their order; the
    occurrence table is reset whenever the timestamp changes, so memory stays flat."""

    def __init__(self) -> None:
        self._seen: Counter[str] = Counter()
        self._ts: str | None = None

    def __call__(self, m: ParsedMessage, fmt_family: str, ts: str | None) -> str:
        if m.message_id:
            return hashlib.sha256(f"mid\0{m.message_id}\0{ts}".encode()).hexdigest()
        if ts != self._ts:
            self._seen.clear()
            self._ts = ts
        where = m.locator if ts is None else ""  # untimed records (subtitle cues) are positional
        base = "\0".join((fmt_family, m.conversation_id, m.sender or "", ts or "", where, m.text))
        self._seen[base] += 1
        return hashlib.sha256(f"{base}\0{self._seen[base]}".encode()).hexdigest()


def _family(fmt: str) -> str:
    return "email" if fmt in ("mbox", "eml", "maildir", "msg", "pst") else fmt


def _row(m: ParsedMessage, fmt: str, source_name: str, sha: str, seq: int, fp: _Fingerprinter) -> tuple:
    ts = m.timestamp.isoformat() if isinstance(m.timestamp, datetime) else None
    extra = dict(m.extra)
    if m.sent_hint:
        extra["sent_folder"] = True
    if m.message_id:
        extra.setdefault("message_id", m.message_id)
    return (
        new_id(),
        fp(m, _family(fmt), ts),
        source_name,
        sha,
        m.locator,
        fmt,
        m.conversation_id,
        seq,
        m.sender,
        m.sender_address,
        ts,
        m.text,
        m.kind,
        json.dumps(sorted(set(m.flags))),
        m.subject,
        json.dumps(m.recipients) if m.recipients is not None else None,
        json.dumps(extra, ensure_ascii=False, default=str),
    )


def _flush(conn: sqlite3.Connection, rows: list[tuple]) -> int:
    with conn:
        before = conn.total_changes
        conn.executemany(_INSERT, rows)
        return conn.total_changes - before


def _ingest_unit(
    conn: sqlite3.Connection, unit: ExportUnit, sha: str, report: FileReport, on_progress: Callable[[int], None] | None
) -> None:
    skipped: Counter[str] = Counter()
    seq = 0
    for source in unit.sources():
        parse = parser_for(source.format)
        fp = _Fingerprinter()
        rows: list[tuple] = []
        for item in parse(source):
            if isinstance(item, Skipped):
                skipped[item.reason] += 1
                continue
            seq += 1
            report.senders[(item.sender, item.sender_address)] += 1
            rows.append(_row(item, source.format, source.name, sha, seq, fp))
            if len(rows) >= _BATCH:
                report.new += _flush(conn, rows)
                report.messages += len(rows)
                if on_progress:
                    on_progress(len(rows))
                rows.clear()
        if rows:
            report.new += _flush(conn, rows)
            report.messages += len(rows)
            if on_progress:
                on_progress(len(rows))
    report.skipped = dict(skipped)


def _record_import(conn: sqlite3.Connection, sha: str, unit: ExportUnit, stored: Path, report: FileReport) -> None:
    now = datetime.now(UTC).isoformat(timespec="seconds")
    with conn:
        conn.execute(
            "INSERT INTO imports (source_sha256, source, stored_path, format, imported_at, messages, complete) "
            "VALUES (?, ?, ?, ?, ?, ?, 1) ON CONFLICT(source_sha256) DO UPDATE SET imported_at = excluded.imported_at, "
            "messages = max(imports.messages, excluded.messages), complete = 1",
            (sha, unit.origin.name, str(stored), unit.format, now, report.messages),
        )


def _resolve_identity(conn: sqlite3.Connection, profile: Profile, aliases: list[str]) -> Inference | None:
    """--me aliases extend the stored identity (replacing an inferred one); with none, infer once."""
    current = profile.identity
    if aliases:
        given = identity_from_aliases(aliases)
        profile.set_identity(given if current.inferred or current.is_empty() else merge(current, given))
        return None
    if current.is_empty() or current.inferred:
        inference = infer_identity(conn)
        if inference is not None:
            profile.set_identity(inference.identity)
        return inference
    return None


def ingest_paths(
    profile: Profile,
    paths: Iterable[Path],
    settings: Settings,
    aliases: list[str] | None = None,
    on_unit: Callable[[ExportUnit], Callable[[int], None] | None] | None = None,
) -> IngestReport:
    """Import every path into the profile's store. Errors are reported per file; the batch continues."""
    report = IngestReport()
    conn = connect(profile)
    copies: dict[Path, tuple[str, Path]] = {}
    try:
        for unit in detect([Path(p) for p in paths], settings.ingest):
            entry = FileReport(path=unit.path, format=unit.format)
            report.files.append(entry)
            try:
                if unit.error is not None:
                    raise unit.error
                if unit.origin not in copies:
                    copies[unit.origin] = keep_copy(profile, unit.origin)
                sha, stored = copies[unit.origin]
                _ingest_unit(conn, unit, sha, entry, on_unit(unit) if on_unit else None)
                _record_import(conn, sha, unit, stored, entry)
            except TwinError as exc:
                entry.error, entry.hint = exc.message, exc.hint or None
            except Exception as exc:  # a damaged file must never stop the batch or lose what was stored
                log.debug("import of %s failed", unit.path, exc_info=True)
                entry.error = f"Could not read '{unit.path}': {type(exc).__name__}: {exc}"
                entry.hint = "The file may be damaged or not an export; what was read before the error is kept."
        inference = _resolve_identity(conn, profile, aliases or [])
        identity = profile.identity
        apply_identity(conn, identity)
        matcher = Matcher(identity)
        for f in report.files:
            f.mine = sum(n for (sender, address), n in f.senders.items() if matcher(sender, address))
        if not identity.is_empty():
            report.identity = identity.model_dump()
            report.identity_basis = inference.basis if inference else ("given with --me" if aliases else "stored")
    finally:
        conn.close()
    return report
