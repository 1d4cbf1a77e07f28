"""Engine status for the Engines tab: for every registered LLM, TTS and STT backend, whether this profile
uses it, whether it is installed, whether it is loaded (warm) and, for engines reached over HTTP, what was
actually probed (URL, outcome, latency). An installed module is never reported as "reachable"."""

from __future__ import annotations

import asyncio
import time
from typing import Literal, Protocol, runtime_checkable

import httpx

from twin.api.schemas import EngineStatus, Probe
from twin.api.services.base import ServicesBase
from twin.errors import TwinError
from twin.profiles import Profile
from twin.providers import registry
from twin.providers.llm import LLMConfig, load_llm_config
from twin.voice.synth.config import EXTERNAL_ENGINES
from twin.voice.synth.engine_loop import get_backend

_CONNECT_TIMEOUT_S = 1.0
_READ_TIMEOUT_S = 2.0
# The optional extra that installs an in-process backend, for the "not installed" hint.
_EXTRAS = {"llamacpp": "llm", "piper": "piper", "clone": "piper", "faster_whisper": "voice"}
_HTTP_LLMS = ("ollama", "openai")


@runtime_checkable
class _RemoteEngine(Protocol):
    """A backend that talks HTTP to an engine server (the TTS HTTP backends)."""

    base_url: str
    health_path: str


async def probe_http(url: str, headers: dict[str, str] | None = None) -> Probe:
    """GET `url` once with short timeouts and report what happened."""
    start = time.perf_counter()
    timeout = httpx.Timeout(_READ_TIMEOUT_S, connect=_CONNECT_TIMEOUT_S)
    try:
        async with httpx.AsyncClient(timeout=timeout, trust_env=False, headers=headers or {}) as client:
            resp = await client.get(url)
        result, ok = f"HTTP {resp.status_code}", resp.status_code < 400
    except httpx.ConnectError:
        result, ok = "connection refused or host unreachable", False
    except httpx.TimeoutException:
        result, ok = f"no answer within {_CONNECT_TIMEOUT_S + _READ_TIMEOUT_S:g} s", False
    except httpx.HTTPError as exc:
        result, ok = f"failed: {type(exc).__name__}", False
    latency = round((time.perf_counter() - start) * 1000, 1)
    return Probe(target=url, method="GET", ok=ok, result=result, latency_ms=latency)


def _module_probe(name: str, installed: bool) -> Probe:
    extra = _EXTRAS.get(name)
    missing = f"not installed: pip install 'twin[{extra}]'" if extra else "not installed"
    return Probe(target="in-process", method="import check", ok=installed, result="installed" if installed else missing)


def _http_status(capability: Literal["llm", "tts"], name: str, configured: bool, probe: Probe) -> EngineStatus:
    reachable = probe.result.startswith("HTTP ")
    return EngineStatus(
        capability=capability,
        name=name,
        kind="http",
        configured=configured,
        installed=True,
        reachable=reachable,
        warm=False,
        probe=probe,
    )


def _llm_probe_url(cfg: LLMConfig, name: str) -> tuple[str, dict[str, str]]:
    if name == "ollama":
        return cfg.ollama_url.rstrip("/") + "/api/tags", {}
    headers = {"Authorization": f"Bearer {cfg.api_key}"} if cfg.api_key else {}
    return cfg.openai_base_url.rstrip("/") + "/models", headers


class EngineServices(ServicesBase):
    async def engines(self, profile: Profile) -> list[EngineStatus]:
        llm, tts = await asyncio.gather(self._llm_engines(profile), self._tts_engines(profile))
        stt = [
            EngineStatus(
                capability="stt",
                name=name,
                kind="in_process",
                configured=False,
                installed=installed,
                reachable=None,
                warm=False,
                probe=_module_probe(name, installed),
            )
            for name, installed in registry.available("stt").items()
        ]
        return [*llm, *tts, *stt]

    async def _llm_engines(self, profile: Profile) -> list[EngineStatus]:
        cfg = load_llm_config(profile, **self._llm_overrides())
        available = registry.available("llm")
        http = [n for n in available if n in _HTTP_LLMS]
        probes = await asyncio.gather(*(probe_http(*_llm_probe_url(cfg, n)) for n in http))
        out = [_http_status("llm", n, n == cfg.backend, p) for n, p in zip(http, probes, strict=True)]
        for name, installed in available.items():
            if name in _HTTP_LLMS:
                continue
            configured = name == cfg.backend
            out.append(
                EngineStatus(
                    capability="llm",
                    name=name,
                    kind="in_process",
                    configured=configured,
                    installed=installed,
                    reachable=None,
                    warm=configured and self.llm(profile).loaded,
                    probe=_module_probe(name, installed),
                )
            )
        return sorted(out, key=lambda e: e.name)

    async def _tts_engines(self, profile: Profile) -> list[EngineStatus]:
        try:
            synth = self.synthesizer(profile)
            chain = {entry["engine"]: entry for entry in synth.engines_status()}
        except TwinError as exc:  # a broken tts.json: say so on every TTS row instead of guessing
            detail = exc.message.replace(str(profile.root) + "/", "")  # the profile's own path, not the server's
            return [_tts_unprobed(name, installed, detail) for name, installed in _tts_available()]
        return list(
            await asyncio.gather(
                *(
                    self._tts_engine(name, installed, synth.config.kwargs_for(name), chain.get(name))
                    for name, installed in _tts_available()
                )
            )
        )

    @staticmethod
    async def _tts_engine(
        name: str, installed: bool, settings: dict[str, object], entry: dict[str, object] | None
    ) -> EngineStatus:
        backend = get_backend(name, **settings)
        detail = str(entry["reason"]) if entry is not None and not entry["usable"] else ""
        if isinstance(backend, _RemoteEngine):
            probe = await probe_http(backend.base_url.rstrip("/") + backend.health_path)
            return _http_status("tts", name, entry is not None, probe).model_copy(update={"detail": detail})
        return EngineStatus(
            capability="tts",
            name=name,
            kind="in_process",
            configured=entry is not None,
            installed=installed,
            reachable=None,
            warm=backend.loaded,
            probe=_module_probe(name, installed),
            detail=detail,
        )


def _tts_unprobed(name: str, installed: bool, detail: str) -> EngineStatus:
    return EngineStatus(
        capability="tts",
        name=name,
        kind="http" if name in EXTERNAL_ENGINES else "in_process",
        configured=False,
        installed=installed,
        reachable=None,
        warm=False,
        probe=Probe(target="voice/tts.json", method="read settings", ok=False, result="not probed: invalid settings"),
        detail=detail,
    )


def _tts_available() -> list[tuple[str, bool]]:
    return list(registry.available("tts").items())
