"""The site model: immutable articles, topics and pages, related to each other by slug.

``content.py`` makes the records from files; :func:`build_site` checks what only the whole set
can tell (duplicate slugs, unknown topics), leaves out drafts and future articles, and indexes
the rest for the pages: by topic, tag, source, year and month.
"""

from __future__ import annotations

import difflib
import hashlib
from collections import Counter, defaultdict
from typing import Callable
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime

from . import bodies
from .config import SiteConfig
from .errors import Diagnostic
from .slugs import slugify


@dataclass(frozen=True, slots=True)
class Article:
    slug: str
    """URL name: ``/articles/<slug>/``."""
    path: str
    """Source file relative to the site folder."""
    explicit_slug: bool
    """True when front matter set ``slug:``; False when it comes from the file name."""
    title: str
    date: datetime
    """Publication time, timezone-aware, in the site's time zone."""
    has_time: bool
    """False when only a date was given (then no time of day is shown)."""
    updated: datetime | None
    summary: str
    """The summary as written ('' when none)."""
    excerpt: str
    """The summary, or the body's first paragraph when there is none."""
    topics: tuple[str, ...]
    """Topic slugs, in the order written."""
    tags: tuple[str, ...]
    """Tag names as written (the first spelling of each slug)."""
    tag_slugs: tuple[str, ...]
    """The tags' slugs, one per entry of ``tags``."""
    source: str | None
    """Outlet name."""
    source_slug: str | None
    source_url: str | None
    author: str | None
    draft: bool
    image: str | None
    image_caption: str | None
    section: str | None
    related_pins: tuple[str, ...]
    """Hand-picked related article slugs (front matter ``related: [...]``)."""
    related_enabled: bool
    """False when front matter says ``related: false``."""
    word_count: int
    """Approximate: spaces and line breaks in the plain text, plus one."""
    digest: str
    """Hash of the source file; changes whenever the file does."""
    body_data: "bytes | bodies.Stored"
    """The rendered body as UTF-8, before links are relocated for a page (read it as
    :attr:`body_html`): bytes from a fresh parse, or where the build cache's body store
    keeps them (``bodies.py``), so that a large site's bodies (~6 KB each, 280 MB at 50,000
    articles) are not all held in memory. Rendering Markdown once and keeping the HTML costs
    less than reading and rendering it again. Bytes, not str: news text has curly quotes and
    dashes, which make Python store a str at two bytes a character."""
    body_line: int
    """Line of the source file where the Markdown body starts."""
    listing: str = ""
    """Hash of what a page *listing* this article can show: every field but the body's
    (:data:`BODY_FIELDS`). Lists are rendered again only when it changes (see ``deps.py``)."""

    @property
    def url(self) -> str:
        return f"articles/{self.slug}/"

    @property
    def body_html(self) -> str:
        """The rendered body (see :attr:`body_data`)."""
        return bodies.read(self.body_data).decode("utf-8")


BODY_FIELDS = ("body_html", "body_data", "word_count", "body_line", "digest")
"""Article fields that belong to the article's own page and feeds, never to a list of articles.
A site template that names one of them makes every list depend on whole articles instead."""


LISTING_FIELDS = tuple(f.name for f in fields(Article)
                       if f.name not in BODY_FIELDS and f.name != "listing")
"""The fields :attr:`Article.listing` hashes, in order."""


def listing_digest(values: dict) -> str:
    """:attr:`Article.listing` of an article with these field values (by name)."""
    return hashlib.blake2b(repr(tuple(values[name] for name in LISTING_FIELDS)).encode(),
                           digest_size=12).hexdigest()


@dataclass(frozen=True, slots=True)
class Topic:
    slug: str
    path: str
    title: str
    summary: str
    starts: date | None
    ends: date | None
    body_html: str
    """The introduction, rendered."""
    digest: str

    @property
    def url(self) -> str:
        return f"topics/{self.slug}/"


