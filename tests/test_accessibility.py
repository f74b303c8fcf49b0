"""Accessibility in a real browser: axe-core on every page kind, both colour schemes, phone and
desktop widths; keyboard reachability, visible focus and the skip link.

axe-core comes from the repository's package-lock.json (``npm ci`` puts it in node_modules/;
.ci/run does that) and is injected into Debian's Chromium with Playwright. The demo site has no
source page (its article does not name its outlet), so a small test site adds the page kinds
and features the demo lacks: a source listing, a lead image, a chart with several bars, an
ended story on the topics index, a second listing page.

Results go to test-artifacts/axe-results.md (the table for the report) and screenshots of every
page kind to test-artifacts/a11y-<kind>-<scheme>-<width>.png.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from browser import ARTIFACTS, browser, screenshot, serve, watch_console  # noqa: F401
from conftest import REPO, Site, article, topic
from builder.pipeline import BuildOptions, build

pytestmark = pytest.mark.browser

AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SCHEMES = ["light", "dark"]
WIDTHS = [375, 1280]
DEMO_ARTICLE = "articles/syria-strikes-with-russia-kill-400-insurgents/"

# (page kind, which site, path under the site)
PAGES = [
    ("home", "demo", ""),
    ("article", "demo", DEMO_ARTICLE),
    ("topic", "demo", "topics/syria-offensive-dec-2024/"),
    ("topics", "demo", "topics/"),
    ("tag", "demo", "tags/syria/"),
    ("tags", "demo", "tags/"),
    ("sources", "demo", "sources/"),
    ("archive", "demo", "archive/"),
    ("archive-year", "demo", "archive/2024/"),
    ("archive-month", "demo", "archive/2024/12/"),
    ("page", "demo", "about/"),
    ("404", "demo", "no/such/page/"),
    ("search", "demo", "search/"),
    ("source", "extra", "sources/example-wire/"),
    ("article-image", "extra", "articles/citadel/"),
    ("topic-chart", "extra", "topics/aleppo-offensive/"),
    ("topics-strips", "extra", "topics/"),
    ("tag-page-2", "extra", "tags/syria/page/2/"),
]


def require_axe() -> None:
    if not AXE.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"{AXE} is missing: .ci/run installs it with `npm ci`")
        pytest.skip("axe-core not installed: run `npm ci` in the repository root")


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    """The demo site and the extra test site, built; {name: public folder}."""
    demo = tmp_path_factory.mktemp("a11y-demo")
    for name in ("site.yaml", "content", "templates"):
        src = REPO / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, demo / name)
    build(demo, BuildOptions(out_dir=demo / "public"))

    extra = Site(tmp_path_factory.mktemp("a11y-extra") / "site",
                 {"title": "Test briefs", "base_url": "https://example.org/briefs/",
                  "description": "Tiny test site", "author": "Desk", "per_page": 2})
    extra.write("static/images/citadel.svg",
                '<svg xmlns="http://www.w3.org/2000/svg" width="640" height="360">'
                '<rect width="640" height="360" fill="#776655"/></svg>')
    extra.write("content/topics/aleppo-offensive.md", topic(
        "Aleppo offensive, Dec 2024", summary="Rebels push into Aleppo.", starts="2024-11-30"))
    extra.write("content/topics/gaza-talks.md", topic(
        "Gaza ceasefire talks", summary="Negotiations.", starts="2024-11-01", ends="2024-12-20"))
    days = ["2024-11-30T09:15:00Z", "2024-12-01T10:00:00Z", "2024-12-01T18:00:00Z",
            "2024-12-02", "2024-12-05T18:00:00Z"]
    for i, when in enumerate(days):
        extra.write(f"content/articles/2024/a{i}.md", article(
            f"Development number {i + 1}", when, "A paragraph of text.",
            topics=["aleppo-offensive"], tags=["Syria"], source="Example Wire",
            source_url=f"https://wire.example/{i}"))
    extra.write("content/articles/2024/citadel.md", article(
        "Rebels reach the citadel", "2024-12-03T16:30:00Z", "Fighters were filmed there.",
        summary="Footage shows fighters at the citadel.", topics=["aleppo-offensive"],
        tags=["Syria"], source="Example Wire", author="B. Writer", image="/images/citadel.svg",
        image_caption="The citadel of Aleppo", section="World"))
    extra.write("content/articles/2024/talks.md", article(
        "Ceasefire talks resume", "2024-11-12", "Delegations met.", topics=["gaza-talks"]))
    extra.build()
    return {"demo": demo / "public", "extra": extra.public}


@pytest.fixture(scope="module")
def servers(sites):
    with serve(sites["demo"], "/briefs/") as demo, serve(sites["extra"], "/briefs/") as extra:
        yield {"demo": demo, "extra": extra}


RESULTS: dict[tuple[str, str, int], int] = {}
"""(kind, scheme, width) -> violating elements found."""
CHECKED: dict[str, list[tuple[int, int]]] = {}
"""kind -> [(rules passed, rules axe could not decide)] of each run."""


@pytest.fixture(scope="module", autouse=True)
def report():
    """Write the axe results table once the module's tests have run."""
    yield
    if not RESULTS:
        return
    ARTIFACTS.mkdir(exist_ok=True)
    lines = ["| page kind | path | " + " | ".join(f"{s} {w}px" for s in SCHEMES for w in WIDTHS)
             + " | rules passed | undecided |",
             "|---|---|" + "---|" * (len(SCHEMES) * len(WIDTHS) + 2)]
    for kind, where, path in PAGES:
        cells = [str(RESULTS.get((kind, s, w), "—")) for s in SCHEMES for w in WIDTHS]
        if all(c == "—" for c in cells):
            continue
        runs = CHECKED.get(kind, [(0, 0)])
        cells += [str(min(r[0] for r in runs)), str(max(r[1] for r in runs))]
        lines.append(f"| {kind} | {'' if where == 'demo' else '(test site) '}/{path} | "
                     + " | ".join(cells) + " |")
    (ARTIFACTS / "axe-results.md").write_text(
        "Violations of WCAG 2.0/2.1 A and AA rules found by axe-core "
        f"({', '.join(TAGS)}), per page kind, colour scheme and viewport width; then the\n"
        "fewest rules a page passed and the most axe could not decide (to review by hand).\n\n"
        + "\n".join(lines) + "\n", encoding="utf-8")


