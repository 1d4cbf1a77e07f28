"""Voice-library configuration: every preparation step's parameters, with help text.

Stored per profile in <profile>/voice/config.json (optional; defaults apply when absent). Unknown keys are
rejected so a typo never silently falls back to a default."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from twin.audio.probe import AudioLimits
from twin.errors import InvalidInput
from twin.profiles import Profile, write_text_atomic

DEFAULT_EMOTIONS = [
    "neutral",
    "happy",
    "sad",
    "angry",
    "surprised",
    "whispered",
    "authoritative",
    "tired",
    "playful",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoudnessConfig(_Strict):
    enabled: bool = Field(True, description="Normalize loudness (EBU R128 / ITU-R BS.1770).")
    target_lufs: float = Field(-23.0, ge=-40, le=-5, description="Integrated loudness target in LUFS.")
    peak_dbfs: float = Field(-1.0, ge=-20, le=0, description="Sample peak limit after gain, in dBFS.")


class DenoiseConfig(_Strict):
    enabled: bool = Field(False, description="Run the denoiser before VAD (off by default: it can color a voice).")
    backend: str = Field("rnnoise", description="Denoise backend name.")


class VADConfig(_Strict):
    backend: str = Field("silero", description="VAD backend name (silero, energy).")
    threshold: float = Field(0.5, gt=0, lt=1, description="Speech probability threshold.")
    min_speech_s: float = Field(0.2, ge=0, description="Speech bursts shorter than this are ignored.")
    min_silence_s: float = Field(0.12, ge=0, description="Gaps shorter than this do not split speech.")
    pad_s: float = Field(0.05, ge=0, description="Padding kept around speech regions.")


class SilenceConfig(_Strict):
    max_pause_s: float = Field(
        0.5, gt=0, description="Pauses between (padded) speech regions longer than this are shortened to this length."
    )
    edge_s: float = Field(0.15, ge=0, description="Silence kept before the first and after the last word.")
    fade_s: float = Field(0.01, ge=0, description="Crossfade used where a pause is cut.")


class BreathConfig(_Strict):
    enabled: bool = Field(True, description="Detect and attenuate breaths between phrases.")
    attenuation_db: float = Field(-24.0, le=0, description="Gain applied to detected breaths, in dB.")
    min_s: float = Field(0.08, ge=0, description="Shortest breath detected, in seconds.")
    max_s: float = Field(1.2, gt=0, description="Longest breath detected, in seconds.")
    above_floor_db: float = Field(8.0, ge=0, description="A breath is at least this far above the noise floor.")
    below_speech_db: float = Field(6.0, ge=0, description="A breath is at least this far below the speech level.")
    min_flatness: float = Field(
        0.1, ge=0, le=1, description="Breaths are noise-like: lowest spectral flatness (300-8000 Hz)."
    )


class ClippingConfig(_Strict):
    threshold: float = Field(0.99, gt=0, le=1, description="|sample| at or above this counts as clipped.")
    max_ratio: float = Field(0.001, ge=0, le=1, description="Clipped-sample ratio above which a clip is penalized.")


class SegmentConfig(_Strict):
    min_s: float = Field(2.0, gt=0, description="Shortest utterance kept, in seconds.")
    max_s: float = Field(15.0, gt=0, description="Longest utterance, in seconds.")
    target_s: float = Field(8.0, gt=0, description="Preferred length: split at the next pause after this.")
    split_pause_s: float = Field(0.25, ge=0, description="Only pauses at least this long are split points.")


class STTConfig(_Strict):
    enabled: bool = Field(True, description="Transcribe each utterance.")
    backend: str = Field("faster_whisper", description="STT backend name.")
    model: str = Field("auto", description="'base', 'tiny.en', 'auto' or a local CTranslate2 model folder.")
    language: str | None = Field("en", description="Spoken language; None to detect.")


class QualityConfig(_Strict):
    threshold: float = Field(0.6, ge=0, le=1, description="Clips scoring below this are kept but excluded.")
    good_snr_db: float = Field(30.0, description="SNR at or above this scores 1.")
    bad_snr_db: float = Field(8.0, description="SNR at or below this scores 0.")
    min_speech_ratio: float = Field(0.5, ge=0, le=1, description="Speech ratio at or above this scores 1.")


class PrepareConfig(_Strict):
    sample_rate: int = Field(22050, description="Sample rate of prepared clips, in Hz.")
    min_source_rate: int = Field(16000, description="Originals below this rate get a warning.")
    loudness: LoudnessConfig = Field(default_factory=LoudnessConfig)
    denoise: DenoiseConfig = Field(default_factory=DenoiseConfig)
    vad: VADConfig = Field(default_factory=VADConfig)
    silence: SilenceConfig = Field(default_factory=SilenceConfig)
    breath: BreathConfig = Field(default_factory=BreathConfig)
    clipping: ClippingConfig = Field(default_factory=ClippingConfig)
    segment: SegmentConfig = Field(default_factory=SegmentConfig)
    stt: STTConfig = Field(default_factory=STTConfig)
    quality: QualityConfig = Field(default_factory=QualityConfig)


class ReferenceConfig(_Strict):
    min_s: float = Field(10.0, gt=0, description="Shortest reference assembled from the library, in seconds.")
    max_s: float = Field(
        30.0,
        gt=0,
        description="Longest reference, in seconds; of a longer recording the part with most speech is used.",
    )
    max_input_s: float = Field(
        600.0, gt=0, description="Longest recording accepted as a reference, in seconds; longer ones are refused."
    )
    cache_max_mb: float = Field(
        64.0, ge=0, description="Size bound of the cache of trimmed one-off reference clips (voice/cache/refs), in MB."
    )
    candidates: int = Field(12, ge=1, description="Best clips per emotion considered (embedded) for a reference.")
    speaker_backend: str = Field("resemblyzer", description="Speaker-embedding backend name.")


class TrainConfig(_Strict):
    """What `twin voice train` requires of a new converter before making it the voice's active one."""

    max_wer_increase: float = Field(
        0.10, ge=0, le=1, description="Most the word error rate may rise over the current voice's (0.10 = 10 points)."
    )
    max_similarity_drop: float = Field(
        0.02, ge=0, le=1, description="Most the speaker similarity to your held-out clips may fall."
    )
    min_similarity: float = Field(
        0.75, ge=0, le=1, description="Similarity under which the report says the voice is not yet close to yours."
    )
    stt_model: str = Field(
        "auto", description="Whisper model measuring intelligibility: 'auto', 'base', 'tiny.en' or a local folder."
    )


class VoiceConfig(_Strict):
    emotions: list[str] = Field(
        default_factory=lambda: list(DEFAULT_EMOTIONS), description="Emotion tags recognised from folder names."
    )
    target_minutes: float = Field(60.0, gt=0, description="Clean minutes wanted in the whole library.")
    target_minutes_per_emotion: float = Field(5.0, gt=0, description="Clean minutes wanted per emotion.")
    limits: AudioLimits = Field(default_factory=AudioLimits)
    prepare: PrepareConfig = Field(default_factory=PrepareConfig)
    reference: ReferenceConfig = Field(default_factory=ReferenceConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)


def config_path(profile: Profile) -> Path:
    return profile.voice_dir / "config.json"


def load_voice_config(profile: Profile) -> VoiceConfig:
    """The profile's voice config (defaults when the file is absent)."""
    path = config_path(profile)
    if not path.is_file():
        return VoiceConfig()
    try:
        return VoiceConfig.model_validate_json(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise InvalidInput(
            f"{path} is not a valid voice config: {exc}", "Fix or delete the file to use the defaults."
        ) from None


def save_voice_config(profile: Profile, config: VoiceConfig) -> None:
    write_text_atomic(config_path(profile), config.model_dump_json(indent=2))
