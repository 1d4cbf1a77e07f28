"""The web UI in headless Debian chromium (Playwright driving /usr/bin/chromium; never
`playwright install`): the key, a draft spoken while it streams, voices made, made default and deleted,
the emotion list from the server, and "Forget". Screenshots go to test-artifacts/web/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("/usr/bin/chromium is missing (apt-get install -y chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")

from tests.api.conftest import Env, make_env, speech_wav  # noqa: E402
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
DRAFT = "Yes to Saturday's hike. I will bring snacks and water. See you at the trailhead at eight."
expect = sync_api.expect


class Page:
    """A phone-sized page on a live server, recording page errors and failed requests."""

    def __init__(self, pg: Any, env: Env, url: str) -> None:
        self.pg, self.env, self.url = pg, env, url
        self.errors: list[str] = []
        self.failed: list[str] = []
        pg.on("pageerror", lambda e: self.errors.append(str(e)))
        pg.on("response", lambda r: r.status >= 400 and self.failed.append(f"{r.status} {r.url}"))
        pg.on("dialog", lambda d: d.accept())

    def use_key(self, key: str) -> None:
        self.pg.get_by_label("Key for your profile").fill(key)
        self.pg.get_by_role("button", name="Use key").click()

    def shot(self, name: str) -> None:
        self.pg.screenshot(path=str(ARTIFACTS / name), full_page=True)

    def playback(self) -> dict[str, Any]:
        return self.pg.evaluate("() => ({...speechPlayback})")

    def upload(self, tmp_path: Path, name: str, emotion: str) -> None:
        clip = tmp_path / f"{name}.wav"
        clip.write_bytes(speech_wav())
        self.pg.get_by_label("Audio file (WAV, FLAC, OGG or MP3)").set_input_files(str(clip))
        self.pg.get_by_label("Emotion").select_option(emotion)
        self.pg.get_by_label("Voice name (optional)").fill(name)
        self.pg.get_by_role("button", name="Upload and create voice").click()
        expect(self.pg.locator("#upload-status")).to_contain_text(f"Voice {name} ready", timeout=60_000)


@pytest.fixture
def page(twin_home: Path) -> Iterator[Page]:
    env = make_env(twin_home)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with serve(env.client.app) as url, sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        ctx = browser.new_context(viewport={"width": 390, "height": 844})
        page = Page(ctx.new_page(), env, url)
        try:
            yield page
        finally:
            browser.close()
        assert not page.errors, page.errors


def test_key_errors_clear_and_draft_speaks_while_streaming(page: Page) -> None:
    pg = page.pg
    pg.goto(page.url + "/")
    # Before any key: trying to write shows what is missing, in red.
    pg.get_by_label("What should your twin write?").fill("Tell Sam yes to the hike on Saturday")
    pg.get_by_role("button", name="Write draft").click()
    expect(pg.locator("#draft-meta.error")).to_be_visible()
    page.use_key("twin_sk_wrong")
    expect(pg.locator("#auth-status")).to_contain_text("not accepted")
    page.use_key(page.env.alice)
    expect(pg.locator("#auth-status")).to_have_text("Key accepted.")
    expect(pg.locator("#draft-meta")).to_have_text("")  # the key error went away with the accepted key
    assert pg.locator(".error").count() == 0
    page.shot("1-key.png")

    pg.get_by_role("button", name="Write draft").click()
    expect(pg.locator("#draft-meta")).to_contain_text("Done", timeout=30_000)
    pg.locator("#draft").fill(DRAFT)  # three sentences: the stream sends them one by one
    assert pg.locator("#speak-voice option").all_inner_texts() == ["Base voice (no voice of yours yet)"]
    pg.get_by_role("button", name="Speak it").click()
    expect(pg.locator("#speak-status")).to_contain_text("Spoken in the base voice", timeout=60_000)
    wav = page.playback()
    # Sound was queued from the first piece of the stream, before the rest had arrived.
    assert wav["mode"] == "webaudio" and wav["startedAtChunk"] == 1 and wav["chunks"] >= 3, wav
    assert wav["scheduledS"] > 3.0
    assert pg.locator("#speak-download").get_attribute("download") == "twin-speech.wav"
    duration = pg.evaluate("""async () => { const a = document.getElementById('speak-audio');
        await new Promise(r => a.readyState >= 1 ? r() : a.addEventListener('loadedmetadata', r, {once: true}));
        return a.duration; }""")
    assert abs(duration - wav["scheduledS"]) < 0.1  # the saved file is the whole stream, sizes patched in

    pg.get_by_label("Format").select_option("mp3")
    pg.locator("#draft").fill(DRAFT + " One more sentence for the mp3.")
    pg.get_by_role("button", name="Speak it").click()
    expect(pg.locator("#speak-status")).to_contain_text("Spoken in", timeout=60_000)
    mp3 = page.playback()
    assert mp3["mode"] == "mse" and mp3["startedAtChunk"] == 1 and mp3["chunks"] >= 2, mp3
    played = pg.evaluate("""async () => { const a = document.getElementById('speak-audio');
        await new Promise(r => setTimeout(r, 400)); return [a.duration, a.currentTime]; }""")
    assert played[0] > 3.0 and played[1] > 0
    page.shot("2-write.png")
    icon = pg.request.get(page.url + "/favicon.ico")
    assert icon.status == 200 and b"<svg" in icon.body()
    assert page.failed == ["401 " + page.url + "/api/engines"], page.failed  # only the wrong key


def test_voices_default_delete_emotions_and_forget(page: Page, tmp_path: Path) -> None:
    pg = page.pg
    pg.goto(page.url + "/")
    page.use_key(page.env.alice)
    expect(pg.locator("#auth-status")).to_have_text("Key accepted.")
    pg.get_by_role("tab", name="Voice").click()
    expect(pg.locator("#upload-emotion option[value=whispered]")).to_have_count(1)  # loaded from the server
    emotions = pg.locator("#upload-emotion option").all_inner_texts()
    assert emotions[0] == "neutral" and {"surprised", "whispered", "authoritative", "tired", "playful"} <= set(emotions)
    assert "excited" not in emotions and "calm" not in emotions
    expect(pg.locator("#voices-empty")).to_be_visible()

    page.upload(tmp_path, "first", "happy")
    expect(pg.locator("#upload-status")).to_contain_text("It is your default voice.")
    page.upload(tmp_path, "second", "neutral")
    rows = pg.locator("#voices-table tbody tr")
    expect(rows).to_have_count(2, timeout=30_000)
    expect(rows.nth(0)).to_contain_text("default")
    expect(rows.nth(0)).to_contain_text("Speaks: happy.")
    expect(rows.nth(0)).to_contain_text("Not recorded yet: neutral, sad, angry and 5 more.")
    expect(rows.nth(0)).to_contain_text("Not trained yet")
    assert "Readiness" not in pg.locator("#voices-table").inner_text()
    assert pg.locator("#test-voice option").all_inner_texts() == [
        "Your default voice (first)",
        "first (default)",
        "second",
        "Base voice (not yours)",
    ]
    page.shot("3-voices.png")

    pg.get_by_role("button", name="Make second the default voice").click()
    expect(pg.locator("#voices-status")).to_have_text("second is now the default voice.")
    expect(rows.nth(1)).to_contain_text("default")
    expect(pg.locator("#test-voice option").first).to_have_text("Your default voice (second)")
    pg.get_by_role("button", name="Synthesize").click()
    expect(pg.locator("#test-status")).to_contain_text("Spoken in your voice “second”", timeout=60_000)

    pg.get_by_role("button", name="Delete voice second").click()
    expect(pg.locator("#voices-status")).to_have_text("Deleted second. first is now the default voice.")
    expect(rows).to_have_count(1)
    expect(rows.nth(0)).to_contain_text("default")
    page.shot("4-deleted.png")

    pg.get_by_role("button", name="Forget").click()
    expect(pg.locator("#auth-status")).to_have_text("Key forgotten.")
    expect(rows).to_have_count(0)
    assert pg.locator("#test-voice option").all_inner_texts() == ["Base voice (no voice of yours yet)"]
    assert pg.locator("#upload-emotion option").all_inner_texts() == ["neutral"]
    assert pg.locator("#test-audio").get_attribute("src") is None
    page.shot("5-forgotten.png")

    pg.get_by_role("tab", name="Engines").click()
    expect(pg.locator("#engines-status.error")).to_contain_text("Enter your API key")
    pg.keyboard.press("ArrowLeft")
    assert pg.get_by_role("tab", name="Voice").get_attribute("aria-selected") == "true"
