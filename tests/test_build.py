"""The core build: every page kind, URLs under a sub-path, drafts and future, feeds, sitemap."""

from __future__ import annotations

import posixpath
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import HREF, NOW, Site, article, topic

ATOM = "{http://www.w3.org/2005/Atom}"
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def test_every_page_kind_is_written(news_site):
    result = news_site.build()
    for rel in ["index.html", "404.html", "robots.txt", "sitemap.xml", "feed.xml",
                "articles/rebels-attack-aleppo/index.html", "topics/index.html",
                "topics/aleppo-offensive/index.html", "topics/aleppo-offensive/feed.xml",
                "tags/index.html", "tags/syria/index.html", "sources/index.html",
                "sources/example-wire/index.html", "archive/index.html",
                "archive/2024/index.html", "archive/2024/12/index.html", "about/index.html",
                "assets/briefs.css", "assets/favicon.svg"]:
        assert (news_site.public / rel).is_file(), rel
    assert result.pages_by_kind["article"] == 5
    assert len(result.site.articles) == 5


def test_article_page_shows_its_metadata(news_site):
    news_site.build()
    html = news_site.read("articles/rebels-attack-aleppo/index.html")
    assert "<title>Rebels attack Aleppo — Aleppo offensive, Dec 2024 — Test briefs</title>" in html
    assert '<time datetime="2024-11-30T09:15:00+00:00">30 November 2024, 09:15</time>' in html
    assert 'href="https://wire.example/aleppo"' in html  # the original report
    assert 'href="../../sources/example-wire/">Example Wire</a>' in html
    assert 'href="../../topics/aleppo-offensive/">Aleppo offensive, Dec 2024</a>' in html
    assert 'href="../../tags/syria/">#Syria</a>' in html
    assert "<strong>Aleppo</strong>" in html
    assert '<h2 id="reaction">Reaction</h2>' in html
    assert 'class="standfirst">A surprise offensive.' in html
    assert '<html lang="en">' in html and 'class="skip-link" href="#main"' in html
    # first article of its topic: a "next" link to the second, no "previous"
    assert 'After: <a href="../../articles/strikes-kill-400/" rel="next">' in html
    assert 'rel="prev"' not in html.split('class="story-nav"')[1]


def test_previous_and_next_follow_the_topic_in_date_order(news_site):
    news_site.build()
    html = news_site.read("articles/strikes-kill-400/index.html")
    nav = html.split('class="story-nav"')[1]
    assert 'href="../../articles/rebels-attack-aleppo/" rel="prev"' in nav
    assert 'href="../../articles/rebels-reach-hama/" rel="next"' in nav
    assert "(2 of 3)" in nav


def test_topic_page_is_a_dated_timeline(news_site):
    news_site.build()
    html = news_site.read("topics/aleppo-offensive/index.html")
    assert "3 articles" in html
    assert "30 Nov – 5 Dec 2024" in html
    days = re.findall(r'<li class="day" id="day-([0-9-]+)">', html)
    assert days == ["2024-11-30", "2024-12-02", "2024-12-05"]  # oldest first: reads as a story
    latest = html.split('class="latest-box"')[1].split("</aside>")[0]
    assert "Rebels reach Hama" in latest  # the newest development is up top
    assert 'href="#day-2024-12-05"' in latest
    assert "Secret draft piece" not in html


def test_topic_dates_use_the_site_time_zone(tmp_path):
    s = Site(tmp_path / "s", {"title": "T", "base_url": "https://x.org/", "timezone": "Asia/Tokyo"})
    s.write("content/articles/a.md", article("Late news", "2024-12-01T20:00:00Z"))
    s.write("content/articles/b.md", article("Local time", "2024-12-02 09:00"))
    s.build()
    html = s.read("articles/a/index.html")
    assert 'datetime="2024-12-02T05:00:00+09:00">2 December 2024, 05:00' in html
    assert 'datetime="2024-12-02T09:00:00+09:00"' in s.read("articles/b/index.html")


def test_home_lists_newest_articles_and_active_topics(news_site):
    news_site.build()
    html = news_site.read("index.html")
    titles = re.findall(r'class="card-title"><a href="[^"]+">([^<]+)</a>', html)
    assert titles == ["Rebels reach Hama", "Strikes kill 400 insurgents",
                      "Ceasefire talks resume in Doha", "Rebels attack Aleppo", "An older story"]
    stories = html.split('class="stories"')[1]
    assert stories.index("Aleppo offensive") < stories.index("Gaza ceasefire talks")
    assert "Latest: <a" in stories


def test_listings_paginate_at_per_page(tmp_path):
    s = Site(tmp_path / "s", {"title": "T", "base_url": "https://x.org/", "per_page": 2})
    for i in range(5):
        s.write(f"content/articles/a{i}.md", article(f"Item {i}", f"2024-01-0{i + 1}", tags=["t"]))
    s.build()
    assert (s.public / "tags/t/page/3/index.html").is_file()
    assert not (s.public / "tags/t/page/4").exists()
    page2 = s.read("tags/t/page/2/index.html")
    assert re.findall(r">Item (\d)<", page2) == ["2", "1"]
    assert 'rel="prev" href="../../../../tags/t/"' in page2
    assert 'rel="next" href="../../../../tags/t/page/3/"' in page2
    assert (s.public / "archive/2024/01/page/2/index.html").is_file()


