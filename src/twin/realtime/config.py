"""How the voice loop listens, decides turns, rejects its own echo and speaks: `<profile>/realtime.json`
(every field optional), read once per session. Transport limits live in twin.realtime.limits."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from twin.errors import InvalidInput
from twin.profiles import Profile, write_text_atomic


class EchoConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(True, description="Compare mic input with the audio sent before calling it speech.")
    min_delay_ms: float = Field(0, ge=0, le=2000, description="Shortest speaker-to-mic delay searched.")
    max_delay_ms: float = Field(600, ge=0, le=3000, description="Longest speaker-to-mic delay searched.")
    window_ms: float = Field(400, ge=100, le=2000, description="Mic audio compared at each check.")
    threshold: float = Field(
        0.7, gt=0, lt=1, description="Spectral correlation with the sent audio above which mic input is echo."
    )
    tail_ms: float = Field(400, ge=0, le=3000, description="Echo can still arrive this long after playback ends.")


class RealtimeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    vad: str = Field("silero", description="VAD backend (silero, or energy where silero is missing).")
    vad_threshold: float = Field(0.5, gt=0, lt=1, description="Speech probability that counts as speech.")
    min_speech_s: float = Field(0.2, ge=0.03, le=2, description="Least speech that starts a turn or a barge-in.")
    min_silence_s: float = Field(0.12, ge=0.03, le=2, description="Silence reported as a pause (speech_stopped).")
    end_of_turn_s: float = Field(0.5, ge=0.1, le=5, description="Silence that ends the user's turn (auto mode).")
    pre_roll_s: float = Field(0.3, ge=0, le=1, description="Audio kept from before the detected speech start.")
    max_utterance_s: float = Field(30, ge=2, le=120, description="A turn is ended when the user speaks this long.")
    stt: str = Field("faster_whisper", description="STT backend.")
    stt_model: str = Field("auto", description="Whisper model: auto, base, tiny.en or a local folder.")
    language: str | None = Field("en", description="Spoken language (ISO 639-1); None detects it.")
    partial_every_s: float = Field(0.6, ge=0.1, le=5, description="How often partial transcripts are made.")
    voice_id: str | None = Field(None, description="Voice that speaks the replies (None: the profile's default).")
    tts_engine: str | None = Field(None, description="TTS engine (None: the voice's or the profile's).")
    max_tokens: int = Field(200, ge=1, le=2048, description="Longest reply, in tokens.")
    memory: bool = Field(True, description="Recall and remember like a typed chat.")
    echo: EchoConfig = Field(default_factory=EchoConfig)
    mic_queue_s: float = Field(2.0, ge=0.2, le=30, description="Mic audio buffered before the oldest is dropped.")
    audio_queue: int = Field(4, ge=1, le=64, description="Clauses of speech queued before synthesis waits.")
    text_queue: int = Field(64, ge=1, le=4096, description="Reply pieces queued before generation waits.")


def load_realtime_config(profile: Profile | None = None, **overrides: object) -> RealtimeConfig:
    """realtime.json of the profile (when there is one), then the non-None `overrides`."""
    data: dict[str, object] = {}
    path = profile.root / "realtime.json" if profile is not None else None
    try:
        if path is not None and path.is_file():
            data = RealtimeConfig.model_validate_json(path.read_text("utf-8")).model_dump(exclude_unset=True)
        data.update({k: v for k, v in overrides.items() if v is not None})
        return RealtimeConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "file"
        raise InvalidInput(
            f"The voice loop settings are not valid: {where}: {first['msg']}.",
            "Fix or delete realtime.json in the profile folder (every field is optional).",
        ) from None


def save_realtime_config(profile: Profile, config: RealtimeConfig) -> None:
    write_text_atomic(profile.root / "realtime.json", config.model_dump_json(indent=2, exclude_defaults=True))