def open_page(browser, servers, sites, where, path, *, scheme="light", width=1280):
    if path == "search/" and not (sites[where] / "search" / "index.html").is_file():
        pytest.skip("this build has no search page yet")
    page = browser.new_page(color_scheme=scheme, viewport={"width": width, "height": 900})
    errors = watch_console(page)
    response = page.goto(servers[where] + path, wait_until="load")
    assert response is not None
    assert response.status == (404 if path.startswith("no/") else 200)
    return page, errors


def serious(errors: list[str]) -> list[str]:
    # A navigation cancels the favicon request of the page it leaves (net::ERR_ABORTED);
    # the 404 page's own status is expected.
    return [e for e in errors if "favicon" not in e and "404" not in e]


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("kind, where, path", PAGES, ids=[p[0] for p in PAGES])
def test_axe_finds_no_violations(browser, servers, sites, kind, where, path, scheme, width):
    require_axe()
    page, errors = open_page(browser, servers, sites, where, path, scheme=scheme, width=width)
    try:
        page.add_script_tag(path=str(AXE))
        result = page.evaluate(
            "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags},"
            " resultTypes: ['violations']})", TAGS)
        screenshot(page, f"a11y-{kind}-{scheme}-{width}")
        violations = result["violations"]
        RESULTS[(kind, scheme, width)] = sum(len(v["nodes"]) for v in violations)
        CHECKED.setdefault(kind, []).append((len(result["passes"]), len(result["incomplete"])))
        detail = [{"rule": v["id"], "impact": v["impact"], "help": v["help"],
                   "nodes": [n["target"] for n in v["nodes"]][:5],
                   "summary": v["nodes"][0].get("failureSummary", "")} for v in violations]
        assert violations == [], json.dumps(detail, indent=1)
        assert serious(errors) == []
    finally:
        page.close()


def test_axe_run_does_catch_violations(browser):
    """The harness is not vacuous: a page with known faults yields those violations."""
    require_axe()
    page = browser.new_page()
    try:
        page.set_content('<html><head><title>t</title></head><body><main>'
                         '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">'
                         '<p style="color:#777;background:#888">faint text</p>'
                         '<a href="#x"></a></main></body></html>')
        page.add_script_tag(path=str(AXE))
        result = page.evaluate("async (tags) => await axe.run(document, {runOnly: {type: 'tag',"
                               " values: tags}, resultTypes: ['violations']})", TAGS)
        found = {v["id"] for v in result["violations"]}
        assert {"image-alt", "color-contrast", "html-has-lang", "link-name"} <= found
    finally:
        page.close()


