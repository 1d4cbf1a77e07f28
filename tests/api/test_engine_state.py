"""`twin tts-engine` keeps each profile's engine pid and log files in that profile, user-only, so two
profiles never share, overwrite or stop each other's engines."""

from __future__ import annotations

import stat
import sys

from twin.profiles import ProfileManager
from twin.settings import load_settings
from twin.voice.engines import EngineManager

SLEEPER = {"command": [sys.executable, "-c", "import time; print('up', flush=True); time.sleep(60)"]}


def test_engine_state_lives_in_each_profile() -> None:
    settings = load_settings()
    pm = ProfileManager(settings)
    alice, bob = pm.create("alice"), pm.create("bob")
    a, b = EngineManager(alice, {"xtts": dict(SLEEPER)}), EngineManager(bob, {"xtts": dict(SLEEPER)})
    assert a.pid_file("xtts").parent == alice.voice_dir / "engines"
    assert b.pid_file("xtts").parent == bob.voice_dir / "engines"
    assert not (settings.home / "engines").exists()
    first = a.start("xtts", wait_s=5)
    try:
        assert first.running and not b.status("xtts").running
        second = b.start("xtts", wait_s=5)
        assert second.running and second.pid != first.pid
        assert stat.S_IMODE(a.log_file("xtts").stat().st_mode) == 0o600
        assert stat.S_IMODE(a.dir.stat().st_mode) == 0o700
        b.stop("xtts")
        assert a.status("xtts").running and a.status("xtts").pid == first.pid
    finally:
        a.stop("xtts")
        b.stop("xtts")
    assert not a.status("xtts").running and not a.pid_file("xtts").exists()
