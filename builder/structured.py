"""Structured data: schema.org JSON-LD for search engines and link previews.

Each function returns a dict (:class:`Data`) built from what a template already has (the site
settings, model records, the page's breadcrumb trail); printed in a template, it becomes a
``<script type="application/ld+json">`` element (:func:`script`, also the ``jsonld`` filter
for plain dicts). Templates call them through the globals ``ld_article``, ``ld_collection``,
``ld_breadcrumbs`` and ``ld_website``, so a site that overrides a template decides what its
page declares.

URLs in structured data are absolute (``base_url`` + the site-relative URL): crawlers read the
JSON without resolving it against the page.
"""

from __future__ import annotations

import json
from typing import Any, Iterable

from markupsafe import Markup

from .config import SiteConfig
from .model import Article

CONTEXT = "https://schema.org"

# Inside <script>, the HTML parser ends the element at the first "</script"; "<!--" also changes
# how it scans. JSON allows any character as a \u escape, so these are written escaped and the
# text can never leave the element whatever a title contains. U+2028/2029 are escaped for
# JavaScript consumers that eval JSON-LD as a script.
_SCRIPT_SAFE = (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                ("\u2028", "\\u2028"), ("\u2029", "\\u2029"))


def _encoder():
    """``data -> compact JSON text``. JSONEncoder.encode builds a new C encoder on every call,
    which cost more than everything else here (two blocks on each of thousands of article
    pages); the C encoder is made once instead when the interpreter has it."""
    try:
        from json.encoder import c_encode_basestring, c_make_encoder
    except ImportError:
        c_make_encoder = None
    if c_make_encoder is None or c_encode_basestring is None:
        return json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

    def unsupported(value: Any) -> Any:
        raise TypeError(f"{type(value).__name__} is not JSON serialisable")

    # (markers, default, encoder, indent, key separator, item separator, sort_keys, skipkeys,
    # allow_nan); no markers: the data is plain trees of dicts and lists, never circular.
    iterencode = c_make_encoder(None, unsupported, c_encode_basestring, None, ":", ",",
                                False, False, True)
    return lambda data: "".join(iterencode(data, 0))


_ENCODE = _encoder()


def dumps(data: Any) -> Markup:
    """JSON for the inside of a ``<script>`` element: no ``<``, ``>`` or ``&`` in the text."""
    text = _ENCODE(data)
    for char, escaped in _SCRIPT_SAFE:
        if char in text:  # rare: most pages need no replacement at all
            text = text.replace(char, escaped)
    return Markup(text)


def script(data: Any) -> Markup:
    """The ``jsonld`` filter: a complete JSON-LD script element (nothing for ``None``)."""
    if not data:
        return Markup("")
    return Markup(f'<script type="application/ld+json">{dumps(data)}</script>')


class Data(dict):
    """A JSON-LD object that prints itself as its script element: ``{{ ld_article(...) }}``
    needs no filter (one call fewer on every page), and a template can still read or change
    its keys first."""

    __slots__ = ()

    def __html__(self) -> str:
        return script(self)


def absolute(site: SiteConfig, url: str) -> str:
    """``base_url`` + a site-relative URL or path; http(s) URLs are returned as they are."""
    if url.startswith(("http://", "https://")):
        return url
    return site.base_url + url.lstrip("/")


def publisher(site: SiteConfig) -> dict:
    """The organisation behind the site: ``author`` in site.yaml, else the site's title."""
    org = {"@type": "Organization", "@id": site.base_url + "#publisher",
           "name": site.author or site.title, "url": site.base_url}
    if site.image:
        org["logo"] = {"@type": "ImageObject", "url": absolute(site, site.image)}
    return org


def website(site: SiteConfig) -> dict:
    """``WebSite`` for the home page."""
    data = Data({"@context": CONTEXT, "@type": "WebSite", "@id": site.base_url + "#website",
            "name": site.title, "url": site.base_url, "inLanguage": site.language,
            "publisher": publisher(site)})
    if site.description:
        data["description"] = site.description
    return data


