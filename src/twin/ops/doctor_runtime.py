"""The doctor's checks that exercise the runtime: configured engines (reachable, and only on loopback) and
the egress self-check (a sample draft and a sample synthesis run under strace, in a throwaway profile)."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from twin.errors import TwinError
from twin.ops.doctor import Check, _is_loopback
from twin.ops.egress import is_loopback
from twin.profiles import Profile, ProfileManager
from twin.settings import Settings

SAMPLE_PROMPT = "Tell Sam the meeting moved to Friday."
SAMPLE_SPEECH = "Hello, this is a short test of my voice."


def _probe(url: str) -> str | None:
    """None when `url` answers (any HTTP status), else why not. Only ever called for loopback URLs."""
    try:
        with httpx.Client(timeout=httpx.Timeout(2.0, connect=1.0), trust_env=False) as client:
            client.get(url)
        return None
    except httpx.HTTPError as exc:
        return type(exc).__name__


def _url_check(name: str, what: str, url: str) -> Check:
    host = urlsplit(url).hostname or ""
    if not (is_loopback(host) or _is_loopback(host)):
        return Check(
            name,
            "fail",
            f"{what} points at {host}, outside this machine: drafts or speech would leave it.",
            "Run the engine on this machine and use a 127.0.0.1 URL.",
        )
    problem = _probe(url)
    if problem:
        return Check(
            name,
            "warn",
            f"{what} at {url} does not answer ({problem}).",
            "Start it (twin service install) or configure another engine.",
        )
    return Check(name, "ok", f"{what} answers at {url}")


def _llm_checks(profile: Profile) -> list[Check]:
    from twin.providers.llm import load_llm_config

    try:
        cfg = load_llm_config(profile)
    except TwinError as exc:
        return [Check(f"llm:{profile.name}", "fail", exc.message, exc.hint)]
    if cfg.backend == "ollama":
        return [_url_check(f"llm:{profile.name}", "Ollama", cfg.ollama_url.rstrip("/") + "/api/tags")]
    if cfg.backend == "openai":
        return [
            _url_check(f"llm:{profile.name}", "The OpenAI-compatible LLM", cfg.openai_base_url.rstrip("/") + "/models")
        ]
    from twin.providers import registry

    installed = registry.available("llm").get(cfg.backend, False)
    if installed:
        return [Check(f"llm:{profile.name}", "ok", f"{cfg.backend} (in-process) is installed")]
    return [
        Check(f"llm:{profile.name}", "fail", f"LLM backend {cfg.backend} is not installed.", "pip install 'twin[llm]'")
    ]


def _tts_checks(profile: Profile) -> list[Check]:
    from twin.providers import registry
    from twin.voice.synth.config import EXTERNAL_ENGINES, load_config
    from twin.voice.synth.engine_loop import get_backend

    try:
        config = load_config(profile)
    except TwinError as exc:
        return [Check(f"tts:{profile.name}", "fail", exc.message, exc.hint)]
    out = []
    available = registry.available("tts")
    for name in config.chain():
        if name in EXTERNAL_ENGINES:
            backend = get_backend(name, **config.kwargs_for(name))
            url = str(getattr(backend, "base_url", "")).rstrip("/") + str(getattr(backend, "health_path", "/"))
            out.append(_url_check(f"tts:{profile.name}:{name}", f"TTS engine {name}", url))
        elif not available.get(name, False):
            out.append(
                Check(f"tts:{profile.name}:{name}", "warn", f"{name} is not installed.", "pip install 'twin[piper]'")
            )
    return out or [Check(f"tts:{profile.name}", "ok", "embedded speech engines are installed")]


def check_engines(settings: Settings) -> list[Check]:
    profiles = ProfileManager(settings).list()
    if not profiles:
        return [Check("engines", "warn", "No profile yet, so no engine is configured.", "twin profile create NAME")]
    out: list[Check] = []
    for profile in profiles:
        out += _llm_checks(profile) + _tts_checks(profile)
    return out


def _child_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    src = str(Path(__file__).resolve().parents[2])  # this twin, wherever it is installed
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH", "")) if p)
    env["TWIN_HOME"] = str(home)
    env.pop("TWIN_DEFAULT_PROFILE", None)
    return env


def check_egress(_settings: Settings, timeout_s: float = 300.0) -> list[Check]:
    """A sample draft and a sample synthesis in a throwaway profile, traced with strace (native code too)."""
    from twin.ops.egress_trace import strace_usable, trace_command

    if not strace_usable():
        return [
            Check(
                "egress",
                "warn",
                "unknown: strace is not installed (or may not trace here), so native traffic cannot be watched.",
                "Install strace (apt-get install strace) and run twin doctor again.",
            )
        ]
    home = Path(tempfile.mkdtemp(prefix="twin-doctor-"))
    try:
        from twin.settings import load_settings

        ProfileManager(load_settings(home=home)).create("doctor")
        twin = [sys.executable, "-m", "twin"]
        runs = {
            "draft": [*twin, "write", SAMPLE_PROMPT, "--profile", "doctor", "--json"],
            "synthesis": [*twin, "speak", SAMPLE_SPEECH, "--profile", "doctor", "--out", str(home / "s.wav"), "--json"],
        }
        found, failed = [], []
        for what, argv in runs.items():
            report, output = trace_command(argv, env=_child_env(home), home=home, timeout=timeout_s)
            if not report.clean:
                found.append(f"{what}: {report.summary()}")
            elif report.returncode:
                failed.append(f"{what} exited {report.returncode}")
    except TwinError as exc:
        return [Check("egress", "warn", f"The egress self-check could not run: {exc.message}", exc.hint)]
    finally:
        shutil.rmtree(home, ignore_errors=True)
    if found:
        return [
            Check(
                "egress",
                "fail",
                "Traffic left this machine: " + "; ".join(found),
                "Report it; check tts.json and llm.json URLs.",
            )
        ]
    if failed:
        return [
            Check(
                "egress",
                "warn",
                "no egress seen, but " + ", ".join(failed),
                "Run the sample yourself: twin write / twin speak.",
            )
        ]
    return [Check("egress", "ok", "a sample draft and a sample synthesis made no connection beyond loopback")]
