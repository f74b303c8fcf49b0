"""Machine-readable outputs: Atom feeds, the sitemap and robots.txt (bytes, no disk writes).

Feeds carry no build timestamp: ``<updated>`` is the newest entry's time, so an unchanged site
gives byte-identical feeds.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Callable

from . import content
from .model import Article, Site

FEED_ENTRIES = 20
SITEMAP_LIMIT = 50_000  # the sitemap protocol's maximum URLs per file


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
"""Characters XML 1.0 does not allow (a feed reader rejects the whole feed for one)."""


def escape(text: str) -> str:
    """XML character data: ``&``, ``<`` and ``>`` escaped (what ``xml.sax.saxutils.escape``
    does; that module imports urllib.request and http.client, 25 ms of every build's start),
    and characters XML cannot carry at all left out."""
    if _NOT_XML.search(text):
        text = _NOT_XML.sub("", text)
    return text.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")


def quoteattr(text: str) -> str:
    """An XML attribute value with its quotes, as ``xml.sax.saxutils.quoteattr`` makes it."""
    text = escape(text).replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")
    if '"' not in text:
        return f'"{text}"'
    if "'" not in text:
        return f"'{text}'"
    return '"{}"'.format(text.replace('"', "&quot;"))


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def atom(site: Site, articles: list[Article], *, title: str, self_url: str, page_url: str,
         ident: str, body: callable) -> bytes:
    """An Atom 1.0 feed of ``articles`` (newest first); ``body(article)`` gives entry HTML."""
    cfg = site.config
    updated = max((a.updated or a.date for a in articles), default=datetime(1970, 1, 1, tzinfo=timezone.utc))
    out = ['<?xml version="1.0" encoding="utf-8"?>\n',
           f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang={quoteattr(cfg.language)}>\n',
           f"  <title>{escape(title)}</title>\n",
           f"  <id>{escape(ident)}</id>\n",
           f"  <link rel=\"self\" type=\"application/atom+xml\" href={quoteattr(self_url)}/>\n",
           f"  <link rel=\"alternate\" type=\"text/html\" href={quoteattr(page_url)}/>\n",
           f"  <updated>{_iso(updated)}</updated>\n"]
    if cfg.description:
        out.append(f"  <subtitle>{escape(cfg.description)}</subtitle>\n")
    out.append(f"  <author><name>{escape(cfg.author or cfg.title)}</name></author>\n")
    out.append('  <generator uri="https://github.com/briefs">briefs</generator>\n')
    for a in articles:
        url = cfg.base_url + a.url
        out.append("  <entry>\n")
        out.append(f"    <title>{escape(a.title)}</title>\n")
        out.append(f"    <id>{escape(url)}</id>\n")
        out.append(f"    <link rel=\"alternate\" type=\"text/html\" href={quoteattr(url)}/>\n")
        out.append(f"    <published>{_iso(a.date)}</published>\n")
        out.append(f"    <updated>{_iso(a.updated or a.date)}</updated>\n")
        if a.author:
            out.append(f"    <author><name>{escape(a.author)}</name></author>\n")
        for t in a.topics:
            if t in site.topics:
                out.append(f"    <category term={quoteattr(t)} label={quoteattr(site.topics[t].title)}/>\n")
        if a.excerpt:
            out.append(f"    <summary>{escape(a.excerpt)}</summary>\n")
        out.append(f"    <content type=\"html\">{escape(body(a))}</content>\n")
        out.append("  </entry>\n")
    out.append("</feed>\n")
    return "".join(out).encode("utf-8")


def site_feed(site: Site) -> bytes:
    cfg = site.config
    return atom(site, list(site.articles[:FEED_ENTRIES]), title=cfg.title,
                self_url=cfg.base_url + "feed.xml", page_url=cfg.base_url,
                ident=cfg.base_url, body=_body(site))


def topic_entries(site: Site, slug: str) -> list[Article]:
    """The topic's newest articles, newest first."""
    return [site.by_slug[s] for s in reversed(site.topic_articles[slug][-FEED_ENTRIES:])]


def topic_feed(site: Site, slug: str) -> bytes:
    cfg = site.config
    topic = site.topics[slug]
    return atom(site, topic_entries(site, slug), title=f"{topic.title} — {cfg.title}",
                self_url=f"{cfg.base_url}{topic.url}feed.xml", page_url=cfg.base_url + topic.url,
                ident=cfg.base_url + topic.url, body=_body(site))


def _body(site: Site):
    """Entry HTML: the article's rendered body with links made absolute."""
    return lambda a: content.render_body(a, site.config.base_url)


def sitemap_urls(site: Site) -> list[tuple[str, datetime | None]]:
    newest = site.articles[0].date if site.articles else None
    urls: list[tuple[str, datetime | None]] = [("", newest)]
    urls += [(a.url, a.updated or a.date) for a in site.articles]
    for slug, topic in site.topics.items():
        span = site.topic_span(slug)
        urls.append((topic.url, span[1] if span else None))
    urls += [(p.url, None) for p in site.pages]
    return urls


def sitemaps(site: Site) -> dict[str, Callable[[], bytes]]:
    """``sitemap.xml`` (an index when there are more than 50,000 URLs) and its parts, as
    functions that make their bytes."""
    base = site.config.base_url
    count = 1 + len(site.articles) + len(site.topics) + len(site.pages)
    parts = max(1, -(-count // SITEMAP_LIMIT))

    def urlset(part: int | None) -> bytes:
        urls = sitemap_urls(site)
        if part is not None:
            urls = urls[part * SITEMAP_LIMIT:(part + 1) * SITEMAP_LIMIT]
        out = ['<?xml version="1.0" encoding="utf-8"?>\n',
               '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n']
        for url, lastmod in urls:
            out.append(f"  <url><loc>{escape(base + url)}</loc>")
            if lastmod:
                out.append(f"<lastmod>{lastmod.date().isoformat()}</lastmod>")
            out.append("</url>\n")
        out.append("</urlset>\n")
        return "".join(out).encode("utf-8")

    if parts == 1:
        return {"sitemap.xml": lambda: urlset(None)}
    names = [f"sitemap-{i + 1}.xml" for i in range(parts)]
    files: dict[str, Callable[[], bytes]] = {
        name: (lambda i=i: urlset(i)) for i, name in enumerate(names)}

    def index() -> bytes:
        out = ['<?xml version="1.0" encoding="utf-8"?>\n',
               '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n']
        for name in names:
            out.append(f"  <sitemap><loc>{escape(base + name)}</loc></sitemap>\n")
        out.append("</sitemapindex>\n")
        return "".join(out).encode("utf-8")

    files["sitemap.xml"] = index
    return files


def robots(site: Site) -> bytes:
    return f"User-agent: *\nAllow: /\n\nSitemap: {site.config.base_url}sitemap.xml\n".encode()
