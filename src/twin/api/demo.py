"""First run: a demo profile built from the samples shipped in twin/data/demo (invented messages
and a synthetic voice clip), so a newcomer sees drafting and speech end to end in minutes."""

from __future__ import annotations

import importlib.util
import logging
import shutil
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from twin.errors import TwinError
from twin.keys import CreatedKey, KeyStore
from twin.profiles import Identity, Profile, ProfileManager
from twin.settings import Settings

log = logging.getLogger("twin.demo")

DEMO_PROFILE = "demo"
DEMO_IDENTITY = Identity(names=["Alex Demo"], addresses=["alex@example.org"])


@dataclass
class DemoResult:
    profile: Profile
    key: CreatedKey
    messages: int = 0
    voice_id: str | None = None
    notes: list[str] = field(default_factory=list)


def demo_dir() -> Path:
    return Path(str(resources.files("twin.data").joinpath("demo")))


def is_first_run(settings: Settings) -> bool:
    """No profiles and no keys yet."""
    return not ProfileManager(settings).list() and not KeyStore(settings).has_any()


def create_demo(settings: Settings, name: str = DEMO_PROFILE) -> DemoResult:
    """Create the demo profile, import the sample exports, make a voice from the sample clip, pick an
    LLM that works offline, and return a new key for it. Steps that need a missing extra are noted
    and skipped; the profile and key are always made."""
    pm = ProfileManager(settings)
    profile, _created = pm.get_or_create(name)
    profile.set_identity(DEMO_IDENTITY)
    keys = KeyStore(settings)
    try:
        key = keys.create(profile.name, name="demo")
    finally:
        keys.close()
    result = DemoResult(profile=profile, key=key)
    for step in (_import_messages, _make_voice, _choose_llm):
        try:
            step(settings, result)
        except TwinError as exc:
            result.notes.append(f"{step.__name__.strip('_').replace('_', ' ')}: {exc}")
    return result


def _import_messages(settings: Settings, result: DemoResult) -> None:
    from twin.ingest.service import ingest_paths

    exports = sorted((demo_dir() / "exports").iterdir())
    report = ingest_paths(result.profile, [p for p in exports if p.is_file()], settings)
    result.messages = report.messages


def _make_voice(settings: Settings, result: DemoResult) -> None:
    from twin.voice.profiles import create_voice

    tmp = result.profile.voice_dir / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    clip = tmp / "demo-sample.wav"
    shutil.copyfile(demo_dir() / "voice" / "sample.wav", clip)
    try:
        voice = create_voice(result.profile, name="demo", reference=clip, emotion="neutral")
    finally:
        clip.unlink(missing_ok=True)
    result.voice_id = voice.id


def _choose_llm(settings: Settings, result: DemoResult) -> None:
    """The embedded model when llama-cpp-python is installed; otherwise the scripted fake model, so
    the demo still runs (the notes say how to get real drafting)."""
    from twin.providers.llm import LLMConfig, save_llm_config

    if importlib.util.find_spec("llama_cpp") is not None:
        return
    save_llm_config(result.profile, LLMConfig(backend="fake"))
    result.notes.append("drafting uses the scripted demo model; install twin[llm] for the embedded one")
