"""Identifiers: UUIDv7 for records (time-ordered, good database keys) and strict patterns for every
id or name that ends up in a filesystem path."""

from __future__ import annotations

import re

import uuid6

from twin.errors import InvalidInput

# Checked with fullmatch: `match` with `$` would accept a trailing newline ("evil\n").
_UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
_NAME_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")


def new_id() -> str:
    """A new UUIDv7 as a lowercase string."""
    return str(uuid6.uuid7())


def check_id(value: str, what: str = "id") -> str:
    """Return `value` if it is a UUIDv7 string; raise InvalidInput otherwise (never touch the disk)."""
    if not isinstance(value, str) or not _UUID_RE.fullmatch(value):
        raise InvalidInput(
            f"{value!r} is not a valid {what}.", f"A {what} looks like 0190a3c2-7b1e-7cc1-9f2a-3b4c5d6e7f80."
        )
    return value


def check_name(value: str, what: str = "name") -> str:
    """Return `value` if it is a safe lowercase name usable as a folder name."""
    if not isinstance(value, str) or not _NAME_RE.fullmatch(value):
        raise InvalidInput(
            f"{value!r} is not a valid {what}.",
            "Use 1-63 characters: lowercase letters, digits, '-' and '_', starting with a letter or digit.",
        )
    return value
