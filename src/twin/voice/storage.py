"""The one way voice data is read and written: recordings, clean clips, references, embeddings, the
reference and speech caches. When the profile is encrypted (`<profile>/encryption.json` exists) files are
sealed with the profile's data key on write and opened in memory on read, never through a temporary
file; otherwise they are plain files. Metadata (`*.json`) stays readable.

A file's header says whether it is sealed and with which key, so a profile half-way through
`twin profile encrypt` or `rotate-key` (a crash, a full disk) still reads every file, and a rerun
finishes the job."""

from __future__ import annotations

import io
import os
import threading
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from twin.errors import InvalidInput
from twin.ops import crypto
from twin.ops.crypto import Unlock, WrappedKey
from twin.profiles import Profile, write_text_atomic

ENCRYPTION_FILE = "encryption.json"
PASSPHRASE_ENV = "TWIN_PASSPHRASE"
_KEYS: dict[tuple[str, str], bytes] = {}  # (profile root, key id) -> data key, for this process
_KEYS_LOCK = threading.Lock()


class EncryptionState(BaseModel):
    version: int = 1
    current: WrappedKey
    previous: list[WrappedKey] = Field(default_factory=list, description="Older keys while a rotation runs.")


def state_path(profile: Profile) -> Path:
    return profile.root / ENCRYPTION_FILE


def load_state(profile: Profile) -> EncryptionState | None:
    path = state_path(profile)
    if not path.is_file():
        return None
    return EncryptionState.model_validate_json(path.read_text(encoding="utf-8"))


def save_state(profile: Profile, state: EncryptionState) -> None:
    write_text_atomic(state_path(profile), state.model_dump_json(indent=2))
    os.chmod(state_path(profile), 0o600)


def default_unlock() -> Unlock:
    return Unlock(passphrase=os.environ.get(PASSPHRASE_ENV) or None)


def remember_key(profile: Profile, key: bytes) -> None:
    with _KEYS_LOCK:
        _KEYS[(str(profile.root), crypto.key_id(key).hex())] = key


def forget_keys(profile: Profile) -> None:
    with _KEYS_LOCK:
        for k in [k for k in _KEYS if k[0] == str(profile.root)]:
            del _KEYS[k]


def is_voice_data(profile: Profile, path: Path) -> bool:
    """Sealed when encrypted: everything under voice/ but metadata, markers and upload staging."""
    try:
        rel = path.relative_to(profile.voice_dir)
    except ValueError:
        return False
    if not rel.parts or rel.parts[0] == "tmp" or "converter" in rel.parts:  # converter: feature statistics only
        return False
    return path.suffix != ".json" and not path.name.startswith(".")