def published(article: Article) -> str:
    """ISO 8601 publication time; only the date when no time of day was given (no false
    precision: a date-only article was not published at midnight)."""
    return article.date.isoformat() if article.has_time else article.date.date().isoformat()


def news_article(site: SiteConfig, article: Article, topics: Iterable, url: str) -> dict:
    """``NewsArticle`` for an article page; ``topics`` are its Topic records, ``url`` absolute."""
    data = Data({
        "@context": CONTEXT, "@type": "NewsArticle", "@id": url + "#article",
        "headline": article.title,
        "url": url,
        "mainEntityOfPage": {"@type": "WebPage", "@id": url},
        "datePublished": published(article),
        "dateModified": article.updated.isoformat() if article.updated else published(article),
        "inLanguage": site.language,
        "publisher": publisher(site),
    })
    if article.excerpt:
        data["description"] = article.excerpt
    if article.author:
        data["author"] = [{"@type": "Person", "name": article.author}]
    else:
        data["author"] = [{"@type": "Organization", "name": site.author or site.title,
                           "url": site.base_url}]
    image = article.image or site.image
    if image:
        data["image"] = [absolute(site, image)]
    parts = [{"@type": "CollectionPage", "@id": site.base_url + t.url, "name": t.title,
              "url": site.base_url + t.url} for t in topics]
    if parts:
        data["isPartOf"] = parts if len(parts) > 1 else parts[0]
    if article.section:
        data["articleSection"] = article.section
    if article.tags:
        data["keywords"] = list(article.tags)
    if article.word_count:
        data["wordCount"] = article.word_count
    if article.source_url or article.source:
        # A briefing retells a report from elsewhere: say where it comes from.
        based = {"@type": "NewsArticle"}
        if article.source_url:
            based["url"] = article.source_url
        if article.source:
            based["publisher"] = {"@type": "Organization", "name": article.source}
        data["isBasedOn"] = based
    return data


def text(value: Any) -> str:
    """Plain text: a template's rendered block (``self.description()``) arrives HTML-escaped."""
    return value.unescape() if isinstance(value, Markup) else str(value)


def _entry(item: Any) -> tuple[str, str]:
    if isinstance(item, tuple):
        return text(item[0]), item[1]
    return item.title, item.url


def collection(site: SiteConfig, name: str, url: str, items: Iterable, *,
               description: str = "", start: int = 1, total: int | None = None,
               order: str = "Descending") -> dict:
    """``CollectionPage`` whose main entity is an ``ItemList`` of the page's entries.

    ``items`` are records with ``title`` and ``url`` (articles, topics, pages) or
    ``(name, site-relative url)`` pairs; ``start`` is the position of the first one (for page 2
    onwards of a paginated listing), ``total`` the length of the whole list.
    """
    elements = [{"@type": "ListItem", "position": start + i, "url": site.base_url + link,
                 "name": title} for i, (title, link) in enumerate(map(_entry, items))]
    data = Data({
        "@context": CONTEXT, "@type": "CollectionPage", "@id": url, "name": text(name),
        "url": url,
        "inLanguage": site.language,
        "isPartOf": {"@type": "WebSite", "@id": site.base_url + "#website", "name": site.title,
                     "url": site.base_url},
        "mainEntity": {"@type": "ItemList",
                       "itemListOrder": f"https://schema.org/ItemListOrder{order}",
                       "numberOfItems": total if total is not None else len(elements),
                       "itemListElement": elements},
    })
    if description:
        data["description"] = text(description)
    return data


def breadcrumbs(site: SiteConfig, trail: Iterable[tuple[str, str]]) -> Data:
    """``BreadcrumbList`` from the page's trail of ``(name, site-relative url)``."""
    elements = [{"@type": "ListItem", "position": i, "name": text(name),
                 "item": site.base_url + link}
                for i, (name, link) in enumerate(trail, 1)]
    if not elements:
        return Data()  # prints nothing
    return Data({"@context": CONTEXT, "@type": "BreadcrumbList",
                 "itemListElement": elements})