def test_all_links_are_relative_and_resolve(news_site):
    """Served under /news/ or at a domain root, every internal link must hit a real file."""
    news_site.build()
    public = news_site.public
    checked = 0
    for page in public.rglob("*.html"):
        rel_dir = page.parent.relative_to(public).as_posix()
        html = page.read_text()
        for url in HREF.findall(html):
            if url.startswith(("https://", "http://", "#", "mailto:")):
                continue
            if page.name == "404.html":
                assert url.startswith("/news/"), url  # the 404 page is served at any depth
                target = url[len("/news/"):]
            else:
                assert not url.startswith("/"), f"{page}: root-relative link {url}"
                target = posixpath.normpath(posixpath.join(rel_dir, url.split("#")[0]))
            target = "" if target == "." else target
            path = public / target
            assert path.is_file() or (path / "index.html").is_file(), f"{page}: {url}"
            checked += 1
    assert checked > 100


def test_root_relative_links_in_markdown_follow_the_base_path(site):
    site.write("content/articles/a.md", article("A", "2024-01-01", "See [b](/articles/b/)."))
    site.write("content/articles/b.md", article("B", "2024-01-02"))
    site.build()
    assert '<a href="../../articles/b/">b</a>' in site.read("articles/a/index.html")
    feed = site.read("feed.xml")
    assert "https://example.org/news/articles/b/" in feed


def test_drafts_and_future_articles_are_left_out_everywhere(news_site):
    news_site.build()
    for path in news_site.public.rglob("*"):
        if path.is_file():
            text = path.read_text(errors="ignore")
            assert "Secret draft piece" not in text, path
            assert "Future piece" not in text, path
    assert not (news_site.public / "articles/secret-draft").exists()
    assert "from-the-future" not in news_site.read("sitemap.xml")


def test_drafts_and_future_flags_include_them(news_site):
    news_site.build(drafts=True, future=True)
    html = news_site.read("articles/secret-draft/index.html")
    assert 'class="badge badge-draft">draft' in html
    assert (news_site.public / "articles/from-the-future/index.html").is_file()
    assert "Secret draft piece" in news_site.read("topics/aleppo-offensive/index.html")


def test_feeds_are_atom(news_site):
    news_site.build()
    root = ET.fromstring((news_site.public / "feed.xml").read_bytes())
    assert root.tag == f"{ATOM}feed"
    for tag in ("id", "title", "updated"):
        assert root.find(f"{ATOM}{tag}") is not None
    entries = root.findall(f"{ATOM}entry")
    assert [e.find(f"{ATOM}title").text for e in entries][0] == "Rebels reach Hama"
    assert len(entries) == 5
    for e in entries:
        assert e.find(f"{ATOM}id").text.startswith("https://example.org/news/articles/")
        assert e.find(f"{ATOM}updated") is not None
        assert e.find(f"{ATOM}link").get("href") == e.find(f"{ATOM}id").text
    assert root.find(f"{ATOM}updated").text == "2024-12-05T16:00:00+00:00"
    topic_feed = ET.fromstring((news_site.public / "topics/aleppo-offensive/feed.xml").read_bytes())
    assert len(topic_feed.findall(f"{ATOM}entry")) == 3
    self_link = [l for l in topic_feed.findall(f"{ATOM}link") if l.get("rel") == "self"][0]
    assert self_link.get("href") == "https://example.org/news/topics/aleppo-offensive/feed.xml"


def test_feed_escaping_round_trips_through_an_xml_parser():
    """The feeds' own escape()/quoteattr() (kept out of xml.sax.saxutils for its imports):
    any text, put in an element and in an attribute, parses back to itself, and the bytes are
    what saxutils would write."""
    import random
    from xml.sax import saxutils

    from builder.feeds import escape, quoteattr
    rng = random.Random(2)
    alphabet = "ab&<>\"'\n\r\t \u00e9;#x"
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 16)))
        assert (escape(text), quoteattr(text)) == (saxutils.escape(text), saxutils.quoteattr(text))
        root = ET.fromstring(f"<e a={quoteattr(text)}>{escape(text)}</e>")
        assert root.get("a") == text
        assert (root.text or "") == text.replace("\r\n", "\n").replace("\r", "\n")


def test_sitemap_and_robots(news_site):
    news_site.build()
    root = ET.fromstring((news_site.public / "sitemap.xml").read_bytes())
    locs = [u.find(f"{SM}loc").text for u in root.findall(f"{SM}url")]
    assert "https://example.org/news/" in locs
    assert "https://example.org/news/articles/rebels-attack-aleppo/" in locs
    assert "https://example.org/news/topics/aleppo-offensive/" in locs
    for loc in locs:
        rel = loc[len("https://example.org/news/"):]
        assert (news_site.public / rel / "index.html").is_file(), loc
    robots = news_site.read("robots.txt")
    assert "Sitemap: https://example.org/news/sitemap.xml" in robots