@dataclass(frozen=True, slots=True)
class Page:
    slug: str
    path: str
    title: str
    summary: str
    body_html: str
    digest: str

    @property
    def url(self) -> str:
        return f"{self.slug}/"


@dataclass(frozen=True, slots=True)
class Term:
    """A tag or a source: a name and the articles carrying it, newest first."""

    slug: str
    name: str
    articles: tuple[str, ...]


def _reduce(record):
    """Pickle a record as its class and field values. The default for slotted dataclasses
    calls dataclasses.fields() for every record loaded (half a second for 10,000 articles,
    most of a warm start); this loads them through the plain constructor."""
    cls = type(record)
    return cls, tuple(getattr(record, name) for name in cls.__match_args__)


for _record in (Article, Topic, Page, Term):
    _record.__reduce__ = _reduce


# URLs the site itself uses at the top level; a page may not take them.
RESERVED = {"articles", "topics", "tags", "sources", "archive", "search", "assets", "pagefind",
            "feed.xml", "sitemap.xml", "robots.txt", "404.html", "index.html", "page"}


@dataclass(frozen=True)
class Site:
    config: SiteConfig
    articles: tuple[Article, ...]
    """Published articles, newest first (ties by slug)."""
    by_slug: dict[str, Article]
    topics: dict[str, Topic]
    """All topics by slug, sorted by slug."""
    topic_articles: dict[str, tuple[str, ...]]
    """Topic slug -> its published articles, oldest first (the story's order)."""
    tags: dict[str, Term]
    sources: dict[str, Term]
    years: dict[int, tuple[str, ...]]
    """Year -> article slugs, newest first."""
    months: dict[tuple[int, int], tuple[str, ...]]
    pages: tuple[Page, ...]
    hidden: int = 0
    """How many articles were left out as drafts or future-dated."""
    next_due: datetime | None = None
    """When the earliest article left out for its future date becomes due (then the site
    changes with the clock alone); None when there is none."""
    warnings: tuple[Diagnostic, ...] = field(default=())

    def topic_span(self, slug: str) -> tuple[datetime, datetime] | None:
        items = self.topic_articles.get(slug, ())
        if not items:
            return None
        return self.by_slug[items[0]].date, self.by_slug[items[-1]].date


def newest_first(a: Article) -> tuple:
    return (-a.date.timestamp(), a.slug)


def unique_slugs(articles: list[Article], problems: list[Diagnostic],
                 locate=None) -> list[Article]:
    """Articles with one slug each.

    Two files that *ask* for the same slug (``slug:`` in front matter) are an error naming both.
    Two files that merely share a file name in different folders (``2023/roundup.md`` and
    ``2024/roundup.md``, common in year-foldered archives) are not: the oldest keeps the plain
    slug, so its URL never changes when a newer namesake arrives, and each other one gets its
    folder appended (``roundup-2024``), with a warning saying so.
    """
    groups: dict[str, list[Article]] = defaultdict(list)
    for a in articles:
        groups[a.slug].append(a)
    taken = set(groups)
    out = []
    for slug in sorted(groups):
        group = sorted(groups[slug], key=lambda a: (a.date, a.path))
        if len(group) == 1:
            out.append(group[0])
            continue
        explicit = [a for a in group if a.explicit_slug]
        if explicit:
            # Reported where a `slug:` asks for the taken slug (not on a file that merely
            # has that name), at the line of its `slug:`.
            first = explicit[0] if len(explicit) > 1 else \
                next(a for a in group if not a.explicit_slug)
            for other in group:
                if other is first:
                    continue
                line, col = (locate(other.path, ("slug",)) if locate and other.explicit_slug
                             else (None, None))
                how = "has it too" if first.explicit_slug else "has it (its file name)"
                problems.append(Diagnostic(
                    other.path, line, col, f"duplicate slug {slug!r}: {first.path} {how}",
                    "give one of them another `slug:` or rename the file"))
            out.append(first)
            continue
        out.append(group[0])
        for other in group[1:]:
            folder = other.path.split("/")[2:-1]  # content/articles/<folders>/<file>
            base = "-".join([slug] + [slugify(f) for f in folder if slugify(f)]) or slug
            new, n = base, 2
            while new in taken:
                new, n = f"{base}-{n}", n + 1
            taken.add(new)
            problems.append(Diagnostic(
                other.path, None, None,
                f"slug {slug!r} is taken by the older {group[0].path}; published as {new!r}",
                "set `slug:` in the front matter to choose another", severity="warning"))
            out.append(replace(other, slug=new))
    out.sort(key=lambda a: a.path)
    return out


