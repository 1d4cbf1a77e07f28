"""Encryption at rest of voice data: sealed on disk, transparent to the rest of twin, wrong keys and
tampering refused, rotation and interrupted runs lose nothing."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import keyring
import numpy as np
import pytest
from keyring.backend import KeyringBackend
from typer.testing import CliRunner

from twin.cli.main import app
from twin.ids import new_id
from twin.ops import crypto
from twin.ops.crypto import Tampered, Unlock, WrongKey
from twin.profiles import Profile, ProfileManager
from twin.settings import load_settings
from twin.voice import encryption, library
from twin.voice.profiles import load_embedding
from twin.voice.storage import VoiceStorage, forget_keys, load_state

runner = CliRunner()
PASS = Unlock(passphrase="correct horse battery staple")
VID = new_id()


class MemoryKeyring(KeyringBackend):
    """A keyring backend held in memory (this machine has no Secret Service); keyring itself routes to it."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.items.pop((service, username), None)


@pytest.fixture
def ring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def _tone(seconds: float = 1.0, sr: int = 16000) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


@pytest.fixture
def profile(tmp_path: Path) -> Profile:
    """A profile with an imported recording, a clean clip, a voice (references + embedding) and cache."""
    import soundfile as sf

    p = ProfileManager(load_settings()).create("me")
    rec = tmp_path / "neutral" / "take1.wav"
    rec.parent.mkdir()
    sf.write(rec, _tone(2.0), 16000, subtype="PCM_16")
    assert library.import_files(p, [rec])[0].status == "imported"
    store = VoiceStorage(p)
    store.save_wav(p.voice_dir / "clean" / "neutral" / "clip1.wav", _tone(1.0), 16000)
    voice = p.voice_dir / "profiles" / VID
    store.save_wav(voice / "reference.wav", _tone(1.5, 22050), 22050)
    store.save_wav(voice / "references" / "happy.wav", _tone(1.2, 22050), 22050)
    store.save_npy(voice / "embedding.npy", np.arange(256, dtype=np.float32))
    (voice / "voice.json").write_text(json.dumps({"id": VID, "name": "me"}))
    return p


def _voice_files(p: Profile) -> dict[str, bytes]:
    store = VoiceStorage(p, PASS)
    return {str(f.relative_to(p.root)): store.read_bytes(f) for f in encryption.voice_files(p)}


def test_encrypt_seals_every_voice_file_and_reads_stay_transparent(profile: Profile) -> None:
    before = _voice_files(profile)
    assert len(before) == 5
    done = encryption.encrypt_profile(profile, "passphrase", PASS)
    assert done.sealed == 5
    for rel, plain in before.items():
        raw = (profile.root / rel).read_bytes()
        assert raw.startswith(crypto.MAGIC) and b"RIFF" not in raw[:64] and plain not in raw
    forget_keys(profile)
    assert _voice_files(profile) == before
    assert (profile.voice_dir / f"profiles/{VID}/voice.json").read_text().startswith("{")  # metadata stays plain
    assert load_state(profile) is not None and oct((profile.root / "encryption.json").stat().st_mode & 0o777) == "0o600"
    os.environ["TWIN_PASSPHRASE"] = PASS.passphrase or ""
    try:
        assert np.array_equal(load_embedding(profile, VID), np.arange(256, dtype=np.float32))
        audio, sr = VoiceStorage(profile).load_audio(profile.voice_dir / f"profiles/{VID}/reference.wav")
        assert sr == 22050 and len(audio) == int(1.5 * 22050)
    finally:
        del os.environ["TWIN_PASSPHRASE"]


def test_wrong_passphrase_is_refused(profile: Profile) -> None:
    encryption.encrypt_profile(profile, "passphrase", PASS)
    forget_keys(profile)
    store = VoiceStorage(profile, Unlock(passphrase="wrong"))
    with pytest.raises(WrongKey):
        store.read_bytes(profile.voice_dir / f"profiles/{VID}/reference.wav")
    with pytest.raises(WrongKey):
        encryption.decrypt_profile(profile, Unlock(passphrase="wrong"))
    assert all(f.read_bytes().startswith(crypto.MAGIC) for f in encryption.voice_files(profile))


def test_tampered_truncated_or_swapped_files_are_refused(profile: Profile) -> None:
    encryption.encrypt_profile(profile, "passphrase", PASS)
    store = VoiceStorage(profile, PASS)
    ref = profile.voice_dir / f"profiles/{VID}/reference.wav"
    happy = profile.voice_dir / f"profiles/{VID}/references/happy.wav"
    good_ref, good_happy = ref.read_bytes(), happy.read_bytes()
    flipped = bytearray(good_ref)
    flipped[100] ^= 1
    ref.write_bytes(bytes(flipped))
    with pytest.raises(Tampered):
        store.read_bytes(ref)
    ref.write_bytes(good_ref[:-5])
    with pytest.raises(Tampered):
        store.read_bytes(ref)
    ref.write_bytes(good_happy)  # a valid sealed file, but another file's
    with pytest.raises(Tampered):
        store.read_bytes(ref)
    ref.write_bytes(good_ref)
    assert store.read_bytes(ref)[:4] == b"RIFF"


