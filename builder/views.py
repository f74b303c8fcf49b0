"""Views: what each output page is made of, the templates' only contract.

:func:`plan` turns the site model into a list of :class:`PageSpec` — output path, template and the
context the template sees — without rendering anything. Contexts hold model records
(articles, topics) and small dicts; templates must not reach further than what is here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .model import Article, Site, Term

HOME_ARTICLES = 20
HOME_TOPICS = 8


@dataclass(slots=True)
class PageSpec:
    path: str
    """Output file relative to the output folder, e.g. ``articles/x/index.html``."""
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    kind: str = "page"
    """Page kind, for the build report and for search (``article``, ``topic``, ``tag`` ...)."""
    source: str | None = None
    """Content file the page mainly comes from (for link-check messages)."""

    @property
    def url(self) -> str:
        """Site-relative URL: ``articles/x/`` for ``articles/x/index.html``."""
        return self.path[: -len("index.html")] if self.path.endswith("index.html") else self.path


@dataclass(frozen=True, slots=True)
class Neighbours:
    """The previous and next article of one topic, as seen from one article."""

    topic: Any
    previous: Article | None
    next: Article | None
    position: int
    total: int


@dataclass(frozen=True, slots=True)
class Pagination:
    number: int
    count: int
    base: str
    """Site-relative URL of page 1, e.g. ``tags/aleppo/``."""

    def url(self, number: int) -> str:
        return self.base if number == 1 else f"{self.base}page/{number}/"

    @property
    def previous_url(self) -> str | None:
        return self.url(self.number - 1) if self.number > 1 else None

    @property
    def next_url(self) -> str | None:
        return self.url(self.number + 1) if self.number < self.count else None


def plan(site: Site, related: Any = None) -> list[PageSpec]:
    """Every HTML page of the site, in a fixed order."""
    specs: list[PageSpec] = []
    a = site.by_slug
    specs.append(PageSpec("index.html", "home.html", {
        "articles": site.articles[:HOME_ARTICLES],
        "topics": topics_by_activity(site)[:HOME_TOPICS],
    }, kind="home"))
    for article in site.articles:
        specs.append(article_page(site, article, related))
    specs.append(PageSpec("topics/index.html", "topics.html",
                          {"topics": topics_by_activity(site)}, kind="topics"))
    for slug, topic in site.topics.items():
        items = [a[s] for s in site.topic_articles[slug]]
        specs.append(PageSpec(f"{topic.url}index.html", "topic.html", {
            "topic": topic,
            "days": group_by_day(items),
            "latest": items[-1] if items else None,
            "count": len(items),
            "span": site.topic_span(slug),
            "related_topics": related_topics(site, related, slug),
        }, kind="topic", source=topic.path))
    specs += term_pages(site, "tags", "Tag", site.tags)
    specs += term_pages(site, "sources", "Source", site.sources)
    specs.append(PageSpec("archive/index.html", "archive.html", {
        "years": [(y, len(items), [(m, len(site.months[(y, m)])) for (yy, m) in site.months
                                   if yy == y]) for y, items in site.years.items()],
    }, kind="archive"))
    for year, items in site.years.items():
        months = [(m, len(site.months[(y, m)])) for (y, m) in site.months if y == year]
        specs.append(PageSpec(f"archive/{year}/index.html", "archive_year.html", {
            "year": year, "months": months, "count": len(items),
        }, kind="archive-year"))
    for (year, month), items in site.months.items():
        base = f"archive/{year}/{month:02d}/"
        for number, chunk, pages in paginate(items, site.config.per_page):
            specs.append(PageSpec(f"{Pagination(number, pages, base).url(number)}index.html",
                                  "archive_month.html", {
                                      "year": year, "month": month, "count": len(items),
                                      "days": group_by_day([a[s] for s in chunk], newest=True),
                                      "pagination": Pagination(number, pages, base),
                                  }, kind="archive-month"))
    for page in site.pages:
        specs.append(PageSpec(f"{page.url}index.html", "page.html", {"page": page},
                              kind="page", source=page.path))
    specs.append(PageSpec("404.html", "404.html", {}, kind="404"))
    if site.config.search.enabled:
        specs.append(PageSpec("search/index.html", "search.html", {}, kind="search"))
    return specs


def article_page(site: Site, article: Article, related: Any) -> PageSpec:
    neighbours = []
    for t in article.topics:
        order = site.topic_articles.get(t, ())
        if article.slug not in order:
            continue
        i = order.index(article.slug)
        neighbours.append(Neighbours(
            site.topics[t],
            site.by_slug[order[i - 1]] if i > 0 else None,
            site.by_slug[order[i + 1]] if i + 1 < len(order) else None,
            i + 1, len(order)))
    links, later = ([], [])
    if related is not None and article.related_enabled:
        links = [(site.by_slug[link.slug], link.reasons) for link in related.related(article.slug)
                 if link.slug in site.by_slug]
    if related is not None:
        later = [site.by_slug[s] for s in related.later(article.slug) if s in site.by_slug]
    return PageSpec(f"{article.url}index.html", "article.html", {
        "article": article,
        "topics": [site.topics[t] for t in article.topics if t in site.topics],
        "neighbours": neighbours,
        "related": links,
        "later": later,
        "tags": [(s, site.tags[s].name) for s in article.tag_slugs if s in site.tags],
    }, kind="article", source=article.path)


def related_topics(site: Site, related: Any, slug: str) -> list:
    if related is None:
        return []
    return [(site.topics[t], reason) for t, _score, reason in related.related_topics(slug)
            if t in site.topics]


def term_pages(site: Site, folder: str, label: str, terms: dict[str, Term]) -> list[PageSpec]:
    specs = [PageSpec(f"{folder}/index.html", "terms.html", {
        "label": label, "folder": folder,
        "terms": sorted(terms.values(), key=lambda t: (t.name.lower(), t.slug)),
    }, kind=folder)]
    for term in terms.values():
        base = f"{folder}/{term.slug}/"
        for number, chunk, pages in paginate(term.articles, site.config.per_page):
            pagination = Pagination(number, pages, base)
            specs.append(PageSpec(f"{pagination.url(number)}index.html", "term.html", {
                "label": label, "term": term, "count": len(term.articles),
                "articles": [site.by_slug[s] for s in chunk], "pagination": pagination,
            }, kind=folder[:-1]))
    return specs


def paginate(items: tuple, per_page: int):
    pages = max(1, -(-len(items) // per_page))
    for number in range(1, pages + 1):
        yield number, items[(number - 1) * per_page: number * per_page], pages


def group_by_day(items: list[Article], newest: bool = False) -> list[tuple[datetime, list[Article]]]:
    """[(day, articles of that day)] in the order given (articles keep their order)."""
    days: dict = {}
    for item in items:
        days.setdefault(item.date.date(), []).append(item)
    return list(days.items())


def topics_by_activity(site: Site) -> list[dict]:
    """Topics with their span and latest article, most recently active first; ongoing first."""
    out = []
    for slug, topic in site.topics.items():
        items = site.topic_articles[slug]
        latest = site.by_slug[items[-1]] if items else None
        span = site.topic_span(slug)
        out.append({"topic": topic, "count": len(items), "latest": latest, "span": span,
                    "ongoing": topic.ends is None})
    out.sort(key=lambda d: (d["latest"] is None,
                            -(d["latest"].date.timestamp() if d["latest"] else 0),
                            d["topic"].slug))
    return out
