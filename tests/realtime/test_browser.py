"""The Voice tab in headless Debian chromium with a fake microphone playing a speech recording
(--use-file-for-fake-audio-capture): speak → partial and final transcript → the reply's text → its
audio played; then the tab barges in on itself and stops playback at once. Engines are scripted;
the browser, its AudioWorklet capture, the WebSocket and WebAudio playback are real."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("/usr/bin/chromium is missing (apt-get install -y chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")

from tests.realtime.fakes import silence, speech  # noqa: E402
from tests.realtime.test_ws import live_server  # noqa: E402

from twin.audio.encode import save_wav  # noqa: E402

pytestmark = pytest.mark.timeout(180)
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"
expect = sync_api.expect


def browser_args(capture: Path) -> list[str]:
    return [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--autoplay-policy=no-user-gesture-required",
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={capture}",
    ]  # fmt: skip


def test_voice_tab_speak_transcript_reply_audio(twin_home: Path, tmp_path: Path) -> None:
    capture = tmp_path / "question.wav"
    # one utterance, then a long silence (chromium loops the file)
    save_wav(capture, np.concatenate([silence(0.5), speech(1.5), silence(12.0)]), 48000 // 3)
    reply = "Sure, I can help with that. The shop opens at nine tomorrow, and it closes at six."
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with live_server(twin_home, reply_text=reply) as live, sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=browser_args(capture))
        errors: list[str] = []
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(live.url + "/")
            page.get_by_label("Key for your profile").fill(live.key)
            page.get_by_role("button", name="Use key").click()
            expect(page.locator("#auth-status")).to_contain_text("Key accepted")
            page.get_by_role("tab", name="Voice").click()
            page.get_by_role("button", name="Start talking").click()
            expect(page.locator("#talk-status")).to_contain_text("Listening", timeout=20_000)
            expect(page.locator("#talk-log .talk-you span").first).to_have_text("hello twin", timeout=30_000)
            expect(page.locator("#talk-log .talk-twin span").first).to_have_text(reply, timeout=30_000)
            page.wait_for_function("() => talkPlayback.clauses >= 2", timeout=30_000)
            played: dict[str, Any] = page.evaluate("() => ({...talkPlayback})")
            assert played["scheduledS"] > 2.0  # seconds of reply audio played through WebAudio
            page.screenshot(path=str(ARTIFACTS / "voice-talk.png"), full_page=True)
            page.get_by_role("button", name="Stop talking").click()
            expect(page.locator("#talk-status")).to_contain_text("Stopped")
        finally:
            browser.close()
        assert errors == []
        assert live.made and live.made[0].heard[0] == "hello twin"


def test_voice_tab_stops_playback_at_once_when_interrupted(twin_home: Path, tmp_path: Path) -> None:
    capture = tmp_path / "loop.wav"
    # speech every 5 s: the second utterance comes while the long reply is still playing
    save_wav(capture, np.concatenate([silence(0.5), speech(1.5), silence(3.0)]), 16000)
    reply = "This is a long answer that keeps going. " * 8
    with live_server(twin_home, reply_text=reply) as live, sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=browser_args(capture))
        errors: list[str] = []
        try:
            page = browser.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(live.url + "/")
            page.get_by_label("Key for your profile").fill(live.key)
            page.get_by_role("button", name="Use key").click()
            page.get_by_role("tab", name="Voice").click()
            page.get_by_role("button", name="Start talking").click()
            page.wait_for_function("() => talkPlayback.clauses >= 1", timeout=30_000)
            expect(page.locator("#talk-log .talk-twin span").first).to_contain_text("(interrupted)", timeout=30_000)
            state: dict[str, Any] = page.evaluate("() => ({stopped: talkPlayback.stopped, left: talk.sources.length})")
            assert state["stopped"] >= 1 and state["left"] == 0
            heard = page.locator("#talk-log .talk-twin span").first.inner_text()
            assert heard.startswith("This is a long answer") and len(heard) < len(reply)
        finally:
            browser.close()
        assert errors == []
        assert live.made[0].truncated  # the stored reply was cut to what was heard
