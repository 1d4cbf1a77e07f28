"""The API reference page and the Engines tab in headless Debian chromium (Playwright driving
/usr/bin/chromium; never `playwright install`). Swagger UI comes from the server itself (no CDN), the
schema needs the key, and the Engines tab shows what was probed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("/usr/bin/chromium is missing (apt-get install -y chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")

from tests.api.conftest import Env, closed_port, make_env  # noqa: E402
from tests.api.live import serve  # noqa: E402

from twin.profiles import ProfileManager  # noqa: E402
from twin.voice.synth.config import TTSConfig, save_config  # noqa: E402

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]  # fmt: skip


@pytest.fixture
def browser_page(twin_home: Path) -> Iterator[tuple[object, Env, str, list[str]]]:
    env = make_env(twin_home)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with serve(env.client.app) as url, sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        pg = browser.new_page(viewport={"width": 1100, "height": 900})
        problems: list[str] = []
        pg.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        pg.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
        offsite: list[str] = []
        pg.on("request", lambda r: offsite.append(r.url) if not r.url.startswith((url, "data:", "blob:")) else None)
        try:
            yield pg, env, url, problems
        finally:
            browser.close()
        assert not problems, problems
        assert not offsite, offsite  # everything the page needs comes from this server


def test_reference_needs_the_key_and_tries_requests_with_it(browser_page) -> None:  # noqa: ANN001
    pg, env, url, _ = browser_page
    pg.goto(url + "/docs")
    pg.get_by_label("API key").fill("twin_sk_wrong")
    pg.get_by_role("button", name="Show the reference").click()
    sync_api.expect(pg.locator("#docs-status")).to_have_text("That key was not accepted.")
    assert pg.locator(".opblock").count() == 0
    pg.get_by_label("API key").fill(env.alice)
    pg.get_by_role("button", name="Show the reference").click()
    sync_api.expect(pg.locator(".opblock").first).to_be_visible(timeout=20_000)
    assert pg.locator(".opblock").count() >= 10
    engines = pg.locator("#operations-engines-engines_api_engines_get")
    engines.locator(".opblock-summary").click()
    engines.get_by_role("button", name="Try it out").click()
    engines.get_by_role("button", name="Execute").click()
    status = engines.locator(".live-responses-table td.response-col_status:not(.col_header)").first
    sync_api.expect(status).to_have_text("200", timeout=20_000)
    pg.screenshot(path=str(ARTIFACTS / "docs.png"))


def test_web_ui_links_the_reference_and_shares_its_key(browser_page) -> None:  # noqa: ANN001
    pg, env, url, _ = browser_page
    pg.goto(url + "/")
    pg.get_by_label("Key for your profile").fill(env.alice)
    pg.get_by_role("button", name="Use key").click()
    sync_api.expect(pg.locator("#auth-status")).to_have_text("Key accepted.")
    pg.get_by_role("link", name="API reference").click()
    pg.wait_for_url(url + "/docs")
    sync_api.expect(pg.locator(".opblock").first).to_be_visible(timeout=20_000)


def test_engines_tab_shows_what_was_probed(browser_page) -> None:  # noqa: ANN001
    pg, env, url, _ = browser_page
    closed = f"http://127.0.0.1:{closed_port()}"
    save_config(ProfileManager(env.settings).get("alice"), TTSConfig(engines={"xtts": {"base_url": closed}}))
    pg.goto(url + "/")
    pg.get_by_label("Key for your profile").fill(env.alice)
    pg.get_by_role("button", name="Use key").click()
    sync_api.expect(pg.locator("#auth-status")).to_have_text("Key accepted.")
    pg.get_by_role("tab", name="Engines").click()
    xtts = pg.locator("#engines-table tbody tr", has_text="xtts")
    sync_api.expect(xtts).to_contain_text(f"GET {closed}/speakers_list: connection refused", timeout=20_000)
    piper = pg.locator("#engines-table tbody tr", has_text="piper")
    sync_api.expect(piper).to_contain_text("installed")
    pg.screenshot(path=str(ARTIFACTS / "engines-probed.png"), full_page=True)
