"""Shared client side of the external TTS engines reached over HTTP (httpx, async).

Errors are mapped once here: connection refused / DNS / 404 / 5xx → Unavailable (the synthesizer falls
back), read timeout → Timeout, 401/403 → Unauthorized, 400/422 → InvalidInput with the engine's own
message. Streaming replies are WAV headers followed by raw 16-bit PCM (or raw PCM alone), parsed
incrementally by PCMStream.
"""

from __future__ import annotations

import json
import struct
from collections.abc import AsyncIterator
from typing import Any

import httpx

from twin.audio.channels import to_mono
from twin.audio.pcm import from_pcm16
from twin.errors import InvalidInput, Timeout, TwinError, Unauthorized, Unavailable
from twin.providers.tts import AudioChunk, TTSBackend


def _server_message(resp: httpx.Response) -> str:
    try:
        body = resp.json()
    except (ValueError, json.JSONDecodeError):
        return resp.text[:300]
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict):
            return str(err.get("message", err))
        parts = [str(body[key]) for key in ("detail", "message", "Exception", "error") if body.get(key)]
        if parts:
            return ": ".join(parts)
    return str(body)[:300]


class PCMStream:
    """Incremental parser: optional WAV header, then little-endian int16 PCM → float32 chunks."""

    def __init__(self, sample_rate: int, header: bool = True, channels: int = 1) -> None:
        self.sample_rate, self.channels = sample_rate, channels
        self._need_header = header
        self._buf = b""

    def _parse_header(self) -> bool:
        idx = self._buf.find(b"data", 12)
        if idx < 0 or len(self._buf) < idx + 8:
            return False
        fmt = self._buf.find(b"fmt ")
        if fmt >= 0:
            self.channels, self.sample_rate = struct.unpack("<HI", self._buf[fmt + 10 : fmt + 16])
        self._buf = self._buf[idx + 8 :]
        self._need_header = False
        return True

    def feed(self, data: bytes) -> AudioChunk | None:
        self._buf += data
        if self._need_header and not self._parse_header():
            return None
        frame = 2 * self.channels
        usable = len(self._buf) - len(self._buf) % frame
        if not usable:
            return None
        pcm, self._buf = self._buf[:usable], self._buf[usable:]
        return AudioChunk(to_mono(from_pcm16(pcm, self.channels)), self.sample_rate)


class HTTPTTSBackend(TTSBackend):
    default_url = "http://127.0.0.1:8000"
    health_path = "/"
    engine_label = "TTS engine"

    def __init__(
        self,
        base_url: str | None = None,
        timeout_s: float = 120.0,
        stream: bool = False,
        api_key: str | None = None,
        **settings: Any,
    ) -> None:
        super().__init__()
        self.base_url = (base_url or self.default_url).rstrip("/")
        self.timeout_s = timeout_s
        self.stream = stream
        self.api_key = api_key
        self.settings = settings

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.base_url, timeout=httpx.Timeout(self.timeout_s, connect=5.0), headers=self._headers()
        )

    def _raise_for(self, resp: httpx.Response) -> None:
        if resp.status_code < 400:
            return
        msg = f"{self.engine_label} at {self.base_url} answered {resp.status_code}: {_server_message(resp)}"
        if resp.status_code in (401, 403):
            raise Unauthorized(msg, f"Set the right api_key for '{self.name}' in tts.json.")
        if resp.status_code in (400, 422):
            raise InvalidInput(msg, "Check the text, language and reference clip sent to the engine.")
        raise Unavailable(msg, f"Check the {self.engine_label}'s log (`twin tts-engine logs {self.name}`).")

    def _wrap(self, exc: Exception) -> TwinError:
        if isinstance(exc, httpx.TimeoutException) and not isinstance(exc, httpx.ConnectTimeout):
            return Timeout(
                f"{self.engine_label} at {self.base_url} did not answer in {self.timeout_s:g} s.",
                "Raise timeout_s in tts.json or use a shorter text.",
            )
        return Unavailable(
            f"{self.engine_label} is not reachable at {self.base_url} ({type(exc).__name__}).",
            f"Start it (`twin tts-engine start {self.name}`) or fix base_url in tts.json.",
        )

    async def _fetch(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            async with self._client() as client:
                resp = await client.request(method, path, **kwargs)
                await resp.aread()
        except httpx.HTTPError as exc:
            raise self._wrap(exc) from None
        self._raise_for(resp)
        return resp

    async def _stream_pcm(self, method: str, path: str, parser: PCMStream, **kwargs: Any) -> AsyncIterator[AudioChunk]:
        try:
            async with self._client() as client, client.stream(method, path, **kwargs) as resp:
                if resp.status_code >= 400:
                    await resp.aread()
                    self._raise_for(resp)
                async for data in resp.aiter_bytes():
                    chunk = parser.feed(data)
                    if chunk is not None and len(chunk.samples):
                        yield chunk
        except httpx.HTTPError as exc:
            raise self._wrap(exc) from None

    def _decode(self, resp: httpx.Response) -> AudioChunk:
        from twin.audio.decode import decode_bytes

        samples, sr = decode_bytes(resp.content, name=f"The {self.name} engine's reply")
        return AudioChunk(samples, sr)

    async def health(self) -> bool:
        try:
            await self._fetch("GET", self.health_path)
        except TwinError:
            return False
        return True
