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
    tts_active = services.server.tts_engine or _synth_default(services, profile)
    loaded = _loaded_tts(services, profile)
    for capability in ("tts", "stt"):
        for name in registry.names(capability):
            out.append(
                {
                    "capability": capability,
                    "name": name,
                    "configured": capability == "tts" and name == tts_active,
                    "reachable": _module_present(capability, name),
                    "warm": name in loaded if capability == "tts" else False,
                    "detail": "",
                }
            )
    return out


def _synth_default(services: Any, profile: Profile) -> str:
    try:
        synth = services.synthesizer(profile)
    except TwinError:
        return "piper"
    for attr in ("default_engine", "engine_name", "engine"):
        value = getattr(synth, attr, None)
        if isinstance(value, str):
            return value
    return "piper"


def _loaded_tts(services: Any, profile: Profile) -> set[str]:
    synth = getattr(services, "_synths", {}).get(profile.name)
    backends = getattr(synth, "backends", None) or getattr(synth, "_backends", None) or {}
    items = backends.values() if isinstance(backends, dict) else backends
    return {
        getattr(b, "name", "") for b in items if getattr(b, "_loaded", False) or getattr(b, "loaded", False)
    }
