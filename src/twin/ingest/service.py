"""The ingest service: detect → stage a copy → parse → store idempotently → keep the copy → identity.

Messages are written in batches (see writer.py); what was parsed before a failure is kept. The
read-only copy of an export is kept only when something was read from it."""

from __future__ import annotations

import logging
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from twin.errors import TwinError
from twin.ingest.detect import ExportUnit, detect
from twin.ingest.exports_copy import StagedCopy, clean_stale_staging, stage_copy
from twin.ingest.identity import Inference, Matcher, apply_identity, identity_from_aliases, infer_identity, merge
from twin.ingest.parsers import parser_for
from twin.ingest.record import Skipped
from twin.ingest.source import Source
from twin.ingest.writer import SourceWriter
from twin.profiles import Profile
from twin.settings import IngestLimits, Settings
from twin.store.db import connect

log = logging.getLogger(__name__)


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
    merged_into: list[str] = field(default_factory=list)  # stored chats this file was recognised as
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
            if not d["merged_into"]:
                d.pop("merged_into")
            files.append(d)
        out = {"files": files, "messages": self.messages, "mine": self.mine}
        if self.identity is not None:
            out["identity"] = self.identity
            out["identity_basis"] = self.identity_basis
        return out


def _ingest_source(
    conn: sqlite3.Connection,
    source: Source,
    sha: str,
    seq: int,
    limits: IngestLimits,
    report: FileReport,
    skipped: Counter[str],
    on_progress: Callable[[int], None] | None,
) -> int:
    """Parse one source into the store; return the last sequence number used. Whatever was parsed
    is written even when the parser fails part-way (the failure is re-raised after)."""
    writer = SourceWriter(conn, source.format, source.name, sha, seq, on_progress)
    try:
        for item in parser_for(source.format)(source, limits):
            if isinstance(item, Skipped):
                skipped[item.reason] += 1
                continue
            report.senders[(item.sender, item.sender_address)] += 1
            writer.add(item)
    finally:
        writer.flush()
        report.messages += writer.messages
        report.new += writer.new
        if writer.merged_into and writer.merged_into not in report.merged_into:
            report.merged_into.append(writer.merged_into)
    return writer.seq


def _ingest_unit(
    conn: sqlite3.Connection,
    unit: ExportUnit,
    sha: str,
    limits: IngestLimits,
    report: FileReport,
    on_progress: Callable[[int], None] | None,
) -> None:
    """Every source of the unit. In a unit of many files (a maildir, a folder of .eml) one file that
    cannot be read is counted as skipped and the others are still read; a unit's only file failing
    fails the unit."""
    skipped: Counter[str] = Counter()
    seq = attempted = 0
    first_error: TwinError | OSError | None = None
    try:
        for source in unit.sources():
            attempted += 1
            try:
                seq = _ingest_source(conn, source, sha, seq, limits, report, skipped, on_progress)
            except (TwinError, OSError) as exc:
                skipped["unreadable_file"] += 1
                first_error = first_error or exc
    finally:
        report.skipped = dict(skipped)
    if first_error is not None and attempted == 1:
        report.skipped.pop("unreadable_file", None)
        raise first_error


_LIMIT_REASONS = {
    "line_too_long": "TWIN_INGEST_MAX_LINE_CHARS",
    "message_too_large": "TWIN_INGEST_MAX_CHAT_MESSAGE_CHARS or TWIN_INGEST_MAX_MESSAGE_BYTES",
}


def _nothing_read(entry: FileReport) -> None:
    """A file that yielded no message is a failure, with the reasons its contents were skipped."""
    if entry.error is not None or entry.messages:
        return
    if not entry.skipped:
        entry.error = f"'{entry.path}' holds no messages."
        entry.hint = "Check that it is the export you meant; nothing was kept from it."
        return
    reasons = ", ".join(f"{k} ({v})" for k, v in sorted(entry.skipped.items()))
    entry.error = f"Nothing could be imported from '{entry.path}': everything in it was skipped: {reasons}."
    limits = [setting for reason, setting in _LIMIT_REASONS.items() if reason in entry.skipped]
    entry.hint = (
        f"Parts beyond the size limits were skipped; raise {' and '.join(limits)} to read them."
        if limits
        else "Check that it is the export you meant."
    ) + " Nothing was kept from this file."


