"""The web UI in headless Debian chromium (Playwright driving /usr/bin/chromium; never
`playwright install`): enter the key, write a draft, speak and play it, upload a voice.
Screenshots go to test-artifacts/web/."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("/usr/bin/chromium is missing (apt-get install -y chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")

from tests.api.conftest import Env, make_env  # noqa: E402
from tests.api.live import serve  # noqa: E402

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]


@pytest.fixture
def page(twin_home: Path) -> Iterator[tuple[object, Env, str]]:
    env = make_env(twin_home)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with serve(env.client.app) as url, sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        ctx = browser.new_context(viewport={"width": 390, "height": 844})  # a phone-sized screen
        pg = ctx.new_page()
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        try:
            yield pg, env, url
        finally:
            browser.close()
        assert not errors, errors


def test_key_draft_speak_upload(page: tuple[object, Env, str], tmp_path: Path) -> None:
    pg, env, url = page
    pg.goto(url + "/")
    pg.get_by_label("Key for your profile").fill("twin_sk_wrong")
    pg.get_by_role("button", name="Use key").click()
    sync_api.expect(pg.locator("#auth-status")).to_contain_text("not accepted")
    pg.get_by_label("Key for your profile").fill(env.alice)
    pg.get_by_role("button", name="Use key").click()
    sync_api.expect(pg.locator("#auth-status")).to_have_text("Key accepted.")
    pg.screenshot(path=str(ARTIFACTS / "1-key.png"), full_page=True)

    pg.get_by_label("What should your twin write?").fill("Tell Sam yes to the hike on Saturday")
    pg.get_by_role("button", name="Write draft").click()
    sync_api.expect(pg.locator("#draft-meta")).to_contain_text("Done", timeout=30_000)
    assert pg.locator("#draft").input_value().strip()
    pg.get_by_role("button", name="Speak it").click()
    sync_api.expect(pg.locator("#speak-status")).to_have_text("Ready. Press play.", timeout=60_000)
    played = pg.evaluate("""async () => { const a = document.getElementById('speak-audio');
        await a.play(); await new Promise(r => setTimeout(r, 300)); return [a.duration, a.currentTime]; }""")
    assert played[0] > 0.2 and played[1] > 0
    assert pg.locator("#speak-download").get_attribute("download") == "twin-speech.wav"
    pg.screenshot(path=str(ARTIFACTS / "2-write.png"), full_page=True)

    pg.get_by_role("tab", name="Voice").click()
    from tests.api.conftest import speech_wav

    clip = tmp_path / "me.wav"
    clip.write_bytes(speech_wav())
    pg.get_by_label("Audio file (WAV, FLAC, OGG or MP3)").set_input_files(str(clip))
    pg.get_by_label("Emotion").select_option("happy")
    pg.get_by_role("button", name="Upload and create voice").click()
    sync_api.expect(pg.locator("#upload-status")).to_contain_text("ready", timeout=60_000)
    # The table refreshes after the status line; wait for the new row rather than racing it.
    sync_api.expect(pg.locator("#voices-table tbody tr")).to_have_count(1, timeout=30_000)
    pg.screenshot(path=str(ARTIFACTS / "3-voice.png"), full_page=True)

    pg.get_by_role("tab", name="Engines").click()
    sync_api.expect(pg.locator("#engines-table tbody tr").first).to_be_visible()
    pg.keyboard.press("ArrowLeft")
    assert pg.get_by_role("tab", name="Voice").get_attribute("aria-selected") == "true"
    pg.screenshot(path=str(ARTIFACTS / "4-engines.png"), full_page=True)
    assert os.path.getsize(ARTIFACTS / "2-write.png") > 0
