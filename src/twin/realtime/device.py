"""The terminal's microphone and speaker through sounddevice (PortAudio), for `twin talk`.

Capture runs in PortAudio's thread and hands 20 ms PCM16 blocks to a callback; playback pulls from a
queue of PCM16 bytes in the output callback, so `clear()` silences the speaker within one block."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from types import ModuleType
from typing import Any

from twin.errors import MissingDependency, Unavailable

BLOCK_S = 0.02


def sounddevice() -> ModuleType:
    try:
        import sounddevice as sd
    except ImportError:
        raise MissingDependency.for_extra("Talking through the microphone", "talk", "sounddevice") from None
    except OSError:  # the module is there, the PortAudio library is not
        raise MissingDependency(
            "Talking through the microphone needs the PortAudio library, which is not installed.",
            "Install it (apt-get install libportaudio2 / brew install portaudio), or talk from a file: "
            "twin talk --input question.wav --output reply.wav",
        ) from None
    return sd


class SoundDevice:
    def __init__(self, sample_rate: int = 16000, input_device: Any = None, output_device: Any = None) -> None:
        self.sample_rate = sample_rate
        self._sd = sounddevice()
        self._input_device, self._output_device = input_device, output_device
        self._queue: deque[bytes] = deque()
        self._partial = b""
        self._played = 0
        self._lock = threading.Lock()
        self._streams: list[Any] = []

    def start(self, on_mic: Callable[[bytes], None]) -> None:
        block = int(self.sample_rate * BLOCK_S)

        def captured(data: Any, frames: int, time: Any, status: Any) -> None:
            on_mic(bytes(data))

        try:
            mic = self._sd.RawInputStream(
                samplerate=self.sample_rate, blocksize=block, channels=1, dtype="int16",
                device=self._input_device, callback=captured,
            )  # fmt: skip
            speaker = self._sd.RawOutputStream(
                samplerate=self.sample_rate, blocksize=block, channels=1, dtype="int16",
                device=self._output_device, callback=self._fill,
            )  # fmt: skip
        except Exception as exc:  # PortAudio raises its own error types for missing or busy devices
            raise Unavailable(
                f"The audio device could not be opened ({exc}).",
                "Check that a microphone and speakers are connected (python -m sounddevice lists them).",
            ) from None
        self._streams = [mic, speaker]
        for stream in self._streams:
            stream.start()

    def _fill(self, out: Any, frames: int, time: Any, status: Any) -> None:
        need = frames * 2
        chunk = bytearray()
        with self._lock:
            while len(chunk) < need and (self._partial or self._queue):
                if not self._partial:
                    self._partial = self._queue.popleft()
                take = min(need - len(chunk), len(self._partial))
                chunk += self._partial[:take]
                self._partial = self._partial[take:]
            self._played += len(chunk) // 2
        out[:] = bytes(chunk) + b"\x00" * (need - len(chunk))

    def play(self, pcm: bytes) -> None:
        with self._lock:
            self._queue.append(pcm)

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()
            self._partial = b""
            self._played = 0

    def played_ms(self) -> float:
        with self._lock:
            return self._played / self.sample_rate * 1000

    def close(self) -> None:
        for stream in self._streams:
            stream.stop()
            stream.close()
        self._streams = []
