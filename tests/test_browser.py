"""The demo site in a real browser: served under its sub-path, clicked through, screenshotted."""

from __future__ import annotations

import shutil

import pytest

from browser import browser, screenshot, serve, watch_console  # noqa: F401  (fixture)
from conftest import REPO
from builder.pipeline import BuildOptions, build

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo_public(tmp_path_factory):
    """The repo's demo site, built into a temporary folder."""
    out = tmp_path_factory.mktemp("demo") / "public"
    site = tmp_path_factory.mktemp("demo-site")
    for name in ("site.yaml", "content", "templates"):
        src = REPO / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, site / name)
    build(site, BuildOptions(out_dir=out))
    return out


@pytest.mark.parametrize("width", [375, 1280])
def test_click_from_home_to_topic_to_article(browser, demo_public, width):
    with serve(demo_public, "/briefs/") as base:
        page = browser.new_page(viewport={"width": width, "height": 900})
        errors = watch_console(page)
        page.goto(base)
        assert page.title() == "Briefs demo"
        screenshot(page, f"home-{width}")
        page.get_by_role("link", name="Syria offensive, Dec 2024").first.click()
        page.wait_for_url(f"{base}topics/syria-offensive-dec-2024/")
        assert page.locator("h1").inner_text() == "Syria offensive, Dec 2024"
        screenshot(page, f"topic-{width}")
        page.locator(".timeline a.entry-title").first.click()
        page.wait_for_url(f"{base}articles/**")
        assert "400 insurgents" in page.locator("h1").inner_text()
        assert page.locator("article time[datetime]").first.get_attribute("datetime").startswith("2024-12-02")
        screenshot(page, f"article-{width}")
        # the skip link is the first thing a keyboard reaches, and it works
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip-link"
        page.keyboard.press("Enter")
        assert page.evaluate("location.hash") == "#main"
        # the site's 404 page works at any depth under the sub-path
        page.goto(f"{base}no/such/page/")
        assert page.locator("h1").inner_text() == "Page not found"
        page.get_by_role("link", name="Browse the topics").click()
        page.wait_for_url(f"{base}topics/")
        page.close()
        assert [e for e in errors if "404" not in e and "no/such/page" not in e] == []


def test_dark_mode_and_print_styles_apply(browser, demo_public):
    with serve(demo_public, "/briefs/") as base:
        page = browser.new_page(color_scheme="dark")
        page.goto(base)
        bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert bg == "rgb(22, 24, 27)"
        page.emulate_media(media="print")
        assert page.evaluate("getComputedStyle(document.querySelector('.site-header')).display") == "none"
        page.close()