def build_site(config: SiteConfig, articles: list[Article], topics: list[Topic],
               pages: list[Page], *, drafts: bool, future: bool, now: datetime,
               locate: Callable[[str, tuple], tuple[int | None, int | None]] | None = None,
               ) -> tuple[Site | None, list[Diagnostic]]:
    """Check the set as a whole and index it. Returns (site, problems).

    ``locate(path, keys)`` finds the line and column of a front matter value; it is only
    called when something is wrong.
    """
    problems: list[Diagnostic] = []
    topic_by_slug: dict[str, Topic] = {}
    for t in sorted(topics, key=lambda t: t.path):
        if t.slug in topic_by_slug:
            problems.append(Diagnostic(t.path, None, None, f"duplicate topic slug {t.slug!r}",
                                       f"also used by {topic_by_slug[t.slug].path}"))
        else:
            topic_by_slug[t.slug] = t

    seen: dict[str, Article] = {}
    for a in unique_slugs(articles, problems, locate):
        seen[a.slug] = a
        for i, t in enumerate(a.topics):
            if t not in topic_by_slug:
                line, col = locate(a.path, ("topics", i)) if locate else (None, None)
                known = sorted(topic_by_slug)
                close = difflib.get_close_matches(t, known, n=1)
                hint = (f"did you mean {close[0]!r}?" if close else
                        f"create content/topics/{t}.md or fix the slug")
                problems.append(Diagnostic(a.path, line, col, f"unknown topic {t!r}", hint))

    for a in seen.values():  # hand-picked related stories that name no article
        for i, pin in enumerate(a.related_pins):
            if pin in seen and pin != a.slug:
                continue
            line, col = locate(a.path, ("related", i)) if locate else (None, None)
            if pin == a.slug:
                what, hint = "names the article itself", "remove it"
            else:
                close = difflib.get_close_matches(pin, sorted(seen.keys() - {a.slug}), n=1)
                what = "is not an article"
                hint = f"did you mean {close[0]!r}?" if close else "fix the slug or remove it"
            problems.append(Diagnostic(a.path, line, col,
                                       f"related entry {pin!r} {what}; it is left out", hint,
                                       severity="warning"))

    page_by_slug: dict[str, Page] = {}
    for p in sorted(pages, key=lambda p: p.path):
        if p.slug in RESERVED:
            problems.append(Diagnostic(p.path, None, None,
                                       f"page slug {p.slug!r} is used by the site itself",
                                       "rename the page or set another `slug:`"))
        elif p.slug in page_by_slug:
            problems.append(Diagnostic(p.path, None, None, f"duplicate page slug {p.slug!r}",
                                       f"also used by {page_by_slug[p.slug].path}"))
        else:
            page_by_slug[p.slug] = p
    if any(d.severity == "error" for d in problems):
        return None, problems

    published = [a for a in seen.values()
                 if (drafts or not a.draft) and (future or a.date <= now)]
    hidden = len(seen) - len(published)
    due = [a.date for a in seen.values() if a.date > now and (drafts or not a.draft)]
    published.sort(key=newest_first)
    by_slug = {a.slug: a for a in published}

    topic_articles: dict[str, list[str]] = {t: [] for t in sorted(topic_by_slug)}
    tag_items: dict[str, list[str]] = defaultdict(list)
    tag_names: dict[str, Counter] = defaultdict(Counter)
    source_items: dict[str, list[str]] = defaultdict(list)
    source_names: dict[str, Counter] = defaultdict(Counter)
    years: dict[int, list[str]] = defaultdict(list)
    months: dict[tuple[int, int], list[str]] = defaultdict(list)
    for a in published:  # newest first, so every list below is newest first
        for t in a.topics:
            topic_articles[t].append(a.slug)
        for name, s in zip(a.tags, a.tag_slugs):
            if not tag_items[s] or tag_items[s][-1] != a.slug:
                tag_items[s].append(a.slug)
                tag_names[s][name] += 1
        if a.source_slug:
            source_items[a.source_slug].append(a.slug)
            source_names[a.source_slug][a.source] += 1
        years[a.date.year].append(a.slug)
        months[(a.date.year, a.date.month)].append(a.slug)

    def terms(items, names) -> dict[str, Term]:
        # The spelling used most often names the term; ties go to the first in sort order.
        return {s: Term(s, min(names[s].items(), key=lambda kv: (-kv[1], kv[0]))[0],
                        tuple(items[s])) for s in sorted(items)}

    warnings = [p for p in problems if p.severity == "warning"]
    warnings += [Diagnostic(topic_by_slug[t].path, None, None, "topic has no published articles",
                           severity="warning")
                for t, items in topic_articles.items() if not items]
    site = Site(
        config=config,
        articles=tuple(published),
        by_slug=by_slug,
        topics=dict(sorted(topic_by_slug.items())),
        topic_articles={t: tuple(reversed(items)) for t, items in topic_articles.items()},
        tags=terms(tag_items, tag_names),
        sources=terms(source_items, source_names),
        years=dict(sorted(((y, tuple(v)) for y, v in years.items()), reverse=True)),
        months=dict(sorted(((m, tuple(v)) for m, v in months.items()), reverse=True)),
        pages=tuple(sorted(page_by_slug.values(), key=lambda p: p.slug)),
        hidden=hidden,
        next_due=None if future or not due else min(due),
        warnings=tuple(warnings),
    )
    return site, problems


