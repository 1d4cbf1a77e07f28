"""The profile's voices for the API: the voice library's own VoiceProfile records."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from twin.api.services.base import ServicesBase
from twin.errors import InvalidInput, NotFound
from twin.profiles import Profile
from twin.voice import profiles as voice_profiles
from twin.voice.consent import ConsentRequest
from twin.voice.profiles import VoiceProfile

T = TypeVar("T")


def _in_store(fn: Callable[[Profile, str], T], profile: Profile, voice_id: str) -> T:
    """Call the voice store; an id it could never have issued is simply not found in this profile."""
    try:
        return fn(profile, voice_id)
    except InvalidInput:
        raise NotFound(f"No voice '{voice_id}' in this profile.", "List voices with GET /api/voice.") from None


class VoiceServices(ServicesBase):
    async def create_voice(
        self,
        profile: Profile,
        reference: Path,
        name: str | None,
        emotion: str | None,
        consent: ConsentRequest | None = None,
    ) -> VoiceProfile:
        """A voice from an uploaded reference; one that is not the owner's needs `consent`."""
        return await asyncio.to_thread(
            voice_profiles.create_voice, profile, name=name, reference=reference, emotion=emotion, consent=consent
        )

    async def list_voices(self, profile: Profile) -> list[VoiceProfile]:
        return await asyncio.to_thread(voice_profiles.list_voices, profile)

    async def get_voice(self, profile: Profile, voice_id: str) -> VoiceProfile:
        return await asyncio.to_thread(_in_store, voice_profiles.get_voice, profile, voice_id)

    async def delete_voice(self, profile: Profile, voice_id: str) -> None:
        await asyncio.to_thread(_in_store, voice_profiles.delete_voice, profile, voice_id)
