"""What every feature's services share: settings, the server settings, and the engines they keep warm
per profile (closed by the app's lifespan)."""

from __future__ import annotations

import threading

from twin.api.config import ServerSettings
from twin.api.services.admission import Gate
from twin.profiles import Profile
from twin.providers.llm import LLM, load_llm_config, open_llm
from twin.settings import Settings
from twin.voice.consent import Consent
from twin.voice.synth import Synthesizer


class ServicesBase:
    def __init__(self, settings: Settings, server: ServerSettings) -> None:
        self.settings = settings
        self.server = server
        self._lock = threading.Lock()
        self._llms: dict[tuple[str, str], LLM] = {}
        self._synths: dict[str, Synthesizer] = {}
        self._consents: dict[str, Consent] = {}  # reference clip digest -> consent decision
        self.synthesis_gate = Gate(
            "speech", server.max_concurrent_synthesis, server.max_queued_synthesis, server.queue_wait_s
        )
        self.generation_gate = Gate(
            "generation", server.max_concurrent_generation, server.max_queued_generation, server.queue_wait_s
        )

    def _llm_overrides(self) -> dict[str, str | None]:
        return {"backend": self.server.llm_backend or None, "model": self.server.llm_model or None}

    def llm(self, profile: Profile) -> LLM:
        """The profile's configured LLM, built once and kept for later requests."""
        overrides = self._llm_overrides()
        key = (str(profile.root), load_llm_config(profile, **overrides).model_dump_json())
        with self._lock:
            if key not in self._llms:
                self._llms[key] = open_llm(profile, **overrides)
            return self._llms[key]

    def synthesizer(self, profile: Profile) -> Synthesizer:
        """The profile's synthesizer (its tts.json is read once, when first used)."""
        with self._lock:
            synth = self._synths.get(str(profile.root))
            if synth is None:
                synth = self._synths[str(profile.root)] = Synthesizer(profile, self.settings)
            return synth

    async def aclose(self) -> None:
        """Release the engines' connections (the app's lifespan calls this on shutdown)."""
        with self._lock:
            llms, self._llms = list(self._llms.values()), {}
            self._synths = {}
        for llm in llms:
            await llm.aclose()
