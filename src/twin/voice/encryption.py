"""`twin profile encrypt|decrypt|rotate-key`: seal, open or re-key every voice file of a profile.

Each file is replaced atomically (write beside, then rename), and the key state is saved before files
move to a new key and trimmed only after all of them did, so an interrupted run loses nothing: every
file stays readable with a key the profile still holds, and running the command again finishes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from twin.errors import InvalidInput
from twin.ops import crypto
from twin.ops.crypto import Unlock
from twin.profiles import Profile
from twin.voice.storage import (
    EncryptionState,
    VoiceStorage,
    forget_keys,
    is_voice_data,
    load_state,
    remember_key,
    save_state,
    state_path,
)

Source = Literal["keyring", "passphrase"]


@dataclass
class Progress:
    sealed: int = 0
    opened: int = 0
    rekeyed: int = 0
    unchanged: int = 0
    files: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {"sealed": self.sealed, "opened": self.opened, "rekeyed": self.rekeyed, "unchanged": self.unchanged}


def voice_files(profile: Profile) -> Iterator[Path]:
    if not profile.voice_dir.is_dir():
        return
    for dirpath, _dirs, names in os.walk(profile.voice_dir):
        for name in sorted(names):
            path = Path(dirpath) / name
            if not path.is_symlink() and is_voice_data(profile, path):
                yield path


def _key_user(profile: Profile) -> str:
    config = profile.load_config()
    uid = getattr(config, "id", None) or config.created
    return f"{profile.name}:{uid}:{crypto.new_data_key().hex()[:8]}"


def _rewrite(path: Path, data: bytes) -> None:
    """Replace `path` atomically keeping its permission bits (raw recordings are read-only)."""
    mode = path.stat().st_mode & 0o777
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.chmod(tmp, mode)
    if not os.access(path.parent, os.W_OK):
        raise InvalidInput(f"{path.parent} is not writable.", "Fix its permissions and run the command again.")
    os.replace(tmp, path)


def encrypt_profile(profile: Profile, source: Source, unlock: Unlock) -> Progress:
    """Seal every voice file with a new data key (or finish an interrupted run with the existing one)."""
    state = load_state(profile)
    if state is None:
        key = crypto.new_data_key()
        state = EncryptionState(current=crypto.wrap(key, source, unlock, _key_user(profile)))
        remember_key(profile, key)
        save_state(profile, state)
    store = VoiceStorage(profile, unlock)
    key = store.key_for()
    progress = Progress()
    for path in voice_files(profile):
        if store.is_sealed(path):
            progress.unchanged += 1
            continue
        _rewrite(path, crypto.seal(key, path.read_bytes(), store.label(path)))
        progress.sealed += 1
    return progress


def decrypt_profile(profile: Profile, unlock: Unlock) -> Progress:
    """Open every sealed voice file back into a plain one, then drop the keys."""
    state = _require(profile)
    store = VoiceStorage(profile, unlock)
    progress = Progress()
    for path in voice_files(profile):
        if not store.is_sealed(path):
            progress.unchanged += 1
            continue
        _rewrite(path, store.read_bytes(path))
        progress.opened += 1
    state_path(profile).unlink()
    for wrapped in [state.current, *state.previous]:
        if wrapped.source == "keyring" and wrapped.keyring_user:
            crypto.keyring_delete(wrapped.keyring_user)
    forget_keys(profile)
    return progress


def rotate_key(
    profile: Profile, unlock: Unlock, source: Source | None = None, new_unlock: Unlock | None = None
) -> Progress:
    """Move every file to a fresh data key (optionally wrapped another way, e.g. a new passphrase)."""
    state = _require(profile)
    store = VoiceStorage(profile, unlock)
    old_key = store.key_for()  # proves the caller can unlock before anything changes
    for wrapped in state.previous:
        store.key_for(wrapped.id)
    new_key = crypto.new_data_key()
    wrapped_new = crypto.wrap(new_key, source or state.current.source, new_unlock or unlock, _key_user(profile))
    remember_key(profile, new_key)
    remember_key(profile, old_key)
    retired = [state.current, *state.previous]
    save_state(profile, EncryptionState(current=wrapped_new, previous=retired))
    store = VoiceStorage(profile, new_unlock or unlock)
    progress = Progress()
    new_id = crypto.key_id(new_key)
    for path in voice_files(profile):
        with open(path, "rb") as f:
            head = f.read(32)
        if crypto.sealed_key_id(head) == new_id:
            progress.unchanged += 1
            continue
        _rewrite(path, crypto.seal(new_key, store.read_bytes(path), store.label(path)))
        progress.rekeyed += 1
    save_state(profile, EncryptionState(current=wrapped_new))
    for wrapped in retired:
        if wrapped.source == "keyring" and wrapped.keyring_user:
            crypto.keyring_delete(wrapped.keyring_user)
    return progress


def _require(profile: Profile) -> EncryptionState:
    state = load_state(profile)
    if state is None:
        raise InvalidInput(
            f"Profile '{profile.name}' is not encrypted.",
            f"Encrypt it with: twin profile encrypt --profile {profile.name}",
        )
    return state
