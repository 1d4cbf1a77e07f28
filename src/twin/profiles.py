"""Profiles are the isolation boundary: every path and store of a user's data comes from a Profile,
and nothing of one profile is reachable from another."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from twin.errors import AlreadyExists, InvalidInput, NotFound
from twin.ids import check_name, new_id
from twin.ops.process import private_dir
from twin.settings import Settings


class Identity(BaseModel):
    """Who the owner is: names, email addresses and phone numbers that mark their messages."""

    names: list[str] = Field(default_factory=list)
    addresses: list[str] = Field(default_factory=list)
    phones: list[str] = Field(default_factory=list)
    inferred: bool = Field(False, description="True when twin guessed these rather than the user giving them.")

    def is_empty(self) -> bool:
        return not (self.names or self.addresses or self.phones)


class ProfileConfig(BaseModel):
    name: str
    id: str | None = Field(
        None,
        description="UUIDv7 given at creation (added on first use to profiles made before ids existed). "
        "API keys are bound to it, so a profile deleted and created again under the same name is a new one.",
    )
    created: str
    identity: Identity = Field(default_factory=Identity)
    extra: dict[str, Any] = Field(default_factory=dict)


@dataclass(frozen=True)
class Profile:
    """A profile's name and root folder; every other path is derived here."""

    name: str
    root: Path
    cache: Path | None = None  # the settings' cache folder

    @property
    def config_path(self) -> Path:
        return self.root / "profile.json"

    @property
    def db_path(self) -> Path:
        return self.root / "twin.db"

    @property
    def vectors_db_path(self) -> Path:
        """The sqlite-vec memory vectors: a file of their own, opened only through pysqlite3."""
        return self.root / "memory_vectors.db"

    @property
    def cache_dir(self) -> Path:
        """Derived files every profile of this home can share (e.g. the embedding model's onnx graph)."""
        return self.cache or self.root.parent.parent / "cache"

    @property
    def exports_dir(self) -> Path:
        """Read-only copies of the original export files."""
        return self.root / "exports"

    @property
    def datasets_dir(self) -> Path:
        return self.root / "datasets"

    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    @property
    def models_dir(self) -> Path:
        """Exported and registered writing models (kept apart from the imported originals in exports/)."""
        return self.root / "models"

    @property
    def voice_dir(self) -> Path:
        return self.root / "voice"

    def dataset_dir(self, name: str) -> Path:
        return self.datasets_dir / check_name(name, "dataset name")

    def run_dir(self, run: str) -> Path:
        return self.runs_dir / check_name(run, "run name")

    def load_config(self) -> ProfileConfig:
        return ProfileConfig.model_validate_json(self.config_path.read_text(encoding="utf-8"))

    def save_config(self, config: ProfileConfig) -> None:
        write_text_atomic(self.config_path, config.model_dump_json(indent=2))

    @property
    def uid(self) -> str:
        """The profile's unique id (ProfileManager.get/create/list make sure it exists)."""
        uid = self.load_config().id
        if uid is None:
            raise NotFound(f"Profile '{self.name}' has no id yet.", "Open it through ProfileManager.get first.")
        return uid

    @property
    def identity(self) -> Identity:
        return self.load_config().identity

    def set_identity(self, identity: Identity) -> None:
        config = self.load_config()
        config.identity = identity
        self.save_config(config)


def write_text_atomic(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so a crash never leaves a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class ProfileManager:
    """Create, find, list and delete profiles under settings.home."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def path_for(self, name: str) -> Path:
        return self.settings.profiles_dir / check_name(name, "profile name")

    def exists(self, name: str) -> bool:
        return (self.path_for(name) / "profile.json").is_file()

    def get(self, name: str) -> Profile:
        root = self.path_for(name)
        if not (root / "profile.json").is_file():
            raise NotFound(f"Profile '{name}' does not exist.", f"Create it with: twin profile create {name}")
        profile = Profile(name=name, root=root, cache=self.settings.cache_dir)
        _ensure_id(profile)
        return profile

    def uid_of(self, name: str) -> str | None:
        """The id of the profile called `name` now, or None when there is no such profile."""
        return self.get(name).uid if self.exists(name) else None

    def create(self, name: str) -> Profile:
        root = self.path_for(name)
        if (root / "profile.json").is_file():
            raise AlreadyExists(f"Profile '{name}' already exists.", "Pick another name or use the existing one.")
        profile = Profile(name=name, root=root, cache=self.settings.cache_dir)
        for d in (self.settings.home, self.settings.profiles_dir, root):
            private_dir(d)
        for d in (profile.exports_dir, profile.datasets_dir, profile.runs_dir, profile.voice_dir):
            private_dir(d)
        created = datetime.now(UTC).isoformat(timespec="seconds")
        profile.save_config(ProfileConfig(name=name, id=new_id(), created=created))
        return profile

    def get_or_create(self, name: str) -> tuple[Profile, bool]:
        if self.exists(name):
            return self.get(name), False
        return self.create(name), True

    def list(self) -> list[Profile]:
        base = self.settings.profiles_dir
        if not base.is_dir():
            return []
        # A folder whose name is not a valid profile name (made by hand, or by an old version that let a
        # trailing newline through) is not a profile twin can open, so it is not listed.
        names = [p.name for p in sorted(base.iterdir()) if _valid_name(p.name) and (p / "profile.json").is_file()]
        return [self.get(n) for n in names]

    def delete(self, name: str) -> None:
        profile = self.get(name)
        # Read-only export copies need write permission back before they can be removed.
        for dirpath, _dirs, files in os.walk(profile.root):
            os.chmod(dirpath, 0o700)
            for f in files:
                p = Path(dirpath) / f
                if not p.is_symlink():
                    os.chmod(p, 0o600)
        shutil.rmtree(profile.root)


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """An exclusive advisory lock on a folder (flock on its descriptor: no lock file is left behind)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _valid_name(name: str) -> bool:
    try:
        check_name(name)
    except InvalidInput:
        return False
    return True


def _ensure_id(profile: Profile) -> None:
    """Give a profile made before ids existed its id, once, even with several processes racing."""
    if profile.load_config().id is not None:
        return
    with _locked(profile.root):
        config = profile.load_config()
        if config.id is None:
            config.id = new_id()
            profile.save_config(config)


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
