"""What the pipeline hands the search stage, and the small HTML document Pagefind reads for it.

The stage never sees whole pages: one :class:`SearchRecord` per article or topic carries the
plain text and the facets. Each record becomes a tiny HTML document in which only the title and
the body text are words; filters, metadata and the sort key ride on empty elements as attribute
values, so they are never indexed as text and need no escaping beyond HTML's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from html import escape
from typing import Callable

TITLE_WEIGHT = {"article": 7.0, "topic": 10.0}
"""``data-pagefind-weight`` of the title (body text weighs 1). Pagefind gives an ``<h1>`` 7 by
default; a topic's title gets the maximum, 10, so a topic's own page ranks first for its name."""

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_PARAGRAPHS = re.compile(r"\n\s*\n")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class SearchRecord:
    """One page to index, as plain data."""

    url: str
    """Site-relative URL without a leading slash, e.g. ``articles/some-slug/``."""
    kind: str
    """``article`` or ``topic``."""
    title: str
    text: str
    """Plain text of the body (no HTML); may be empty or very long."""
    date: str
    """``YYYY-MM-DD`` (or a UTC ``YYYY-MM-DDTHH:MM:SSZ``): the sort key and the shard key."""
    meta: dict[str, str] = field(default_factory=dict)
    """Shown with a result: ``source``, ``image`` (site-relative URL), ``date`` (display) ..."""
    filters: dict[str, list[str]] = field(default_factory=dict)
    """Facets: ``topic`` (titles), ``tag``, ``source``, ``year``."""
    digest: str = ""
    """Optional hash of what ``text`` is made from (e.g. the source file's); when set, change
    detection uses it instead of hashing the text."""
    load_text: Callable[[], str] | None = field(default=None, compare=False, repr=False)
    """Optional: produces the text on demand, so unchanged shards never need it. Give it
    together with ``digest`` and leave ``text`` empty."""

    def body(self) -> str:
        return self.load_text() if self.load_text is not None else self.text

    @property
    def day(self) -> str:
        """The ``YYYY-MM-DD`` part of the date, or ``0000-00-00`` when it has none."""
        d = self.date[:10]
        return d if _DATE.fullmatch(d) else "0000-00-00"


def clean_text(text: str) -> str:
    """Text Pagefind's JSON and HTML parser accept: no control characters, no lone surrogates."""
    text = _CONTROL.sub(" ", text or "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


def truncate(text: str, limit: int) -> tuple[str, bool]:
    """Cut ``text`` to at most ``limit`` characters, at a space when there is one near."""
    if len(text) <= limit:
        return text, False
    cut = text.rfind(" ", limit - 200, limit)
    return text[: cut if cut > 0 else limit], True


def document(record: SearchRecord, language: str, max_chars: int) -> tuple[str, bool]:
    """The HTML Pagefind indexes for one record; and whether its text was cut."""
    title = clean_text(record.title).strip() or record.url
    text, cut = truncate(clean_text(record.body()), max_chars)
    weight = TITLE_WEIGHT.get(record.kind, 7.0)
    out = [f'<html lang="{escape(language)}"><body>',
           f'<h1 data-pagefind-meta="title" data-pagefind-weight="{weight:g}">{escape(title)}</h1>']
    if text.strip():
        # One escape over the whole body; blank lines become paragraph breaks.
        out.append("<p>" + _PARAGRAPHS.sub("</p>\n<p>", escape(text.strip(), quote=False)) + "</p>")
    out.append(f'<span data-pagefind-sort="date:{escape(record.date)}"></span>')
    out.append(_span("meta", "kind", record.kind))
    out.append(_span("meta", "iso", record.day))
    for key, value in sorted(record.meta.items()):
        if key not in ("title", "kind", "iso") and value is not None and str(value) != "":
            out.append(_span("meta", key, str(value)))
    for key, values in sorted(record.filters.items()):
        for value in values:
            out.append(_span("filter", key, str(value)))
    out.append("</body></html>")
    return "\n".join(out), cut


@lru_cache(maxsize=65536)
def _span(attribute: str, key: str, value: str) -> str:
    """An empty element carrying one filter or meta value (facet values repeat: cached)."""
    value = clean_text(value).strip()
    if not value:
        return ""
    return f'<span data-pagefind-{attribute}="{_key(key)}:{escape(value)}"></span>'


_NAME = re.compile(r"[^A-Za-z0-9_-]")


def _key(key: str) -> str:
    """Filter and meta names: Pagefind splits attribute values at ``:`` and ``,``."""
    return _NAME.sub("_", str(key)) or "_"