def _keep_copies(
    conn: sqlite3.Connection, staged: dict[Path, StagedCopy], units: dict[Path, list[tuple[ExportUnit, FileReport]]]
) -> None:
    """Keep the copy of every export something was read from, and record the import; drop the rest."""
    for origin, copy in staged.items():
        entries = units.get(origin, [])
        messages = sum(e.messages for _, e in entries)
        if not messages:
            copy.discard()
            continue
        stored = copy.commit()
        formats = ",".join(sorted({u.format for u, e in entries if e.messages}))
        complete = int(all(e.error is None for _, e in entries))
        _record_import(conn, copy.sha256, origin.name, stored, formats, messages, complete)


def _record_import(
    conn: sqlite3.Connection, sha: str, name: str, stored: Path, fmt: str, messages: int, complete: int
) -> None:
    now = datetime.now(UTC).isoformat(timespec="seconds")
    with conn:
        conn.execute(
            "INSERT INTO imports (source_sha256, source, stored_path, format, imported_at, messages, complete) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(source_sha256) DO UPDATE SET "
            "imported_at = excluded.imported_at, messages = max(imports.messages, excluded.messages), "
            "complete = max(imports.complete, excluded.complete)",
            (sha, name, str(stored), fmt, now, messages, complete),
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
    clean_stale_staging(profile)  # copies left by an import that was killed
    staged: dict[Path, StagedCopy] = {}
    units: dict[Path, list[tuple[ExportUnit, FileReport]]] = defaultdict(list)
    try:
        for unit in detect([Path(p) for p in paths], settings.ingest):
            entry = FileReport(path=unit.path, format=unit.format)
            report.files.append(entry)
            _import_unit(conn, profile, unit, entry, settings.ingest, staged, on_unit)
            units[unit.origin].append((unit, entry))
            _nothing_read(entry)
        _keep_copies(conn, staged, units)
        _apply_identity(conn, profile, report, aliases or [])
    finally:
        for copy in staged.values():
            copy.discard()
        conn.close()
    return report


def _import_unit(
    conn: sqlite3.Connection,
    profile: Profile,
    unit: ExportUnit,
    entry: FileReport,
    limits: IngestLimits,
    staged: dict[Path, StagedCopy],
    on_unit: Callable[[ExportUnit], Callable[[int], None] | None] | None,
) -> None:
    try:
        if unit.error is not None:
            raise unit.error
        if unit.origin not in staged:
            staged[unit.origin] = stage_copy(profile, unit.origin)
        _ingest_unit(conn, unit, staged[unit.origin].sha256, limits, entry, on_unit(unit) if on_unit else None)
    except TwinError as exc:
        entry.error, entry.hint = exc.message, exc.hint or None
    except Exception as exc:  # a damaged file must never stop the batch or lose what was stored
        log.debug("import of %s failed", unit.path, exc_info=True)
        entry.error = f"Could not read '{unit.path}': {type(exc).__name__}: {exc}"
        entry.hint = "The file may be damaged or not an export; what was read before the error is kept."


def _apply_identity(conn: sqlite3.Connection, profile: Profile, report: IngestReport, aliases: list[str]) -> None:
    inference = _resolve_identity(conn, profile, aliases)
    identity = profile.identity
    apply_identity(conn, identity)
    matcher = Matcher(identity)
    for f in report.files:
        f.mine = sum(n for (sender, address), n in f.senders.items() if matcher(sender, address))
    if not identity.is_empty():
        report.identity = identity.model_dump()
        report.identity_basis = inference.basis if inference else ("given with --me" if aliases else "stored")
