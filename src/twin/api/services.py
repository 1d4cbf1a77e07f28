"""The API's view of the services it serves: writing (drafts), voices (library and profiles), speech
(synthesizer) and the engines behind them. Routes call only this class; it calls the stage modules,
running blocking work in threads. Tests and the benchmark can pass their own instance to build_app."""

from __future__ import annotations

import asyncio
import base64
import binascii
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from twin.api.config import ServerSettings
from twin.errors import InvalidInput, MissingDependency, NotFound, TooLarge, TwinError, Unavailable
from twin.ids import check_name
from twin.profiles import Profile
from twin.settings import Settings

MAX_REFERENCE_BYTES = 20 * 1024**2


@dataclass
class Draft:
    text: str
    model: str
    usage: dict[str, int]
    timings: dict[str, float]


@dataclass
class Speech:
    audio: bytes
    format: str
    sample_rate: int
    meta: dict[str, Any] = field(default_factory=dict)


def _unavailable(what: str, module: str, exc: ImportError) -> TwinError:
    if exc.name and exc.name.startswith("twin"):
        return Unavailable(
            f"{what} is not part of this installation ({module} is missing).",
            "Update twin to a version that includes it.",
        )
    return MissingDependency.for_extra(what, "voice" if "voice" in module else "server", exc.name or module)


def decode_reference(data: str) -> bytes:
    """Decode a base64 reference clip and check its audio header before anything decodes it."""
    if len(data) > MAX_REFERENCE_BYTES * 4 // 3 + 4:
        raise TooLarge("reference_audio is too large.", "Send a clip under 20 MiB (a few seconds is enough).")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("reference_audio is not valid base64.", "Encode the audio file's bytes as base64.") from None
    from twin.audio.probe import probe

    probe(raw)
    return raw


def check_voice_id(voice_id: str | None) -> str | None:
    """A voice id as the voice store names its folders (a safe lowercase name); None or "default" means
    the profile's default voice. Anything else (slashes, dots, ..) is refused before any lookup."""
    if voice_id in (None, "", "default"):
        return None
    return check_name(voice_id, "voice id")


