"""The Media tab in headless Debian chromium: pick a project, see the timeline per character, play a
segment, edit its text, move it, drop it, name a speaker and export clips. Screenshots go to
test-artifacts/web/media-*.png."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.media.conftest import Film
from tests.media.test_characters import _speaker_of

from twin.media.project import Project, media_root
from twin.media.segments import load_segments
from twin.profiles import ProfileManager

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("/usr/bin/chromium is missing (apt-get install -y chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")

from tests.api.conftest import make_env  # noqa: E402
from tests.api.live import serve  # noqa: E402
from tests.web.test_browser import ARGS  # noqa: E402

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"


@pytest.fixture
def ui(twin_home: Path, analysed: Path) -> Iterator[tuple[object, str, Project]]:
    env = make_env(twin_home)
    alice = ProfileManager(env.settings).get("alice")
    shutil.copytree(analysed, media_root(alice) / analysed.name)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with serve(env.client.app) as url, sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        pg = browser.new_context(viewport={"width": 1000, "height": 900}).new_page()
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.goto(url + "/")
        pg.get_by_label("Key for your profile").fill(env.alice)
        pg.get_by_role("button", name="Use key").click()
        sync_api.expect(pg.locator("#auth-status")).to_have_text("Key accepted.")
        try:
            yield pg, url, Project(alice, analysed.name)
        finally:
            browser.close()
        assert not errors, errors


def test_media_review(ui: tuple[object, str, Project], film: Film) -> None:
    pg, _url, project = ui
    expect = sync_api.expect
    pg.get_by_role("tab", name="Media").click()
    expect(pg.locator("#media-status")).to_contain_text("3 characters", timeout=30_000)
    expect(pg.locator(".media-row")).to_have_count(3)
    pg.screenshot(path=str(ARTIFACTS / "media-1-timeline.png"), full_page=True)

    ann = _speaker_of(project, "Ann", film)
    pg.get_by_label(f"Name for {ann}").fill("Ann")
    pg.get_by_label(f"Name for {ann}").press("Enter")
    expect(pg.locator("#media-status")).to_contain_text(f"{ann} → Ann")
    expect(pg.locator(".media-label", has_text="Ann")).to_have_count(1)

    seg = next(s for s in load_segments(project) if s.character == "Ann" and s.text and not s.overlap)
    pg.locator(f'.media-seg[data-id="{seg.id}"]').click()
    expect(pg.locator("#media-seg-title")).to_contain_text(seg.id)
    pg.get_by_role("button", name="Play segment").click()
    expect(pg.locator("#media-seg-status")).to_have_text("Playing.", timeout=15_000)
    duration = pg.evaluate("document.getElementById('media-seg-audio').duration")
    assert abs(duration - seg.duration) < 0.1

    pg.locator("#media-seg-text").fill("A line fixed by hand.")
    pg.get_by_role("button", name="Save text").click()
    expect(pg.locator("#media-seg-status")).to_have_text("text saved")
    bob_name = next(c for c in ("S1", "S2", "S3") if c != ann and any(s.speaker == c for s in load_segments(project)))
    pg.locator("#media-seg-character").select_option(bob_name)
    pg.get_by_role("button", name="Move segment").click()
    expect(pg.locator("#media-seg-status")).to_have_text("moved")
    moved = next(s for s in load_segments(project) if s.id == seg.id)
    assert moved.text == "A line fixed by hand." and moved.character == bob_name
    pg.get_by_role("button", name="Drop", exact=True).click()
    expect(pg.locator("#media-seg-status")).to_have_text("dropped")
    expect(pg.locator(f'.media-seg.dropped[data-id="{seg.id}"]')).to_have_count(1)
    pg.screenshot(path=str(ARTIFACTS / "media-2-segment.png"), full_page=True)

    pg.locator("#media-action-character").select_option("Ann")
    pg.get_by_role("button", name="Export clips").click()
    expect(pg.locator("#media-action-status")).to_contain_text("clips,", timeout=120_000)
    assert "of Ann" in pg.locator("#media-action-status").inner_text()
    pg.screenshot(path=str(ARTIFACTS / "media-3-export.png"), full_page=True)
    assert next(s for s in load_segments(project) if s.id == seg.id).dropped
