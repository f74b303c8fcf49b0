"""Machine-readable outputs: Atom feeds, the sitemap and robots.txt (bytes, no disk writes).

Feeds carry no build timestamp: ``<updated>`` is the newest entry's time, so an unchanged site
gives byte-identical feeds.
"""

from __future__ import annotations

from datetime import datetime, timezone
from xml.sax.saxutils import escape, quoteattr

from . import markdown
from .model import Article, Site

FEED_ENTRIES = 20
SITEMAP_LIMIT = 50_000  # the sitemap protocol's maximum URLs per file


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


def site_feed(site: Site, body) -> bytes:
    cfg = site.config
    return atom(site, list(site.articles[:FEED_ENTRIES]), title=cfg.title,
                self_url=cfg.base_url + "feed.xml", page_url=cfg.base_url,
                ident=cfg.base_url, body=body)


def topic_feed(site: Site, slug: str, body) -> bytes:
    cfg = site.config
    topic = site.topics[slug]
    items = [site.by_slug[s] for s in reversed(site.topic_articles[slug][-FEED_ENTRIES:])]
    return atom(site, items, title=f"{topic.title} — {cfg.title}",
                self_url=f"{cfg.base_url}{topic.url}feed.xml", page_url=cfg.base_url + topic.url,
                ident=cfg.base_url + topic.url, body=body)


def feed_body(site: Site, read_body) -> callable:
    """Entry HTML: the article's rendered body with links made absolute."""
    def body(a: Article) -> str:
        html = read_body(a)
        return markdown.relocate_links(html, site.config.base_url)
    return body


def sitemaps(site: Site, urls: list[tuple[str, datetime | None]]) -> dict[str, bytes]:
    """``sitemap.xml`` (an index when there are more than 50,000 URLs) and its parts."""
    base = site.config.base_url
    chunks = [urls[i:i + SITEMAP_LIMIT] for i in range(0, len(urls), SITEMAP_LIMIT)] or [[]]

    def urlset(items) -> bytes:
        out = ['<?xml version="1.0" encoding="utf-8"?>\n',
               '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n']
        for url, lastmod in items:
            out.append(f"  <url><loc>{escape(base + url)}</loc>")
            if lastmod:
                out.append(f"<lastmod>{lastmod.date().isoformat()}</lastmod>")
            out.append("</url>\n")
        out.append("</urlset>\n")
        return "".join(out).encode("utf-8")

    if len(chunks) == 1:
        return {"sitemap.xml": urlset(chunks[0])}
    files = {f"sitemap-{i + 1}.xml": urlset(c) for i, c in enumerate(chunks)}
    index = ['<?xml version="1.0" encoding="utf-8"?>\n',
             '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n']
    for name in files:
        index.append(f"  <sitemap><loc>{escape(base + name)}</loc></sitemap>\n")
    index.append("</sitemapindex>\n")
    files["sitemap.xml"] = "".join(index).encode("utf-8")
    return files


def robots(site: Site) -> bytes:
    return f"User-agent: *\nAllow: /\n\nSitemap: {site.config.base_url}sitemap.xml\n".encode()
