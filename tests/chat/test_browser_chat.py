"""The Chat tab and the memory inspector in headless Debian chromium (Playwright driving
/usr/bin/chromium): chat with streaming replies, see what was remembered and why, delete it.
Screenshots go to test-artifacts/web/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("/usr/bin/chromium is missing (apt-get install -y chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")

from tests.api.live import serve  # noqa: E402

from twin.api.config import ServerSettings  # noqa: E402
from twin.api.main import build_app  # noqa: E402
from twin.keys import KeyStore  # noqa: E402
from twin.profiles import Identity, ProfileManager  # noqa: E402
from twin.settings import load_settings  # noqa: E402

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture
def page(twin_home: Path) -> Iterator[tuple[object, str, str]]:
    settings = load_settings(home=twin_home)
    ProfileManager(settings).create("alice").set_identity(Identity(names=["Alice"]))
    keys = KeyStore(settings)
    key = keys.create("alice").secret
    keys.close()
    app = build_app(settings, ServerSettings(llm_backend="fake"))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with serve(app) as url, sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        pg = browser.new_page(viewport={"width": 420, "height": 900})
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        try:
            yield pg, url, key
        finally:
            browser.close()
        assert not errors, errors


def test_chat_and_memory_inspector(page) -> None:
    pg, url, key = page
    expect = sync_api.expect
    pg.goto(url + "/")
    pg.get_by_label("Key for your profile").fill(key)
    pg.get_by_role("button", name="Use key").click()
    expect(pg.locator("#auth-status")).to_have_text("Key accepted.")
    pg.get_by_role("tab", name="Chat").click()
    expect(pg.locator("#chat-persona option")).to_have_count(1)
    pg.get_by_role("textbox", name="Message").fill("I work at Globex and I live in Leeds.")
    pg.get_by_role("button", name="Send").click()
    expect(pg.locator("#chat-status")).to_contain_text("Done", timeout=60_000)
    expect(pg.locator("#chat-log .msg.assistant .text")).to_have_text("I work at Globex and I live in Leeds.")
    expect(pg.locator("#mem-list button")).to_have_count(2, timeout=90_000)  # the first model load is slow
    pg.get_by_role("textbox", name="Message").fill("I'm at Acme now")
    pg.get_by_role("button", name="Send").click()
    expect(pg.locator("#chat-status")).to_contain_text("used", timeout=60_000)
    expect(pg.get_by_role("button", name="Alice works at Acme.")).to_have_count(1, timeout=60_000)
    pg.screenshot(path=str(ARTIFACTS / "chat-1-conversation.png"), full_page=True)

    pg.get_by_label("Show superseded").check()
    pg.get_by_role("button", name="Search").click()
    expect(pg.locator("#mem-list button.superseded")).to_have_count(1)
    pg.get_by_role("button", name="Alice works at Acme.").click()
    expect(pg.locator("#mem-why")).to_contain_text("where they work")
    expect(pg.locator("#mem-sources li")).to_have_text(["user: I'm at Acme now"])
    expect(pg.locator("#mem-history")).to_contain_text("Replaces: Alice works at Globex.")
    pg.screenshot(path=str(ARTIFACTS / "chat-2-inspector.png"), full_page=True)
    pg.get_by_role("button", name="Delete").click()
    expect(pg.locator("#mem-status")).to_have_text("Forgotten.")
    expect(pg.get_by_role("button", name="Alice works at Acme.")).to_have_count(0)
    pg.get_by_label("Search memories").fill("Leeds")
    pg.get_by_role("button", name="Search").click()
    expect(pg.locator("#mem-list button").first).to_contain_text("Leeds")
    pg.select_option("#chat-conversation", index=1)
    expect(pg.locator("#chat-log .msg")).to_have_count(4)
    pg.screenshot(path=str(ARTIFACTS / "chat-3-after-delete.png"), full_page=True)
