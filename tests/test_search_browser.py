"""The search page in Chromium: a built fixture site served under /sub/, several index shards."""

from __future__ import annotations

import random
import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from browser import screenshot, serve, watch_console  # the `browser` fixture is in conftest
from conftest import Site, article, topic
from builder.search import run_search_stage
from builder.search.collect import records_for_site

pytestmark = pytest.mark.browser

UNIQUE = "quetzalcoatlite"  # occurs in one article only
COMMON = "reported"  # occurs in every article


def make_site(root: Path) -> tuple[Site, dict]:
    site = Site(root, {"title": "Search test", "base_url": "https://example.org/sub/",
                       "search": {"shard_size": 100}})
    site.write("content/topics/aleppo-offensive.md",
               topic("Aleppo offensive", "Rebels entered Aleppo in late November.",
                     summary="The rebel advance on Aleppo.", starts="2024-11-27"))
    site.write("content/topics/harbour-strike.md",
               topic("Harbour strike", "Dock workers stopped work.", starts="2023-03-01"))
    rng = random.Random(5)
    expect = {"aleppo": [], "harbour": [], "all": []}
    first = date(2023, 1, 2)
    sources = ["Wire Service", "Evening Courier", "Radio Coast"]
    for i in range(260):
        day = first + timedelta(days=(i * 700) // 260)
        front = {"source": sources[i % 3], "tags": [f"tag{i % 4}", "news"]}
        words = "Officials reported progress on the bridge. Residents described long queues."
        if i % 13 == 0:
            front["topics"] = ["aleppo-offensive"]
            words += " Fighting in Aleppo continued as the offensive reached the citadel."
            expect["aleppo"].append(i)
        elif i % 17 == 0:
            front["topics"] = ["harbour-strike"]
            words += " The harbour strike entered another week."
            expect["harbour"].append(i)
        if i == 101:
            words += f" A mineral called {UNIQUE} was found near the quay."
        if i % 29 == 0:
            words += " Aleppo was mentioned again and again: Aleppo, Aleppo, Aleppo offensive."
        site.write(f"content/articles/{day.year}/story-{i:03d}.md",
                   article(f"Story {i:03d} from the desk", day.isoformat(), words + "\n\n" +
                           " ".join(rng.choice(["alpha", "beta", "gamma", "delta"]) for _ in range(40)),
                           **front))
        expect["all"].append(i)
    site.write("content/articles/2024/draft-one.md",
               article("A draft about Aleppo", "2024-05-05", f"Draft {UNIQUE} text.", draft=True))
    return site, expect


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    site, expect = make_site(tmp_path_factory.mktemp("search-site") / "site")
    result = site.build()
    if not (site.public / "pagefind" / "shards.json").is_file():
        # The pipeline does not run the search stage yet: index the built site here.
        run_search_stage(records_for_site(result.site), site.public, result.config.search,
                         site.root / ".briefs-cache", language=result.config.language)
    return site, expect


def test_fixture_index_has_several_shards_and_no_drafts(built):
    import json
    site, expect = built
    manifest = json.loads((site.public / "pagefind" / "shards.json").read_text())
    assert len(manifest["shards"]) >= 3
    assert sum(s["pages"] for s in manifest["shards"]) == len(expect["all"]) + 2  # + topics


def open_search(browser, base, query="", width=1280, scheme="light"):
    page = browser.new_page(viewport={"width": width, "height": 900}, color_scheme=scheme)
    errors = watch_console(page)
    page.goto(f"{base}search/" + (f"?q={query}" if query else ""))
    if query:
        try:
            page.wait_for_selector(".search-result, .search-empty")
        except Exception:
            print("DEBUG", page.locator(".search-status").inner_text(), errors, page.url, page.locator("[data-search]").get_attribute("data-error"))
            raise
    return page, errors


def result_urls(page) -> list[str]:
    return page.locator(".search-result-title a").evaluate_all("els => els.map(e => e.getAttribute('href'))")


def status_count(page) -> int:
    m = re.match(r"([\d,]+) results?", page.locator(".search-status").inner_text())
    assert m, page.locator(".search-status").inner_text()
    return int(m.group(1).replace(",", ""))


def test_unique_word_finds_its_article_first(browser, built):
    site, _ = built
    with serve(site.public, "/sub/") as base:
        page, errors = open_search(browser, base, UNIQUE)
        assert status_count(page) == 1  # the draft that also has the word is not indexed
        assert result_urls(page)[0] == "/sub/articles/story-101/"
        assert page.locator(".search-result mark").first.inner_text().lower() == UNIQUE
        page.locator(".search-result-title a").first.click()
        page.wait_for_url(f"{base}articles/story-101/")
        assert errors == []


def test_topic_page_ranks_first_for_its_name(browser, built):
    site, _ = built
    with serve(site.public, "/sub/") as base:
        page, errors = open_search(browser, base, "Aleppo offensive")
        assert result_urls(page)[0] == "/sub/topics/aleppo-offensive/"
        assert page.locator(".search-result").first.get_attribute("class").endswith("is-topic")
        assert errors == []


def test_topic_filter_count_matches_the_topic(browser, built):
    site, expect = built
    with serve(site.public, "/sub/") as base:
        page, errors = open_search(browser, base, COMMON)
        assert status_count(page) == len(expect["all"])
        facet = page.locator(".search-facet", has=page.locator("legend", has_text="Topic"))
        label = facet.locator("label", has_text="Aleppo offensive")
        assert label.locator(".count").inner_text() == f"({len(expect['aleppo'])})"
        label.locator("input").check()
        page.wait_for_function("() => /topic=/.test(location.search)")
        page.wait_for_function(f"() => /^{len(expect['aleppo'])} results/.test("
                               "document.querySelector('.search-status').textContent)")
        assert status_count(page) == len(expect["aleppo"])
        # the facet's other values keep their counts (any-of within a facet)
        other = facet.locator("label", has_text="Harbour strike")
        assert other.locator(".count").inner_text() == f"({len(expect['harbour'])})"
        other.locator("input").check()
        page.wait_for_function(f"() => /^{len(expect['aleppo']) + len(expect['harbour'])} results/"
                               ".test(document.querySelector('.search-status').textContent)")
        # the URL carries the state: reload shows the same
        page.reload()
        page.wait_for_selector(".search-result")
        assert status_count(page) == len(expect["aleppo"]) + len(expect["harbour"])
        page.get_by_role("button", name="Clear filters").click()
        page.wait_for_function(f"() => /^{len(expect['all'])} results/"
                               ".test(document.querySelector('.search-status').textContent)")
        assert errors == []


def test_sort_newest_puts_dates_in_descending_order_across_shards(browser, built):
    site, expect = built
    with serve(site.public, "/sub/") as base:
        page, errors = open_search(browser, base, COMMON)
        page.select_option("#search-sort", "newest")
        page.wait_for_function("() => /sort=newest/.test(location.search)")
        page.wait_for_function("() => /newest first/.test(document.querySelector('.search-status').textContent)")
        page.wait_for_selector(".search-result time")
        for _ in range(4):  # 80 results: well across several shards
            page.get_by_role("button", name="Show more results").click()
        page.wait_for_function("() => document.querySelectorAll('.search-result').length >= 100")
        dates = page.locator(".search-result time").evaluate_all(
            "els => els.map(e => e.getAttribute('datetime'))")
        assert len(dates) >= 100
        assert dates == sorted(dates, reverse=True)
        assert dates[0] >= "2024-11-01"
        assert errors == []


def test_no_results_says_so_kindly(browser, built):
    site, _ = built
    with serve(site.public, "/sub/") as base:
        page, errors = open_search(browser, base, "xylophonequartz")
        assert page.locator(".search-status").inner_text() == "No results for “xylophonequartz”."
        empty = page.locator(".search-empty")
        assert "Nothing here matches" in empty.inner_text()
        assert "Check the spelling" in empty.inner_text()
        assert empty.get_by_role("link", name="all topics").get_attribute("href").endswith("/sub/topics/")
        assert errors == []


def test_header_box_submits_to_the_search_page(browser, built):
    site, _ = built
    with serve(site.public, "/sub/") as base:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors = watch_console(page)
        page.goto(f"{base}articles/story-005/")
        page.fill("#site-search-q", UNIQUE)
        page.press("#site-search-q", "Enter")
        page.wait_for_url(f"{base}search/?q={UNIQUE}")
        page.wait_for_selector(".search-result")
        assert page.input_value("#search-q") == UNIQUE
        assert result_urls(page) == ["/sub/articles/story-101/"]
        assert errors == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_phone_width_and_colour_schemes(browser, built, scheme):
    site, _ = built
    with serve(site.public, "/sub/") as base:
        page, errors = open_search(browser, base, "Aleppo", width=375, scheme=scheme)
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        # facets fold away on a phone, so the first results are on the first screen
        assert page.locator("details.search-filters").get_attribute("open") is None
        assert page.locator(".search-result").first.bounding_box()["y"] < 600
        screenshot(page, f"search-{scheme}-375")
        page.locator("details.search-filters > summary").click()
        page.locator(".search-facet label", has_text="Radio Coast").locator("input").check()
        page.wait_for_function("() => /source=Radio/.test(location.search)")
        # the URL changes before the filtered results are drawn: wait for a highlighted word
        page.locator(".search-result mark").first.wait_for()
        bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
        mark = page.evaluate("getComputedStyle(document.querySelector('.search-result mark')).backgroundColor")
        if scheme == "dark":
            assert bg == "rgb(22, 24, 27)" and mark == "rgb(107, 82, 0)"
        else:
            assert bg == "rgb(253, 252, 249)" and mark == "rgb(253, 230, 138)"
        page.set_viewport_size({"width": 1280, "height": 900})
        screenshot(page, f"search-{scheme}-1280")
        assert errors == []


def test_search_works_without_the_index_saying_so(browser, built, tmp_path):
    """A site served without its pagefind/ folder: a clear message, no exception."""
    import shutil
    site, _ = built
    copy = tmp_path / "public"
    shutil.copytree(site.public, copy, ignore=shutil.ignore_patterns("pagefind"))
    with serve(copy, "/sub/") as base:
        page = browser.new_page()
        errors = watch_console(page)
        page.goto(f"{base}search/?q=Aleppo")
        page.wait_for_selector(".search-status.search-error")
        assert "could not be loaded" in page.locator(".search-status").inner_text()
        # the only complaint is the browser's own about the missing file
        assert errors and all("404" in e for e in errors), errors