def test_large_files_are_sealed_in_segments(profile: Profile) -> None:
    key = crypto.new_data_key()
    data = os.urandom(crypto.SEGMENT * 2 + 123)
    sealed = crypto.seal(key, data, "voice/raw/x.wav")
    assert crypto.unseal(key, sealed, "voice/raw/x.wav") == data
    cut = sealed[: len(sealed) - (123 + 16)]  # drop the whole last segment: still detected
    with pytest.raises(Tampered):
        crypto.unseal(key, cut, "voice/raw/x.wav")


def test_rotation_keeps_every_file(profile: Profile, ring: MemoryKeyring) -> None:
    before = _voice_files(profile)
    encryption.encrypt_profile(profile, "keyring", Unlock())
    old_id = load_state(profile).current.id  # type: ignore[union-attr]
    assert len(ring.items) == 1
    done = encryption.rotate_key(profile, Unlock())
    assert done.rekeyed == 5
    state = load_state(profile)
    assert state is not None and state.current.id != old_id and state.previous == []
    assert len(ring.items) == 1  # the old key's entry is gone
    for f in encryption.voice_files(profile):
        assert crypto.sealed_key_id(f.read_bytes()[:32]).hex() == state.current.id  # type: ignore[union-attr]
    forget_keys(profile)
    assert _voice_files(profile) == before


def test_interrupted_rotation_loses_nothing_and_a_rerun_finishes(
    profile: Profile, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _voice_files(profile)
    encryption.encrypt_profile(profile, "passphrase", PASS)
    real = encryption._rewrite
    calls = {"n": 0}

    def dies_after_two(path: Path, data: bytes) -> None:
        calls["n"] += 1
        if calls["n"] > 2:
            raise OSError(28, "No space left on device")
        real(path, data)

    monkeypatch.setattr(encryption, "_rewrite", dies_after_two)
    with pytest.raises(OSError):
        encryption.rotate_key(profile, PASS)
    monkeypatch.setattr(encryption, "_rewrite", real)
    forget_keys(profile)
    assert _voice_files(profile) == before  # mixed keys, all readable
    assert len(load_state(profile).previous) == 1  # type: ignore[union-attr]
    encryption.rotate_key(profile, PASS)
    forget_keys(profile)
    assert _voice_files(profile) == before and load_state(profile).previous == []  # type: ignore[union-attr]


def test_decrypt_restores_plain_files(profile: Profile, ring: MemoryKeyring) -> None:
    before = _voice_files(profile)
    encryption.encrypt_profile(profile, "keyring", Unlock())
    done = encryption.decrypt_profile(profile, Unlock())
    assert done.opened == 5 and load_state(profile) is None and ring.items == {}
    for rel, plain in before.items():
        assert (profile.root / rel).read_bytes() == plain


def test_new_imports_into_an_encrypted_profile_are_sealed(profile: Profile, tmp_path: Path) -> None:
    import soundfile as sf

    encryption.encrypt_profile(profile, "passphrase", PASS)
    rec = tmp_path / "happy" / "take2.wav"
    rec.parent.mkdir()
    sf.write(rec, _tone(1.3), 16000, subtype="PCM_16")
    [result] = library.import_files(profile, [rec])
    assert result.status == "imported"
    [src] = [s for s in library.list_sources(profile) if s.original_name == "take2.wav"]
    stored = library.source_path(profile, src)
    assert stored.read_bytes().startswith(crypto.MAGIC)
    assert stored.stat().st_mode & 0o222 == 0  # originals stay read-only
    assert VoiceStorage(profile, PASS).read_bytes(stored) == rec.read_bytes()


def test_cli_encrypt_rotate_decrypt(profile: Profile, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWIN_PASSPHRASE", "cli passphrase")
    res = runner.invoke(app, ["profile", "encrypt", "--profile", "me", "--passphrase", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["sealed"] == 5
    forget_keys(profile)
    res = runner.invoke(app, ["profile", "rotate-key", "--profile", "me", "--json"])
    assert res.exit_code == 0 and json.loads(res.stdout)["rekeyed"] == 5
    forget_keys(profile)
    monkeypatch.setenv("TWIN_PASSPHRASE", "not it")
    res = runner.invoke(app, ["profile", "decrypt", "--profile", "me", "--json"])
    assert res.exit_code == 2 and json.loads(res.stdout)["error"]["code"] == "wrong_key"
    monkeypatch.setenv("TWIN_PASSPHRASE", "cli passphrase")
    res = runner.invoke(app, ["profile", "decrypt", "--profile", "me", "--json"])
    assert res.exit_code == 0 and json.loads(res.stdout)["opened"] == 5


def test_speech_from_an_encrypted_voice_and_its_cache_stay_sealed(
    profile: Profile, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("piper")
    pytest.importorskip("pyworld")
    from twin.voice.synth import Synthesizer

    monkeypatch.setenv("TWIN_PASSPHRASE", PASS.passphrase or "")
    encryption.encrypt_profile(profile, "passphrase", PASS)
    forget_keys(profile)
    synth = Synthesizer(profile)
    first = synth.synthesize("Hello from a sealed voice.", voice_id=VID, engine="clone")
    assert first.engine == "clone" and first.audio[:4] == b"RIFF"
    entries = synth.cache.entries()
    assert entries and all(e.read_bytes().startswith(crypto.MAGIC) for e in entries)
    again = synth.synthesize("Hello from a sealed voice.", voice_id=VID, engine="clone")
    assert again.cache_hit and again.audio == first.audio