class VoiceStorage:
    """Reads and writes one profile's voice files, sealing them when the profile is encrypted."""

    def __init__(self, profile: Profile, unlock: Unlock | None = None) -> None:
        self.profile = profile
        self.unlock = unlock or default_unlock()

    @property
    def state(self) -> EncryptionState | None:
        return load_state(self.profile)

    @property
    def encrypted(self) -> bool:
        return state_path(self.profile).is_file()

    def label(self, path: Path) -> str:
        """The file's place in the profile (bound into its seal); a staging folder `.<name>.tmp` counts as
        the `<name>` it becomes, so a voice built in staging and renamed into place still opens."""
        rel = path.resolve().relative_to(self.profile.root.resolve())
        parts = [p[1:-4] if p.startswith(".") and p.endswith(".tmp") and p != rel.name else p for p in rel.parts]
        return "/".join(parts)

    def key_for(self, wanted: str | None = None) -> bytes:
        """The data key with id `wanted` (default: the current one), unwrapped once per process."""
        state = self.state
        if state is None:
            raise InvalidInput(f"Profile '{self.profile.name}' is not encrypted.", "twin profile encrypt")
        wanted = wanted or state.current.id
        with _KEYS_LOCK:
            found = _KEYS.get((str(self.profile.root), wanted))
        if found is not None:
            return found
        for wrapped in [state.current, *state.previous]:
            if wrapped.id == wanted:
                key = crypto.unwrap(wrapped, self.unlock)
                remember_key(self.profile, key)
                return key
        raise crypto.WrongKey(
            f"A file of profile '{self.profile.name}' uses a key this profile no longer has.",
            "Restore the file from a backup made with that key.",
        )

    def read_bytes(self, path: Path) -> bytes:
        data = Path(path).read_bytes()
        kid = crypto.sealed_key_id(data[:32])
        if kid is None:
            return data
        key = self.key_for(kid.hex())
        return crypto.unseal(key, data, self.label(Path(path)), Path(path).name)

    def sealed(self, path: Path, data: bytes) -> bytes:
        """What to store at `path` for `data`: sealed when the profile is encrypted and it is voice data."""
        if self.encrypted and is_voice_data(self.profile, Path(path)):
            return crypto.seal(self.key_for(), data, self.label(Path(path)))
        return data

    def write_bytes(self, path: Path, data: bytes) -> Path:
        """Write atomically; sealed when the profile is encrypted and the file is voice data."""
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        payload = self.sealed(out, data)
        tmp = out.with_name(f".{out.name}.tmp")
        try:
            tmp.write_bytes(payload)
            os.replace(tmp, out)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return out

    def is_sealed(self, path: Path) -> bool:
        with open(path, "rb") as f:
            return crypto.is_sealed(f.read(len(crypto.MAGIC)))

    def source(self, path: Path) -> Path | bytes:
        """What the audio decoder should read: the path itself, or the opened bytes of a sealed file."""
        return self.read_bytes(path) if self.is_sealed(path) else Path(path)

    def load_audio(self, path: Path, **kwargs: object) -> tuple[np.ndarray, int]:
        from twin.audio.decode import load_audio

        kwargs.setdefault("name", Path(path).name)  # a sealed file is decoded from bytes: keep its name
        return load_audio(self.source(path), **kwargs)  # type: ignore[arg-type]

    def save_wav(self, path: Path, audio: np.ndarray, sr: int) -> Path:
        import soundfile as sf

        buf = io.BytesIO()
        sf.write(buf, np.clip(np.asarray(audio, dtype=np.float32), -1.0, 1.0), sr, subtype="PCM_16", format="WAV")
        return self.write_bytes(path, buf.getvalue())

    def load_npy(self, path: Path) -> np.ndarray:
        return np.load(io.BytesIO(self.read_bytes(path)), allow_pickle=False)

    def save_npy(self, path: Path, array: np.ndarray) -> Path:
        buf = io.BytesIO()
        np.save(buf, array, allow_pickle=False)
        return self.write_bytes(path, buf.getvalue())

    def copy(self, src: Path, dst: Path) -> Path:
        return self.write_bytes(dst, self.read_bytes(src))


def storage_for(path: Path) -> VoiceStorage:
    """The storage of the profile a voice file belongs to (the nearest folder with a profile.json)."""
    for parent in Path(path).absolute().parents:
        if (parent / "profile.json").is_file():
            return VoiceStorage(Profile(name=parent.name, root=parent))
    raise InvalidInput(f"{Path(path).name} is not inside a profile.", "Voice files live under a profile's voice/.")


def read_voice_bytes(path: Path) -> bytes:
    return storage_for(path).read_bytes(path)


def load_voice_audio(path: Path, **kwargs: object) -> tuple[np.ndarray, int]:
    return storage_for(path).load_audio(path, **kwargs)


def save_voice_wav(path: Path, audio: np.ndarray, sr: int) -> Path:
    return storage_for(path).save_wav(path, audio, sr)


def load_voice_npy(path: Path) -> np.ndarray:
    return storage_for(path).load_npy(path)


def save_voice_npy(path: Path, array: np.ndarray) -> Path:
    return storage_for(path).save_npy(path, array)


def copy_voice_file(src: Path, dst: Path) -> Path:
    return storage_for(dst).copy(src, dst)


def stage_voice_file(src: Path, dst: Path) -> Path:
    """Copy a user's file beside `dst` (streamed; sealed when the profile is encrypted); returns the staged copy."""
    import shutil

    store = storage_for(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.tmp")
    try:
        if store.encrypted and is_voice_data(store.profile, dst):
            key, label = store.key_for(), store.label(dst)
            with open(src, "rb") as fin, open(tmp, "wb") as fout:
                for piece in crypto.seal_stream(key, fin, label):
                    fout.write(piece)
        else:
            shutil.copyfile(src, tmp)
    except BaseException:  # a full disk or an interrupt leaves no half copy behind
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def opened_if_sealed(path: Path | None) -> bytes | None:
    """The plain bytes of a sealed voice file, or None when the file is plain (or absent)."""
    if path is None or not Path(path).is_file():
        return None
    store = storage_for(path)
    return store.read_bytes(path) if store.is_sealed(path) else None
