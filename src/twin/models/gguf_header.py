"""The key/value header of a GGUF file (scalars and strings; arrays skipped), read without loading it.

Written here because the `gguf` package lives in the train extra and its reader maps every tensor
(seconds on a big model); listing models only needs the header."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import IO, Any

# GGUF value types with a fixed size (struct codes); 8 is a string and 9 an array.
_FIXED = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}


def _read(f: IO[bytes], fmt: str) -> Any:
    size = struct.calcsize("<" + fmt)
    data = f.read(size)
    if len(data) != size:
        raise ValueError("truncated GGUF header")
    return struct.unpack("<" + fmt, data)[0]


def _string(f: IO[bytes]) -> str:
    n = _read(f, "Q")
    if n > 1 << 24:
        raise ValueError("implausible string length")
    return f.read(n).decode("utf-8", "replace")


def _value(f: IO[bytes], vtype: int) -> Any:
    if vtype in _FIXED:
        return _read(f, _FIXED[vtype])
    if vtype == 8:
        return _string(f)
    if vtype == 9:
        etype, count = _read(f, "I"), _read(f, "Q")
        if etype in _FIXED:
            f.seek(struct.calcsize("<" + _FIXED[etype]) * count, 1)
        else:
            for _ in range(count):
                _value(f, etype)
        return None
    raise ValueError(f"unknown GGUF value type {vtype}")


def read_header(path: Path) -> dict[str, Any]:
    """Metadata of a GGUF file; raises ValueError when it is not one."""
    with path.open("rb") as f:
        if f.read(4) != b"GGUF":
            raise ValueError("no GGUF magic number")
        if _read(f, "I") not in (2, 3):
            raise ValueError("unsupported GGUF version")
        _read(f, "Q")  # tensor count
        return {_string(f): _value(f, _read(f, "I")) for _ in range(_read(f, "Q"))}
