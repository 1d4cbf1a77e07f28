"""Encryption at rest: AES-256-GCM (`cryptography`) in 1 MiB segments, the data key wrapped by a key from
the OS keyring (`keyring`) or derived from a passphrase (scrypt).

Sealed format: MAGIC, 8-byte key id, 7-byte nonce prefix, then segments of ciphertext+tag. Segment i's
nonce is prefix || i (4 bytes) || last-flag (1 byte) and its associated data is the caller's label
(a file's path inside the profile), so a segment cannot be reordered, dropped, moved to another file or
truncated without the tag check failing (the STREAM construction of Hoang, Reyhanitabar, Rogaway and
Vizár; written here because `cryptography` offers AEAD primitives, not a segmented file format)."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO, Literal

from pydantic import BaseModel, Field

from twin.errors import InvalidInput, MissingDependency, TwinError, Unauthorized

MAGIC = b"TWINENC1"
SEGMENT = 1024 * 1024
_TAG = 16
_HEADER = len(MAGIC) + 8 + 7
KEYRING_SERVICE = "twin-profile-key"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1


class WrongKey(Unauthorized):
    code = "wrong_key"


class Tampered(TwinError):
    code = "tampered"
    http_status = 422


def _aesgcm(key: bytes) -> Any:
    try:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    except ImportError:
        raise MissingDependency.for_extra("Encryption at rest", "crypto", "cryptography") from None
    return AESGCM(key)


def key_id(key: bytes) -> bytes:
    return hashlib.sha256(b"twin-key-id" + key).digest()[:8]


def is_sealed(head: bytes) -> bool:
    return head[: len(MAGIC)] == MAGIC


def sealed_key_id(head: bytes) -> bytes | None:
    return head[len(MAGIC) : len(MAGIC) + 8] if is_sealed(head) and len(head) >= _HEADER else None


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    return prefix + index.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


def seal_stream(key: bytes, source: BinaryIO, label: str) -> Iterator[bytes]:
    """Encrypt `source` segment by segment (constant memory)."""
    aes, prefix, aad = _aesgcm(key), secrets.token_bytes(7), label.encode()
    yield MAGIC + key_id(key) + prefix
    index, block = 0, source.read(SEGMENT)
    while True:
        following = source.read(SEGMENT)
        last = not following
        if index >= 2**32 - 1:
            raise InvalidInput("The file is too large to encrypt.", "Split it into files under 4 PiB.")
        yield aes.encrypt(_nonce(prefix, index, last), block, aad)
        if last:
            return
        index, block = index + 1, following


def open_stream(key: bytes, source: BinaryIO, label: str, name: str = "file") -> Iterator[bytes]:
    """Decrypt a sealed stream; raises WrongKey or Tampered (never returns unauthenticated bytes)."""
    from cryptography.exceptions import InvalidTag

    head = source.read(_HEADER)
    if not is_sealed(head) or len(head) < _HEADER:
        raise Tampered(
            f"{name} is not an encrypted twin file.", "It was replaced or damaged; restore it from a backup."
        )
    if head[len(MAGIC) : len(MAGIC) + 8] != key_id(key):
        raise WrongKey(f"{name} was encrypted with another key.", "Use the passphrase or keyring of this profile.")
    aes, prefix, aad = _aesgcm(key), head[-7:], label.encode()
    index, block = 0, source.read(SEGMENT + _TAG)
    while True:
        following = source.read(SEGMENT + _TAG)
        last = not following
        try:
            yield aes.decrypt(_nonce(prefix, index, last), block, aad)
        except InvalidTag:
            raise Tampered(
                f"{name} failed its integrity check (changed, truncated or moved).",
                "Restore it from a backup; twin never uses audio it cannot authenticate.",
            ) from None
        if last:
            return
        index, block = index + 1, following


def seal(key: bytes, data: bytes, label: str) -> bytes:
    import io

    return b"".join(seal_stream(key, io.BytesIO(data), label))


def unseal(key: bytes, data: bytes, label: str, name: str = "file") -> bytes:
    import io

    return b"".join(open_stream(key, io.BytesIO(data), label, name))


# ---- key management --------------------------------------------------------------------------------


class ScryptParams(BaseModel):
    salt: str
    n: int = SCRYPT_N
    r: int = SCRYPT_R
    p: int = SCRYPT_P


class WrappedKey(BaseModel):
    """A data key encrypted by a key-encryption key; the JSON that lives beside the data."""

    id: str = Field(description="Hex id of the data key (also in every sealed file's header).")
    source: Literal["keyring", "passphrase"]
    keyring_user: str | None = None
    scrypt: ScryptParams | None = None
    wrapped: str = Field(description="base64 of the data key sealed by the key-encryption key.")


def derive_from_passphrase(passphrase: str, params: ScryptParams) -> bytes:
    if not passphrase:
        raise InvalidInput("The passphrase is empty.", "Set TWIN_PASSPHRASE or type it when asked.")
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    kdf = Scrypt(salt=base64.b64decode(params.salt), length=32, n=params.n, r=params.r, p=params.p)
    return kdf.derive(passphrase.encode("utf-8"))


def _keyring() -> Any:
    try:
        import keyring
        import keyring.errors
    except ImportError:
        raise MissingDependency.for_extra("Keys in the OS keyring", "crypto", "keyring") from None
    return keyring


def keyring_store(user: str, secret: bytes) -> None:
    kr = _keyring()
    try:
        kr.set_password(KEYRING_SERVICE, user, base64.b64encode(secret).decode())
    except kr.errors.KeyringError as exc:
        raise MissingDependency(
            f"No usable OS keyring here ({type(exc).__name__}).",
            "Use --passphrase instead, or install a keyring backend (macOS Keychain, Secret Service).",
        ) from None


def keyring_load(user: str) -> bytes:
    kr = _keyring()
    try:
        value = kr.get_password(KEYRING_SERVICE, user)
    except kr.errors.KeyringError as exc:
        raise MissingDependency(f"The OS keyring cannot be read ({type(exc).__name__}).", "Unlock it.") from None
    if value is None:
        raise WrongKey(
            "This profile's key is not in the OS keyring.",
            "Restore the keyring entry, or decrypt with the passphrase if the profile has one.",
        )
    return base64.b64decode(value)


def keyring_delete(user: str) -> None:
    kr = _keyring()
    with contextlib.suppress(kr.errors.KeyringError):  # already gone
        kr.delete_password(KEYRING_SERVICE, user)


@dataclass(frozen=True)
class Unlock:
    """How to get the key-encryption key: a passphrase, or the keyring."""

    passphrase: str | None = None


def new_data_key() -> bytes:
    return secrets.token_bytes(32)


def wrap(data_key: bytes, source: Literal["keyring", "passphrase"], unlock: Unlock, user: str) -> WrappedKey:
    """Wrap a data key with a new key-encryption key (stored in the keyring, or derived from the passphrase)."""
    if source == "passphrase":
        params = ScryptParams(salt=base64.b64encode(os.urandom(16)).decode())
        kek = derive_from_passphrase(unlock.passphrase or "", params)
        wrapped = WrappedKey(id=key_id(data_key).hex(), source=source, scrypt=params, wrapped="")
    else:
        kek = secrets.token_bytes(32)
        keyring_store(user, kek)
        wrapped = WrappedKey(id=key_id(data_key).hex(), source=source, keyring_user=user, wrapped="")
    wrapped.wrapped = base64.b64encode(seal(kek, data_key, "twin-data-key:" + wrapped.id)).decode()
    return wrapped


def unwrap(wrapped: WrappedKey, unlock: Unlock) -> bytes:
    if wrapped.source == "passphrase":
        assert wrapped.scrypt is not None
        kek = derive_from_passphrase(unlock.passphrase or "", wrapped.scrypt)
    else:
        kek = keyring_load(wrapped.keyring_user or "")
    try:
        return unseal(kek, base64.b64decode(wrapped.wrapped), "twin-data-key:" + wrapped.id, "the data key")
    except (WrongKey, Tampered):
        raise WrongKey(
            "Wrong passphrase (or keyring entry) for this profile's data key.", "Check the passphrase and retry."
        ) from None


class SealingWriter:
    """A write-only file object that seals what is written to `out`, segment by segment (for tarfile)."""

    def __init__(self, key: bytes, out: BinaryIO, label: str) -> None:
        self._aes, self._out, self._aad = _aesgcm(key), out, label.encode()
        self._prefix = secrets.token_bytes(7)
        self._buf = bytearray()
        self._index = 0
        out.write(MAGIC + key_id(key) + self._prefix)

    def write(self, data: bytes) -> int:
        self._buf += data
        while len(self._buf) > SEGMENT:  # keep at least one byte back: the last segment is sealed on close
            block, self._buf = bytes(self._buf[:SEGMENT]), self._buf[SEGMENT:]
            self._out.write(self._aes.encrypt(_nonce(self._prefix, self._index, False), block, self._aad))
            self._index += 1
        return len(data)

    def close(self) -> None:
        self._out.write(self._aes.encrypt(_nonce(self._prefix, self._index, True), bytes(self._buf), self._aad))
        self._buf.clear()


class OpeningReader:
    """A read-only file object over the opened segments of a sealed stream (for tarfile's stream mode)."""

    def __init__(self, key: bytes, source: BinaryIO, label: str, name: str) -> None:
        self._pieces = open_stream(key, source, label, name)
        self._buf = b""

    def read(self, n: int = -1) -> bytes:
        while n < 0 or len(self._buf) < n:
            piece = next(self._pieces, None)
            if piece is None:
                break
            self._buf += piece
        if n < 0:
            out, self._buf = self._buf, b""
        else:
            out, self._buf = self._buf[:n], self._buf[n:]
        return out