def test_sitemap_is_split_past_the_protocol_limit(news_site, monkeypatch):
    """Found by the 50k benchmark: the index of split sitemaps used to crash the build."""
    from builder import feeds
    monkeypatch.setattr(feeds, "SITEMAP_LIMIT", 3)
    news_site.build()
    index = ET.fromstring((news_site.public / "sitemap.xml").read_bytes())
    parts = [s.find(f"{SM}loc").text for s in index.findall(f"{SM}sitemap")]
    assert len(parts) >= 2 and parts[0] == "https://example.org/news/sitemap-1.xml"
    locs = []
    for url in parts:
        part = ET.fromstring((news_site.public / url.rsplit("/", 1)[1]).read_bytes())
        found = [u.find(f"{SM}loc").text for u in part.findall(f"{SM}url")]
        assert 1 <= len(found) <= 3
        locs += found
    assert len(locs) == len(set(locs))
    assert "https://example.org/news/articles/rebels-attack-aleppo/" in locs


def test_base_url_override(news_site):
    news_site.build(base_url="https://user.github.io/briefs/")
    assert 'href="https://user.github.io/briefs/articles/rebels-attack-aleppo/"' in \
        news_site.read("articles/rebels-attack-aleppo/index.html")
    assert 'href="/briefs/topics/"' in news_site.read("404.html")


def test_static_files_and_template_overrides(site):
    site.write("content/articles/a.md", article("A", "2024-01-01"))
    site.write("static/images/logo.txt", "LOGO")
    site.write("templates/footer.html", "<p>Custom footer for {{ site.title }}</p>\n")
    site.build()
    assert site.read("images/logo.txt") == "LOGO"
    assert "<p>Custom footer for Test briefs</p>" in site.read("index.html")


def test_out_option_and_cli_build(news_site, tmp_path):
    from conftest import run_cli
    out = tmp_path / "elsewhere"
    proc = run_cli("build", "--site", str(news_site.root), "--out", str(out), "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert (out / "index.html").is_file()
    assert proc.stdout == ""


def test_same_file_name_in_two_year_folders(site):
    site.write("content/articles/2023/roundup.md", article("Roundup 2023", "2023-12-30"))
    site.write("content/articles/2024/roundup.md", article("Roundup 2024", "2024-12-30"))
    result = site.build()
    assert "Roundup 2023" in site.read("articles/roundup/index.html")  # the older keeps its URL
    assert "Roundup 2024" in site.read("articles/roundup-2024/index.html")
    assert any("published as 'roundup-2024'" in w.message for w in result.warnings)


def test_bom_and_crlf_just_work(site):
    text = article("Windows file", "2024-01-01", "Line one.\n\nLine two.").replace("\n", "\r\n")
    site.write("content/articles/w.md", b"\xef\xbb\xbf" + text.encode())
    site.build()
    html = site.read("articles/w/index.html")
    assert "<p>Line one.</p>" in html and "Windows file" in html


def test_unchanged_rebuild_writes_nothing(news_site):
    news_site.build()
    before = {p: p.stat().st_mtime_ns for p in news_site.public.rglob("*") if p.is_file()}
    result = news_site.build()
    after = {p: p.stat().st_mtime_ns for p in news_site.public.rglob("*") if p.is_file()}
    assert before == after
    assert result.changed == 0


def test_rebuild_after_edit_matches_a_clean_build(news_site, tmp_path):
    news_site.build()
    news_site.build()
    news_site.write("content/articles/2024/rebels-reach-hama.md", article(
        "Rebels take Hama", "2024-12-05T18:00:00+02:00", "Rebels took Hama.",
        topics=["aleppo-offensive"]))
    (news_site.root / "content/articles/2023/old-story.md").unlink()
    news_site.build()
    incremental = news_site.tree_digest()
    clean = news_site.clean_copy(tmp_path / "clean")
    clean.build()
    assert incremental == clean.tree_digest()
    assert "archive/2023/index.html" not in incremental


def test_non_ascii_bodies_survive_the_cache_and_both_routes(site):
    # Bodies are kept as UTF-8 bytes (half the memory of Python's two-byte str for text with
    # curly quotes); every reader must see the same characters, from a fresh parse and from
    # the content cache.
    body = "Assad\u2019s forces \u2014 \u201cwe will return\u201d \u2014 left Z\u00fcrich \u00e9lan \U0001F600."
    site.write("content/articles/2024/quotes.md", article("Quotes", "2024-12-01", body))
    site.write("content/articles/2024/other.md", article("Other", "2024-12-02", "Plain."))
    result = site.build()
    parsed = next(a for a in result.site.articles if a.slug == "quotes")
    assert body in parsed.body_html
    assert body in site.read("articles/quotes/index.html")
    assert f"<content type=\"html\">&lt;p&gt;{body}&lt;/p&gt;" in site.read("feed.xml")
    site.write("content/articles/2024/other.md", article("Other", "2024-12-02", "Edited."))
    again = site.build()
    cached = next(a for a in again.site.articles if a.slug == "quotes")
    assert cached.body_html == parsed.body_html
    assert body in site.read("articles/quotes/index.html")