class Services:
    """Default services built from the installed stage modules; engines are cached per profile."""

    def __init__(self, settings: Settings, server: ServerSettings) -> None:
        self.settings = settings
        self.server = server
        self._lock = threading.Lock()
        self._llms: dict[tuple[str, str], Any] = {}
        self._synths: dict[str, Any] = {}

    # ---- writing ---------------------------------------------------------------------------
    def llm(self, profile: Profile) -> Any:
        from twin.providers.llm import load_llm_config, open_llm

        overrides = {"backend": self.server.llm_backend or None, "model": self.server.llm_model or None}
        key = (profile.name, load_llm_config(profile, **overrides).model_dump_json())
        with self._lock:
            if key not in self._llms:
                self._llms[key] = open_llm(profile, **overrides)
            return self._llms[key]

    def _writer(self, profile: Profile) -> Any:
        try:
            from twin.writing import WritingService
        except ImportError as exc:
            raise _unavailable("Drafting", "twin.writing", exc) from None
        return WritingService(profile, llm=self.llm(profile))

    async def draft(
        self,
        profile: Profile,
        prompt: str,
        style_reference: str | None,
        max_tokens: int | None,
        temperature: float | None,
    ) -> Draft:
        final = None
        async for item in self.stream_draft(profile, prompt, style_reference, max_tokens, temperature):
            if not isinstance(item, str):
                final = item
        assert final is not None
        return final

    async def stream_draft(
        self,
        profile: Profile,
        prompt: str,
        style_reference: str | None,
        max_tokens: int | None,
        temperature: float | None,
    ) -> AsyncIterator[str | Draft]:
        """Yield text deltas (str), then one Draft."""
        writer = self._writer(profile)
        kwargs = _options(max_tokens, temperature)
        async for item in writer.stream_draft(prompt, style_reference=style_reference, **kwargs):
            if hasattr(item, "usage"):
                yield _as_draft(item)
            else:
                yield getattr(item, "text", str(item))

    async def stream_chat(
        self,
        profile: Profile,
        messages: list[dict[str, str]],
        max_tokens: int | None,
        temperature: float | None,
    ) -> AsyncIterator[str | Draft]:
        from twin.providers.llm import LLMOptions

        opts = LLMOptions(**_options(max_tokens, temperature))
        async for item in self.llm(profile).stream_chat(messages, opts):
            yield _as_draft(item) if hasattr(item, "usage") else item.text

    async def models(self, profile: Profile) -> list[str]:
        return list(await self.llm(profile).list_models())

    # ---- voices ------------------------------------------------------------------------------
    def _voices(self) -> Any:
        try:
            from twin.voice import profiles as voice_profiles
        except ImportError as exc:
            raise _unavailable("Voice profiles", "twin.voice.profiles", exc) from None
        return voice_profiles

    async def create_voice(
        self, profile: Profile, reference: Path, name: str | None, emotion: str | None
    ) -> dict[str, Any]:
        vp = self._voices()
        voice = await asyncio.to_thread(vp.create_voice, profile, name=name, reference=reference, emotion=emotion)
        return voice_dict(voice)

    async def list_voices(self, profile: Profile) -> list[dict[str, Any]]:
        return [voice_dict(v) for v in await asyncio.to_thread(self._voices().list_voices, profile)]

    async def get_voice(self, profile: Profile, voice_id: str) -> dict[str, Any]:
        return voice_dict(await asyncio.to_thread(_in_store, self._voices().get_voice, profile, voice_id))

    async def delete_voice(self, profile: Profile, voice_id: str) -> None:
        await asyncio.to_thread(_in_store, self._voices().delete_voice, profile, voice_id)

    # ---- speech ------------------------------------------------------------------------------
    def synthesizer(self, profile: Profile) -> Any:
        with self._lock:
            synth = self._synths.get(profile.name)
            if synth is None:
                try:
                    from twin.voice.synth import Synthesizer
                except ImportError as exc:
                    raise _unavailable("Speech", "twin.voice.synth", exc) from None
                synth = self._synths[profile.name] = Synthesizer(profile, self.settings)
            return synth

    async def synthesize(
        self, profile: Profile, text: str, voice_id: str | None, reference: bytes | None, emotion: str | None, fmt: str
    ) -> Speech:
        result = await self.synthesizer(profile).asynthesize(
            text,
            voice_id=voice_id,
            reference_audio=reference,
            emotion=emotion,
            fmt=fmt,
            engine=self.server.tts_engine or None,
        )
        meta = result.meta() if callable(getattr(result, "meta", None)) else {}
        return Speech(audio=result.audio, format=result.fmt, sample_rate=result.sample_rate, meta=meta)

    async def stream_speech(
        self, profile: Profile, text: str, voice_id: str | None, reference: bytes | None, emotion: str | None, fmt: str
    ) -> AsyncIterator[bytes]:
        synth = self.synthesizer(profile)
        async for chunk in synth.stream(
            text,
            voice_id=voice_id,
            reference_audio=reference,
            emotion=emotion,
            fmt=fmt,
            engine=self.server.tts_engine or None,
        ):
            yield chunk

    # ---- engines -----------------------------------------------------------------------------
    async def engines(self, profile: Profile) -> list[dict[str, Any]]:
        from twin.api.engines import list_engines

        return await list_engines(self, profile)


def _options(max_tokens: int | None, temperature: float | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if max_tokens is not None:
        out["max_tokens"] = max_tokens
    if temperature is not None:
        out["temperature"] = temperature
    return out


def _as_draft(result: Any) -> Draft:
    usage = result.usage
    prompt, completion = int(usage.prompt_tokens), int(usage.completion_tokens)
    t = result.timings
    timings = {k: round(float(getattr(t, k)), 4) for k in ("first_token_s", "tokens_per_s", "total_s") if hasattr(t, k)}
    return Draft(
        text=result.text,
        model=str(result.model),
        usage={"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
        timings=timings,
    )


def _in_store(fn: Any, profile: Profile, voice_id: str) -> Any:
    """Call the voice store; an id it could never have issued is simply not found in this profile."""
    try:
        return fn(profile, voice_id)
    except InvalidInput:
        raise NotFound(f"No voice '{voice_id}' in this profile.", "List voices with GET /api/voice.") from None


def voice_dict(voice: Any) -> dict[str, Any]:
    data = (
        voice.to_dict()
        if hasattr(voice, "to_dict")
        else (voice.model_dump() if hasattr(voice, "model_dump") else dict(vars(voice)))
    )
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in data.items()}
