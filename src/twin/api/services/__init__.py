"""The API's view of the stages it serves, one module per feature: writing (drafts, chat), voices (the
voice library), speech (synthesis and the draft → speech pipeline) and engines (status and probes).
Each returns the stages' own types. Routes call only `Services`; tests and the benchmark can pass
their own instance to build_app."""

from __future__ import annotations

from twin.api.services.engines import EngineServices
from twin.api.services.speech import SpeechServices, check_voice_id, decode_reference
from twin.api.services.voices import VoiceServices
from twin.api.services.writing import WritingServices

__all__ = [
    "Services",
    "check_voice_id",
    "decode_reference",
]


class Services(SpeechServices, VoiceServices, EngineServices, WritingServices):
    """Every feature's services on one object (they share the settings and the warm engines)."""