SHAPE = ("slug", "path", "explicit_slug", "date", "updated", "draft", "topics", "tags",
         "tag_slugs", "source", "source_slug", "related_pins")
"""The fields of an article that decide the site's shape: which articles are published, their
order, and every index by topic, tag, source and date (and the pins, which the model checks
and warns about). The rest (title, body, summary...) shows on pages but moves nothing."""


def patch_site(site: Site, changes: list[tuple[object, object]], *, drafts: bool,
               future: bool, now: datetime) -> tuple[Site, list[Article]] | None:
    """``site`` with edited articles swapped in, without building the whole model again.

    ``changes`` are (old record, new record) pairs of the files that changed since ``site`` was
    built. Works only when every change is an article edit that keeps the site's shape (see
    :data:`SHAPE`) and the clock has not reached a future article; returns None otherwise (then
    call :func:`build_site`). Returns the new site and the published articles that changed; the
    result equals what :func:`build_site` would make from all the records.
    """
    if site.next_due is not None and now >= site.next_due:
        return None
    by_slug: dict[str, Article] | None = None
    edited = []
    for old, new in changes:
        if not (isinstance(old, Article) and isinstance(new, Article)):
            return None
        if any(getattr(old, f) != getattr(new, f) for f in SHAPE):
            return None
        if not ((drafts or not new.draft) and (future or new.date <= now)):
            continue  # left out before and after
        current = site.by_slug.get(new.slug)
        if current is None or current.path != new.path:
            return None  # published under another slug (see unique_slugs)
        by_slug = by_slug if by_slug is not None else dict(site.by_slug)
        by_slug[new.slug] = new
        edited.append(new)
    if by_slug is None:
        return site, []
    articles = tuple(by_slug[a.slug] for a in site.articles)
    return replace(site, articles=articles, by_slug=by_slug), edited
