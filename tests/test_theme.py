"""The theme's machine-readable side, read back from the built HTML: JSON-LD structured data,
Open Graph / Twitter meta, canonical and feed links, titles, alt text, and the pictures drawn at
build time (the topic activity chart and the topics index's timeline strips)."""

from __future__ import annotations

import json
import posixpath
from datetime import date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from builder import charts, structured
from builder.config import load_config
from builder.errors import BuildError
from conftest import SITE_YAML, Site, article, topic

BASE = SITE_YAML["base_url"]


class Page(HTMLParser):
    """What a test needs from one built page."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.title = ""
        self.meta: dict[str, list[str]] = {}
        self.links: list[dict] = []
        self.jsonld: list = []
        self.crumbs: list[tuple[str, str | None]] = []
        self.imgs: list[dict] = []
        self.ids: set[str] = set()
        self.anchors: list[dict] = []
        self._stack: list[str] = []
        self._script: list[str] | None = None
        self._in_title = False
        self._crumb: list | None = None
        self._nav_depth = 0
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "title" and not self.title and "svg" not in self._stack:
            self._in_title = True
        elif tag == "meta" and ("name" in a or "property" in a):
            self.meta.setdefault(a.get("property") or a["name"], []).append(a.get("content"))
        elif tag == "link":
            self.links.append(a)
        elif tag == "script" and a.get("type") == "application/ld+json":
            self._script = []
        elif tag == "img":
            self.imgs.append(a)
        elif tag == "nav" and a.get("class") == "breadcrumbs":
            self._nav_depth = 1
        elif tag == "a":
            self.anchors.append(a)
        if self._nav_depth and tag == "li":
            self._crumb = ["", None]
        if self._nav_depth and tag == "a" and self._crumb is not None:
            self._crumb[1] = a["href"]
        if tag not in ("meta", "link", "img", "br", "rect", "line"):
            self._stack.append(tag)

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        elif tag == "script" and self._script is not None:
            self.jsonld.append(json.loads("".join(self._script)))
            self._script = None
        elif tag == "li" and self._crumb is not None:
            self.crumbs.append((self._crumb[0].strip(), self._crumb[1]))
            self._crumb = None
        elif tag == "nav":
            self._nav_depth = 0
        if tag in self._stack:
            while self._stack and self._stack.pop() != tag:
                pass

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        if self._script is not None:
            self._script.append(data)
        if self._crumb is not None:
            self._crumb[0] += data

    def one(self, key: str) -> str:
        values = self.meta.get(key, [])
        assert len(values) == 1, f"{key}: {values}"
        return values[0]

    def ld(self, kind: str) -> list[dict]:
        return [d for d in self.jsonld if d.get("@type") == kind]


def pages(public: Path) -> dict[str, Page]:
    """Every HTML page of a built site, by site-relative path."""
    return {p.relative_to(public).as_posix(): Page(p.read_text(encoding="utf-8"))
            for p in sorted(public.rglob("*.html"))}


def url_of(rel: str) -> str:
    return BASE + (rel[: -len("index.html")] if rel.endswith("index.html") else rel)


def absolute(page_rel: str, href: str) -> str:
    """An href of the page at ``page_rel`` as an absolute URL under BASE."""
    if href.startswith("/"):  # the 404 page links from the base path
        return BASE.split("/", 3)[0] + "//" + BASE.split("/", 3)[2] + href
    folder = posixpath.dirname(page_rel)
    joined = posixpath.normpath(posixpath.join(folder, href))
    joined = "" if joined == "." else joined + ("/" if href.endswith("/") else "")
    return BASE + joined


@pytest.fixture
def built(news_site):
    """news_site plus an article with a lead image, caption, author and update."""
    news_site.write("static/images/aleppo.svg",
                    '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="4"/>')
    news_site.write("content/articles/2024/citadel.md", article(
        "Rebels reach the citadel", "2024-12-01T16:30:00+01:00", "Fighters were filmed there.",
        summary="Footage shows fighters at the citadel.", topics=["aleppo-offensive", "gaza-talks"],
        tags=["Syria"], source="Example Wire", source_url="https://wire.example/citadel",
        author="B. Writer", updated="2024-12-02T08:00:00Z", image="/images/aleppo.svg",
        image_caption="The citadel of Aleppo", section="World"))
    news_site.build()
    return news_site, pages(news_site.public)


# ----------------------------------------------------------------------------- every page

def test_every_page_has_description_canonical_feed_and_link_preview(built):
    site, all_pages = built
    assert len(all_pages) > 15
    for rel, page in all_pages.items():
        assert page.title.strip(), rel
        description = page.one("description")
        assert description and description.strip(), rel
        canonical = [l["href"] for l in page.links if l.get("rel") == "canonical"]
        if rel == "404.html":
            assert page.one("robots") == "noindex"
        assert canonical == [url_of(rel)], rel
        feeds = [l for l in page.links if l.get("rel") == "alternate"
                 and l.get("type") == "application/atom+xml"]
        assert feeds and feeds[0]["href"].endswith("feed.xml"), rel
        assert absolute(rel, feeds[0]["href"]) == BASE + "feed.xml", rel
        assert page.one("og:url") == canonical[0], rel
        assert page.one("og:site_name") == "Test briefs"
        assert page.one("og:title").strip(), rel
        assert page.one("og:description") == description, rel
        assert page.one("og:type") in ("website", "article"), rel
        assert page.one("twitter:card") in ("summary", "summary_large_image"), rel
        for block in page.jsonld:  # parsed as JSON by Page already
            assert block["@context"] == "https://schema.org", rel
            assert block["@type"], rel
        for img in page.imgs:
            assert "alt" in img, (rel, img)


def test_titles_follow_article_topic_site(built):
    _, p = built
    assert p["articles/rebels-attack-aleppo/index.html"].title == \
        "Rebels attack Aleppo — Aleppo offensive, Dec 2024 — Test briefs"
    assert p["articles/old-story/index.html"].title == "An older story — Test briefs"
    assert p["topics/aleppo-offensive/index.html"].title == "Aleppo offensive, Dec 2024 — Test briefs"
    assert p["topics/index.html"].title == "Topics — Test briefs"
    assert p["tags/syria/index.html"].title == "Tag: Syria — Test briefs"
    assert p["sources/example-wire/index.html"].title == "Source: Example Wire — Test briefs"
    assert p["archive/2024/12/index.html"].title == "December 2024 — Archive — Test briefs"
    assert p["index.html"].title == "Test briefs"
    assert p["404.html"].title == "Page not found — Test briefs"


def test_topic_pages_link_their_own_feed(built):
    _, p = built
    rel = "topics/aleppo-offensive/index.html"
    hrefs = [absolute(rel, l["href"]) for l in p[rel].links
             if l.get("rel") == "alternate" and l.get("type") == "application/atom+xml"]
    assert hrefs == [BASE + "feed.xml", BASE + "topics/aleppo-offensive/feed.xml"]


# ----------------------------------------------------------------------------- articles

def test_news_article_carries_the_required_fields(built):
    _, p = built
    rel = "articles/citadel/index.html"
    page = p[rel]
    [ld] = page.ld("NewsArticle")
    url = BASE + "articles/citadel/"
    assert ld["headline"] == "Rebels reach the citadel"
    assert ld["datePublished"] == "2024-12-01T15:30:00+00:00"  # in the site's time zone
    assert ld["dateModified"] == "2024-12-02T08:00:00+00:00"
    assert ld["author"] == [{"@type": "Person", "name": "B. Writer"}]
    assert ld["publisher"]["@type"] == "Organization" and ld["publisher"]["name"] == "Desk"
    assert ld["publisher"]["url"] == BASE
    assert ld["mainEntityOfPage"] == {"@type": "WebPage", "@id": url}
    assert ld["url"] == url
    assert ld["image"] == [BASE + "images/aleppo.svg"]
    assert [t["url"] for t in ld["isPartOf"]] == [BASE + "topics/aleppo-offensive/",
                                                  BASE + "topics/gaza-talks/"]
    assert ld["isPartOf"][0]["name"] == "Aleppo offensive, Dec 2024"
    assert ld["description"] == "Footage shows fighters at the citadel."
    assert ld["articleSection"] == "World" and ld["keywords"] == ["Syria"]
    assert ld["isBasedOn"] == {"@type": "NewsArticle", "url": "https://wire.example/citadel",
                               "publisher": {"@type": "Organization", "name": "Example Wire"}}
    assert page.one("og:type") == "article"
    assert page.one("og:title") == "Rebels reach the citadel"
    assert page.one("og:description") == "Footage shows fighters at the citadel."
    assert page.one("article:published_time") == "2024-12-01T15:30:00+00:00"
    assert page.one("article:modified_time") == "2024-12-02T08:00:00+00:00"
    assert page.one("og:image") == BASE + "images/aleppo.svg"
    assert page.one("og:image:alt") == "The citadel of Aleppo"
    assert page.one("twitter:card") == "summary_large_image"
    assert page.meta["article:tag"] == ["Syria"]


def test_article_without_author_or_time_is_honest_about_it(built):
    _, p = built
    page = p["articles/strikes-kill-400/index.html"]
    [ld] = page.ld("NewsArticle")
    assert ld["datePublished"] == ld["dateModified"] == "2024-12-02"  # no invented midnight
    assert page.one("article:published_time") == "2024-12-02"
    assert "article:modified_time" not in page.meta
    assert ld["author"] == [{"@type": "Person", "name": "A. Reporter"}]
    [ld] = p["articles/old-story/index.html"].ld("NewsArticle")
    assert ld["author"][0]["@type"] == "Organization" and ld["author"][0]["name"] == "Desk"
    assert "isPartOf" not in ld and "image" not in ld
    assert p["articles/old-story/index.html"].one("twitter:card") == "summary"


def test_lead_image_alt_text_comes_from_the_caption_or_the_title(built):
    site, p = built
    [img] = [i for i in p["articles/citadel/index.html"].imgs]
    assert img["alt"] == "The citadel of Aleppo" and img["src"] == "../../images/aleppo.svg"
    site.write("content/articles/2024/citadel.md", article(
        "Rebels reach the citadel", "2024-12-01", "Text.", image="/images/aleppo.svg"))
    site.build()
    [img] = Page(site.read("articles/citadel/index.html")).imgs
    assert img["alt"] == "Rebels reach the citadel"


def test_breadcrumbs_match_what_the_page_shows(built):
    _, p = built
    shown = 0
    for rel, page in p.items():
        if not page.crumbs:
            assert not page.ld("BreadcrumbList"), rel
            continue
        shown += 1
        [ld] = page.ld("BreadcrumbList")
        items = ld["itemListElement"]
        assert [i["position"] for i in items] == list(range(1, len(items) + 1))
        assert [i["name"] for i in items] == [name for name, _ in page.crumbs], rel
        for item, (_, href) in zip(items, page.crumbs):
            if href is not None:
                assert item["item"] == absolute(rel, href), rel
        assert items[-1]["item"] == url_of(rel).split("page/")[0], rel
    assert shown >= 8  # articles, topics, tags, sources, archive years and months


# ----------------------------------------------------------------------------- listings

def item_urls(ld: dict) -> list[str]:
    return [i["url"] for i in ld["mainEntity"]["itemListElement"]]


def test_topic_page_is_a_collection_of_its_timeline(built):
    _, p = built
    rel = "topics/aleppo-offensive/index.html"
    [ld] = p[rel].ld("CollectionPage")
    assert ld["name"] == "Aleppo offensive, Dec 2024" and ld["url"] == url_of(rel)
    assert ld["description"] == "Rebels push into Aleppo."
    assert ld["mainEntity"]["@type"] == "ItemList"
    assert ld["mainEntity"]["itemListOrder"] == "https://schema.org/ItemListOrderAscending"
    timeline = [absolute(rel, a["href"]) for a in p[rel].anchors
                if a.get("class") == "entry-title"]
    assert item_urls(ld) == timeline and len(timeline) == 4
    assert ld["mainEntity"]["numberOfItems"] == 4


@pytest.mark.parametrize("rel, count", [
    ("index.html", 6), ("topics/index.html", 2), ("tags/index.html", 5),
    ("tags/syria/index.html", 4), ("sources/example-wire/index.html", 3),
    ("archive/index.html", 2), ("archive/2024/index.html", 2), ("archive/2024/12/index.html", 4),
])
def test_listing_pages_are_collections(built, rel, count):
    _, p = built
    [ld] = p[rel].ld("CollectionPage")
    assert ld["url"] == url_of(rel)
    assert len(item_urls(ld)) == count
    for url in item_urls(ld):
        path = url[len(BASE):] + "index.html"
        assert url.startswith(BASE) and path in p, (rel, url)


def test_home_declares_the_website_and_publisher(built):
    _, p = built
    [ld] = p["index.html"].ld("WebSite")
    assert ld["url"] == BASE and ld["name"] == "Test briefs" and ld["inLanguage"] == "en"
    assert ld["publisher"] == {"@type": "Organization", "@id": BASE + "#publisher",
                               "name": "Desk", "url": BASE}


def test_paginated_listing_positions_continue(tmp_path):
    s = Site(tmp_path / "s", {**SITE_YAML, "per_page": 2})
    for i in range(5):
        s.write(f"content/articles/a{i}.md", article(f"Story {i}", f"2024-03-0{i + 1}",
                                                     tags=["Gulf"]))
    s.build()
    [ld] = Page(s.read("tags/gulf/page/2/index.html")).ld("CollectionPage")
    items = ld["mainEntity"]["itemListElement"]
    assert [i["position"] for i in items] == [3, 4]
    assert [i["name"] for i in items] == ["Story 2", "Story 1"]
    assert ld["mainEntity"]["numberOfItems"] == 5


# ----------------------------------------------------------------------------- safety

HOSTILE = 'Breaking </script><script>alert(1)</script> & "quotes" <!-- \u2028 end'


def test_json_ld_cannot_break_out_of_its_script(site):
    site.write("content/topics/t.md", topic(HOSTILE, summary=HOSTILE))
    site.write("content/articles/x.md", article(HOSTILE, "2024-05-01", summary=HOSTILE,
                                                topics=["t"], tags=[HOSTILE], source=HOSTILE))
    site.build()
    for rel in ("articles/x/index.html", "topics/t/index.html", "index.html",
                "tags/index.html", "sources/index.html"):
        html = site.read(rel)
        head = html.split("</head>")[0]
        assert "<script>alert(1)" not in html, rel
        scripts = head.split('<script type="application/ld+json">')[1:]
        assert scripts, rel
        for chunk in scripts:
            body = chunk.split("</script>")[0]
            assert "<" not in body and ">" not in body and "&" not in body
            assert "\u2028" not in body
            json.loads(body)
    page = Page(site.read("articles/x/index.html"))
    [ld] = page.ld("NewsArticle")
    assert ld["headline"] == HOSTILE and ld["isPartOf"]["name"] == HOSTILE
    assert page.one("og:title") == HOSTILE  # attribute escaping round-trips
    [crumbs] = page.ld("BreadcrumbList")
    assert crumbs["itemListElement"][-1]["name"] == HOSTILE
    [ld] = Page(site.read("tags/index.html")).ld("CollectionPage")
    assert ld["mainEntity"]["itemListElement"][0]["name"] == HOSTILE


def test_dumps_escapes_markup_characters():
    text = structured.dumps({"a": "</script>&<!--"})
    assert str(text) == '{"a":"\\u003c/script\\u003e\\u0026\\u003c!--"}'
    assert json.loads(text) == {"a": "</script>&<!--"}
    assert structured.script(None) == ""
    data = structured.Data({"@type": "Thing", "name": "<b>"})
    from markupsafe import escape
    assert str(escape(data)) == \
        '<script type="application/ld+json">{"@type":"Thing","name":"\\u003cb\\u003e"}</script>'
    assert str(escape(structured.Data())) == ""


# ----------------------------------------------------------------------------- site image

def test_site_image_is_the_share_image_and_publisher_logo(tmp_path):
    s = Site(tmp_path / "s", {**SITE_YAML, "image": "/images/card.png"})
    s.write("static/images/card.png", b"\x89PNG\r\n\x1a\n")
    s.write("content/articles/a.md", article("A story", "2024-03-01"))
    s.build()
    home = Page(s.read("index.html"))
    assert home.one("og:image") == BASE + "images/card.png"
    assert home.one("twitter:card") == "summary_large_image"
    [ld] = home.ld("WebSite")
    assert ld["publisher"]["logo"] == {"@type": "ImageObject", "url": BASE + "images/card.png"}
    [ld] = Page(s.read("articles/a/index.html")).ld("NewsArticle")
    assert ld["image"] == [BASE + "images/card.png"]


@pytest.mark.parametrize("bad", ["../secret.png", "javascript:alert(1)", "", 3])
def test_site_image_must_be_a_url_or_a_site_path(tmp_path, bad):
    s = Site(tmp_path / "s", {**SITE_YAML, "image": bad})
    with pytest.raises(BuildError) as err:
        s.build()
    assert "image: must be an http(s) URL or a path in the site" in str(err.value)


# ----------------------------------------------------------------------------- pictures

def test_topic_activity_chart_links_every_bar_to_its_day(built):
    _, p = built
    rel = "topics/aleppo-offensive/index.html"
    page = p[rel]
    html = (built[0].public / rel).read_text()
    svg = html.split('<svg class="activity-chart"')[1].split("</svg>")[0]
    bars = [a for a in page.anchors if a["href"].startswith("#day-")
            and a.get("aria-label")]
    # 30 Nov (topic starts, 1 article) .. 5 Dec: four days with articles, one bar each
    assert [a["href"] for a in bars] == ["#day-2024-11-30", "#day-2024-12-01",
                                         "#day-2024-12-02", "#day-2024-12-05"]
    assert all(a["href"][1:] in page.ids for a in bars)
    assert bars[0]["aria-label"] == "30 Nov 2024: 1 article"
    assert 'viewBox="0 0 60 100"' in svg  # six days, empty ones included
    assert 'aria-labelledby="activity-summary"' in svg
    assert "4 articles over 6 days, 30 Nov 2024 to 5 Dec 2024." in html


def test_long_topic_chart_stays_small_and_links_to_days_that_exist(site):
    site.write("content/topics/long.md", topic("A long story", starts="2023-01-01"))
    start = date(2023, 1, 1)
    for i in range(0, 400, 3):  # every third day for 400 days
        d = start + timedelta(days=i)
        site.write(f"content/articles/a{i}.md", article(f"Day {i}", d.isoformat(),
                                                        topics=["long"]))
    site.build()
    page = Page(site.read("topics/long/index.html"))
    bars = [a for a in page.anchors if a["href"].startswith("#day-") and a.get("aria-label")]
    assert 10 < len(bars) <= charts.MAX_BARS
    assert all(a["href"][1:] in page.ids for a in bars)
    assert bars[0]["aria-label"].startswith("Week of 26 Dec 2022: ")


def test_activity_buckets():
    d = date(2024, 12, 2)
    act = charts.activity([(d, 2), (d + timedelta(days=2), 5)], first=d - timedelta(days=2))
    assert act.unit == "day" and [b.count for b in act.buckets] == [0, 0, 2, 0, 5]
    assert act.total == 7 and act.peak.start == d + timedelta(days=2)
    assert act.summary.startswith("7 articles over 5 days, 30 Nov 2024 to 4 Dec 2024.")
    assert charts.activity([]) is None
    # 1,000 articles over two years: per month, every article counted once
    days = [(date(2023, 1, 1) + timedelta(days=i % 700), 1) for i in range(1000)]
    act = charts.activity(days)
    assert act.unit == "month" and len(act.buckets) == 23 and act.total == 1000
    assert sum(b.count for b in act.buckets) == 1000
    assert all(b.target is None or b.start <= b.target <= b.end for b in act.buckets)
    # decades: per year
    act = charts.activity([(date(1990, 5, 1), 1), (date(2024, 5, 1), 1)])
    assert act.unit == "year" and len(act.buckets) == 35
    assert act.buckets[0].start == date(1990, 5, 1) and act.buckets[-1].end == date(2024, 5, 1)


def test_chart_markup_is_escaped():
    act = charts.activity([(date(2024, 1, 1), 1)])
    svg = charts.activity_svg(act, '"><script>', anchor='x"')
    assert "<script>" not in svg and 'href="#x&#34;2024-01-01"' in svg


def test_topics_index_draws_each_span_on_one_axis(built):
    site, _ = built
    html = site.read("topics/index.html")
    strips = html.split('<svg class="span-strip"')[1:]
    assert len(strips) == 2
    # most recently active first: Aleppo (30 Nov - 5 Dec, ongoing), Gaza (1 Nov - 20 Dec, ended)
    assert 'class="span ongoing"' in strips[0] and 'class="span ended"' in strips[1]
    assert 'aria-hidden="true"' in strips[0]

    def x_w(strip):
        rect = strip.split('class="span')[1]
        x = float(rect.split('x="')[1].split('"')[0])
        w = float(rect.split('width="')[1].split('"')[0])
        return x, w
    (ax, aw), (gx, gw) = x_w(strips[0]), x_w(strips[1])
    assert gx == 0.0 and gw == 1000.0  # Gaza spans the whole axis: 1 Nov .. 20 Dec
    assert 500 < ax < 650 and 60 < aw < 160  # Aleppo: 30 Nov .. 5 Dec inside it
    assert "1 Nov 2024" in html.split('class="strip-axis"')[1].split("</p>")[0]
    # the strips are hidden from screen readers: the words beside them say the same
    assert "1 Nov – 20 Dec 2024 · 2 articles · ended" in strips[1]
    assert "30 Nov – 5 Dec 2024 · 4 articles · ongoing" in strips[0]


def test_printed_values_escape_as_markupsafe_does():
    """Templates print values with render.escape_text, which must give exactly the text
    markupsafe.escape gives, for every kind of value a template prints."""
    from markupsafe import Markup, escape

    from builder.render import escape_text

    class Html:
        def __html__(self):
            return "<b>kept</b>"

    values = [HOSTILE, "", "plain", "&amp; already", "'single' \"double\"", "\u00e9\u2028<>",
              Markup("<i>safe</i>"), Markup("a") + "<b>", 0, 12.5, True, None, Html(),
              ("<t>",), datetime(2024, 1, 2)]
    for value in values:
        assert escape_text(value) == str(escape(value)), value


def test_pages_are_the_same_as_with_jinjas_own_escaping(site, monkeypatch):
    site.write("content/topics/t.md", topic(HOSTILE, summary=HOSTILE))
    site.write("content/articles/x.md", article(HOSTILE, "2024-05-01", summary=HOSTILE,
                                                topics=["t"], tags=[HOSTILE], source=HOSTILE))
    site.write("content/articles/y.md", article("O'Brien & <Co>", "2024-05-02",
                                                "Text with <b>tags</b> & ampersands.",
                                                topics=["t"], tags=["a&b"]))
    site.build()
    fast = site.tree_digest()
    import jinja2.runtime

    from builder import render
    from builder.render import Renderer

    used = Renderer(load_config(site.root)).templates["article.html"]
    assert used.root_render_func.__globals__["escape"] is render.escape_text  # fast path on
    monkeypatch.setattr(render, "escape_text", jinja2.runtime.escape)
    site.build(incremental=False)
    assert site.tree_digest() == fast
