"""Status of the engines behind the API: which LLM/TTS/STT backends are registered, which one this
profile is configured to use, whether it answers, and whether it is already loaded (warm)."""

from __future__ import annotations

import asyncio
import importlib.util
from typing import Any

from twin.errors import TwinError
from twin.profiles import Profile
from twin.providers import registry

_CHECK_TIMEOUT_S = 3.0


def _module_present(capability: str, name: str) -> bool:
    target = registry._BUILTIN.get(capability, {}).get(name, "")
    module = target.partition(":")[0]
    try:
        return bool(module) and importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


async def _llm_status(services: Any, profile: Profile) -> tuple[str, bool, bool, str]:
    from twin.providers.llm import load_llm_config

    cfg = load_llm_config(profile, backend=services.server.llm_backend or None)
    try:
        llm = services.llm(profile)
        await asyncio.wait_for(llm.list_models(), _CHECK_TIMEOUT_S)
    except (TwinError, TimeoutError, OSError) as exc:
        return cfg.backend, False, False, getattr(exc, "message", None) or type(exc).__name__
    warm = bool(getattr(llm, "loaded", False) or getattr(llm, "_loaded", False) or cfg.backend != "llamacpp")
    return cfg.backend, True, warm, ""


async def list_engines(services: Any, profile: Profile) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    active_llm, ok, warm, detail = await _llm_status(services, profile)
    for name in registry.names("llm"):
        configured = name == active_llm
        out.append(
            {
                "capability": "llm",
                "name": name,
                "configured": configured,
                "reachable": ok if configured else _module_present("llm", name),
                "warm": warm if configured else False,
                "detail": detail if configured else "",
            }
        )
    tts = _tts_status(services, profile)
    for name in registry.names("tts"):
        st = tts.get(name)
        out.append(
            {
                "capability": "tts",
                "name": name,
                "configured": st is not None,
                "reachable": bool(st["usable"]) if st else _module_present("tts", name),
                "warm": bool(st and st["warm"]),
                "detail": (st or {}).get("reason", ""),
            }
        )
    for name in registry.names("stt"):
        out.append(
            {
                "capability": "stt",
                "name": name,
                "configured": False,
                "reachable": _module_present("stt", name),
                "warm": False,
                "detail": "",
            }
        )
    return out


def _tts_status(services: Any, profile: Profile) -> dict[str, dict[str, Any]]:
    """The synthesizer's engine chain for this profile: usable (not marked down) and warm (loaded)."""
    try:
        synth = services.synthesizer(profile)
        chain = synth.engines_status()
    except TwinError:
        return {}
    out = {}
    for entry in chain:
        backend = synth._backend(entry["engine"])
        warm = any(getattr(backend, attr, None) is not None for attr in ("_voice", "_model", "_session"))
        out[entry["engine"]] = {**entry, "warm": warm}
    return out
