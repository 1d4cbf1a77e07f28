"""WritingSettings: how drafts are made for a profile, stored in <profile>/writing.json.

Shown with `twin write --settings` and changed with `twin write --set KEY=VALUE` (`--unset KEY` goes
back to the default); the API and persona chat read the same file."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from twin.errors import InvalidInput
from twin.profiles import Profile, write_text_atomic

FILE = "writing.json"


class WritingSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    exemplars: int = Field(4, ge=0, le=20, description="How many of the owner's messages to show the model.")
    max_exemplar_chars: int = Field(600, ge=50, description="Longer exemplars are cut to this length.")
    owner_name: str | None = Field(
        None, description="Name in the system prompt (default: the profile identity's first name, else 'the owner')."
    )
    style: str | None = Field(
        None, description="One line describing the owner's style (default: measured from their own messages)."
    )
    channel: Literal["auto", "chat", "email"] = Field(
        "auto", description="Write a chat message or an email; auto decides from the request."
    )
    max_tokens: int | None = Field(
        None,
        ge=1,
        le=4096,
        description="Most tokens per draft (default: fits the owner's longer messages, measured per channel).",
    )
    temperature: float = Field(0.7, ge=0.0, le=2.0, description="Sampling temperature.")
    clean: bool = Field(True, description="Strip preambles, markers, fences, trailing notes and second drafts.")
    max_prompt_chars: int = Field(8000, ge=100, description="Longest request or style reference accepted.")


def settings_path(profile: Profile) -> Path:
    return profile.root / FILE


def _invalid(exc: ValidationError, where: str) -> InvalidInput:
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or "settings"
    return InvalidInput(
        f"Invalid writing setting {field}: {first['msg']} ({where}).",
        "See the settings and their meaning with: twin write --settings",
    )


def load_writing_settings(profile: Profile | None) -> WritingSettings:
    if profile is None or not settings_path(profile).is_file():
        return WritingSettings()
    try:
        return WritingSettings.model_validate_json(settings_path(profile).read_text("utf-8"))
    except ValidationError as exc:
        raise _invalid(exc, str(settings_path(profile))) from None


def save_writing_settings(profile: Profile, settings: WritingSettings) -> None:
    write_text_atomic(settings_path(profile), settings.model_dump_json(indent=2, exclude_defaults=True) + "\n")


def _parse(assignment: str) -> tuple[str, Any]:
    key, sep, value = assignment.partition("=")
    key = key.strip().replace("-", "_")
    if not sep or key not in WritingSettings.model_fields:
        known = ", ".join(WritingSettings.model_fields)
        raise InvalidInput(f"'{assignment}' is not KEY=VALUE for a writing setting.", f"Settings: {known}.")
    value = value.strip()
    return key, None if value.lower() in ("", "none", "default") else value


def update_writing_settings(
    profile: Profile, assignments: Iterable[str] = (), unset: Iterable[str] = ()
) -> WritingSettings:
    """Apply KEY=VALUE assignments (validated like the file) and resets; saves and returns the result."""
    data = load_writing_settings(profile).model_dump(exclude_defaults=True)
    for key in unset:
        data.pop(_parse(key + "=")[0], None)
    for assignment in assignments:
        key, value = _parse(assignment)
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    try:
        settings = WritingSettings.model_validate(data)
    except ValidationError as exc:
        raise _invalid(exc, "--set") from None
    save_writing_settings(profile, settings)
    return settings


def describe(settings: WritingSettings) -> list[dict[str, Any]]:
    """Each setting with its value, default and help text (for `twin write --settings`)."""
    out = []
    for name, field in WritingSettings.model_fields.items():
        out.append(
            {
                "key": name,
                "value": getattr(settings, name),
                "default": field.default,
                "set": name in settings.model_fields_set,
                "help": field.description or "",
            }
        )
    return out