# ----------------------------------------------------------------------------- keyboard

FOCUSABLE = """() => {
  const sel = 'a[href], button, input, select, textarea, summary, [tabindex]:not([tabindex="-1"])';
  return [...document.querySelectorAll(sel)].filter(el => {
    if (el.closest('[inert]') || el.disabled) return false;
    const r = el.getBoundingClientRect();
    const s = getComputedStyle(el);
    return (r.width > 0 || r.height > 0) && s.visibility !== 'hidden' && s.display !== 'none'
      || el.classList.contains('skip-link');
  }).map(describe);
  function describe(el) { return el.outerHTML.slice(0, 160); }
}"""

# What the focused element looks like: an outline, or (a chart bar) its hit area's stroke.
FOCUS_STATE = """() => {
  const el = document.activeElement;
  const s = getComputedStyle(el);
  const r = el.getBoundingClientRect();
  const hit = el.querySelector && el.querySelector('.hit');
  return {
    html: el.outerHTML.slice(0, 160),
    outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2,
    stroke: hit ? getComputedStyle(hit).stroke !== 'none' &&
                  parseFloat(getComputedStyle(hit).strokeWidth) >= 2 : false,
    visible: r.bottom > 0 && r.top < innerHeight && r.right > 0 && r.left < innerWidth,
    focusVisible: el.matches(':focus-visible'),
  };
}"""


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("kind, where, path", PAGES, ids=[p[0] for p in PAGES])
def test_keyboard_reaches_every_control_with_visible_focus(browser, servers, sites, kind,
                                                           where, path, width):
    page, errors = open_page(browser, servers, sites, where, path, width=width)
    try:
        expected = page.evaluate(FOCUSABLE)
        assert len(expected) >= 8  # skip link, site title, 4 nav links, footer links...
        reached = []
        for _ in range(len(expected) + 5):
            page.keyboard.press("Tab")
            state = page.evaluate(FOCUS_STATE)
            if state["html"].startswith("<body") or (reached and state["html"] == reached[0]):
                break
            reached.append(state["html"])
            assert state["focusVisible"], state
            assert state["outline"] or state["stroke"], f"no visible focus on {state['html']}"
            assert state["visible"], f"focused but off screen: {state['html']}"
        assert reached == expected  # every control, in document order, nothing extra
        assert serious(errors) == []
    finally:
        page.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_skip_link_moves_focus_to_the_main_content(browser, servers, sites, width):
    page, _ = open_page(browser, servers, sites, "demo", DEMO_ARTICLE, width=width)
    try:
        page.keyboard.press("Tab")
        box = page.evaluate("""() => { const el = document.activeElement;
            const r = el.getBoundingClientRect();
            return {cls: el.className, top: r.top, bottom: r.bottom, text: el.innerText}; }""")
        assert box["cls"] == "skip-link" and box["text"] == "Skip to content"
        assert 0 <= box["top"] and box["bottom"] <= 900  # shown on screen when focused
        screenshot(page, f"a11y-skip-link-{width}")
        page.keyboard.press("Enter")
        assert page.evaluate("location.hash") == "#main"
        assert page.evaluate("document.activeElement.id") == "main"
        page.keyboard.press("Tab")  # the next stop is inside main, not the header
        assert page.evaluate("document.getElementById('main').contains(document.activeElement)")
    finally:
        page.close()


def test_chart_bars_are_keyboard_links_to_their_day(browser, servers, sites):
    page, _ = open_page(browser, servers, sites, "extra", "topics/aleppo-offensive/",
                        width=375)
    try:
        bars = page.locator(".activity-chart a")
        assert bars.count() == 5  # 30 Nov, 1, 2, 3 and 5 Dec
        bars.nth(1).focus()
        page.keyboard.press("Enter")
        assert page.evaluate("location.hash") == "#day-2024-12-01"
        top = page.evaluate("document.getElementById('day-2024-12-01').getBoundingClientRect().top")
        assert 0 <= top < 200
        name = page.evaluate("document.querySelectorAll('.activity-chart a')[1]"
                             ".getAttribute('aria-label')")
        assert name == "1 Dec 2024: 2 articles"
        bars.nth(1).focus()
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Tab")
        screenshot(page, "a11y-chart-focus-375")
    finally:
        page.close()
