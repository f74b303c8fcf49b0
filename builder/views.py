"""Views: what each output page is made of, the templates' only contract.

:func:`plan` turns the site model into a list of :class:`PageSpec`: output path, template, the
*dependency keys* the page is made from, and a function that builds the context the template
sees. Contexts are built only for pages that are rendered, so an incremental build that renders
twenty pages of a 10,000-article site does not assemble 10,000 contexts.

Dependency keys name pieces of the model (see ``deps.py``): ``a:<slug>`` an article, ``l:<slug>``
what a list of articles shows of it (all but the body), ``t:<slug>``
a topic, ``m:tag:<slug>`` the member list of a tag, ``n:tag:<slug>`` its display name,
``r:<slug>`` an article's related lists, ``tpl:<name>`` a template. A page must list every key
whose change could change its bytes; ``tests/test_incremental.py`` checks that incremental
builds equal clean builds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Callable

from . import charts, feeds
from .model import Article, Site, Term, Topic

HOME_ARTICLES = 20
HOME_TOPICS = 8
HOME = ("Home", "")
ARCHIVE = ("Archive", "archive/")
MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August",
               "September", "October", "November", "December"]


@dataclass(slots=True)
class PageSpec:
    path: str
    """Output file relative to the output folder, e.g. ``articles/x/index.html``."""
    template: str | None
    """Template name; None for outputs made by ``make`` directly (feeds, sitemap)."""
    make: Callable[[], Any]
    """Builds the template context, or the bytes when there is no template; called only when
    the page is rendered."""
    deps: tuple[str, ...] = ()
    """Dependency keys; ``()`` with ``always=True`` for pages cheap enough to always render."""
    kind: str = "page"
    """Page kind, for the build report and for search (``article``, ``topic``, ``tag`` ...)."""
    source: str | None = None
    """Content file the page mainly comes from (for link-check messages)."""
    always: bool = False

    @property
    def url(self) -> str:
        """Site-relative URL: ``articles/x/`` for ``articles/x/index.html``."""
        return self.path[: -len("index.html")] if self.path.endswith("index.html") else self.path

    @property
    def context(self) -> dict[str, Any]:
        return self.make()


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


class Planner:
    """Plans the pages of one site; keeps the lookups every page needs."""

    def __init__(self, site: Site, related: Any = None, listing: str = "l"):
        self.site = site
        self.related = related
        self.listing = listing
        """Key prefix for the articles a page lists: ``l`` their listed fields, ``a`` all."""
        self.a = site.by_slug
        # position of each article in each of its topics, for previous/next in O(1)
        self.positions = {t: {s: i for i, s in enumerate(items)}
                          for t, items in site.topic_articles.items()}
        self._listings: list[PageSpec] | None = None

    def rebase(self, site: Site, related: Any = None) -> None:
        """Plan ``site`` next, a site of the same shape as this planner's (``model.patch_site``):
        the tag, source and archive pages planned before stand (their contexts read the
        articles through ``self.a`` when rendered)."""
        self.site, self.related, self.a = site, related, site.by_slug

    def plan(self, unchanged: Callable[[str], bool] | None = None) -> list[PageSpec]:
        """Every output of the site, in a fixed order.

        ``unchanged(path)`` lets an incremental build skip planning article pages that it will
        carry over anyway (the previous build's keys for that page did not change); their
        paths go to ``self.carried``.
        """
        self.carried: list[str] = []
        site = self.site
        articles = []
        for a in site.articles:
            path = f"articles/{a.slug}/index.html"
            if unchanged is not None and unchanged(path):
                self.carried.append(path)
            else:
                articles.append(self.article_page(a))
        own = self.unrelated()
        return (own[:1] + articles + own[1:2] + [self.topic_page(slug) for slug in site.topics]
                + own[2:])

    def unrelated(self) -> list[PageSpec]:
        """The outputs that show no related-stories list (all but article and topic pages), in
        plan order: what a build can render before the related stage is done."""
        site = self.site
        newest = site.articles[:HOME_ARTICLES]
        activity = self.activity_deps()
        specs = [PageSpec("index.html", "home.html", self.home, kind="home",
                          deps=("home", *activity, *(f"{self.listing}:{a.slug}" for a in newest))),
                 PageSpec("topics/index.html", "topics.html", self.topics_index,
                          kind="topics", deps=activity)]
        if self._listings is None:
            self._listings = (self.term_pages("tags", "Tag", site.tags)
                              + self.term_pages("sources", "Source", site.sources)
                              + self.archive_pages())
        specs += self._listings
        for page in site.pages:
            specs.append(PageSpec(f"{page.url}index.html", "page.html",
                                  (lambda page=page: {"page": page}),
                                  deps=(f"p:{page.slug}",), kind="page", source=page.path))
        specs.append(PageSpec("404.html", "404.html", dict, kind="404"))
        if site.config.search.enabled:
            specs.append(PageSpec("search/index.html", "search.html", dict, kind="search"))
        specs += self.machine_files()
        return specs

    def machine_files(self) -> list[PageSpec]:
        """Feeds, sitemap and robots.txt: bytes made without templates."""
        site = self.site
        entries = site.articles[:feeds.FEED_ENTRIES]
        specs = [PageSpec("feed.xml", None, lambda: feeds.site_feed(site), kind="feed",
                          deps=("home", *(f"a:{a.slug}" for a in entries),
                                *(f"t:{t}" for a in entries for t in a.topics)))]
        for slug in site.topics:
            entries = feeds.topic_entries(site, slug)
            specs.append(PageSpec(f"topics/{slug}/feed.xml", None,
                                  (lambda slug=slug: feeds.topic_feed(site, slug)),
                                  deps=(f"t:{slug}", f"m:topic:{slug}",
                                        *(f"a:{a.slug}" for a in entries),
                                        # entries name all their topics
                                        *(f"t:{t}" for a in entries for t in a.topics)),
                                  kind="topic-feed"))
        for name, make in feeds.sitemaps(site).items():
            specs.append(PageSpec(name, None, make, kind="sitemap", deps=("sitemap",)))
        specs.append(PageSpec("robots.txt", None, lambda: feeds.robots(site), kind="robots",
                              always=True))
        return specs

    # ------------------------------------------------------------------ pages

    def activity_deps(self) -> tuple[str, ...]:
        """What lists of topics with their span and latest article are made of."""
        keys = ["topics-activity"]
        for slug, items in self.site.topic_articles.items():
            keys.append(f"t:{slug}")
            if items:
                keys += (f"{self.listing}:{items[0]}", f"{self.listing}:{items[-1]}")
        return tuple(keys)

    def home(self) -> dict:
        return {"articles": self.site.articles[:HOME_ARTICLES],
                "topics": topics_by_activity(self.site)[:HOME_TOPICS]}

    def topics_index(self) -> dict:
        listed = topics_by_activity(self.site)
        axis = time_axis(listed)
        return {"topics": listed, "axis": axis,
                "ticks": charts.axis_ticks(axis) if axis else ("month", [])}

    def article_page(self, article: Article) -> PageSpec:
        deps = [f"a:{article.slug}", f"r:{article.slug}"]
        for t in article.topics:
            order = self.site.topic_articles.get(t, ())
            i = self.positions.get(t, {}).get(article.slug)
            if i is None:
                continue
            deps += (f"t:{t}", f"m:topic:{t}")
            if i > 0:
                deps.append(f"{self.listing}:{order[i - 1]}")
            if i + 1 < len(order):
                deps.append(f"{self.listing}:{order[i + 1]}")
        deps += [f"n:tag:{s}" for s in article.tag_slugs]
        if self.related is not None:  # the articles its lists show (reasons come from texts)
            deps += [f"a:{s}" for s in self.related.shown(article.slug)]
            deps += [f"{self.listing}:{s}" for s in self.related.later(article.slug)]
        return PageSpec(f"{article.url}index.html", "article.html",
                        lambda: self.article_context(article),
                        deps=tuple(deps), kind="article", source=article.path)

    def related_of(self, article: Article) -> tuple[list, list]:
        """(related article, reasons) pairs and later articles; reasons are only worked out
        here, for a page being rendered."""
        if self.related is None:
            return [], []
        links = []
        if article.related_enabled:
            links = [(self.a[link.slug], link.reasons) for link in self.related.related(article.slug)
                     if link.slug in self.a]
        later = [self.a[s] for s in self.related.later(article.slug) if s in self.a]
        return links, later

    def article_context(self, article: Article) -> dict:
        links, later = self.related_of(article)
        site = self.site
        neighbours = []
        for t in article.topics:
            order = site.topic_articles.get(t, ())
            i = self.positions.get(t, {}).get(article.slug)
            if i is None:
                continue
            neighbours.append(Neighbours(
                site.topics[t], self.a[order[i - 1]] if i > 0 else None,
                self.a[order[i + 1]] if i + 1 < len(order) else None, i + 1, len(order)))
        topics = [site.topics[t] for t in article.topics if t in site.topics]
        crumbs = [HOME, (article.title, article.url)]
        if topics:
            crumbs.insert(1, (topics[0].title, topics[0].url))
        return {
            "article": article,
            "topics": topics,
            "neighbours": neighbours,
            "related": links,
            "later": later,
            "tags": [(s, site.tags[s].name) for s in article.tag_slugs if s in site.tags],
            "crumbs": crumbs,
        }

    def topic_page(self, slug: str) -> PageSpec:
        site = self.site
        members = site.topic_articles[slug]
        related = self.related_topics(slug)
        deps = (f"t:{slug}", f"m:topic:{slug}", f"rt:{slug}",
                *(f"{self.listing}:{s}" for s in members), *(f"t:{t.slug}" for t, _ in related))

        def make() -> dict:
            topic = site.topics[slug]
            items = [self.a[s] for s in members]
            days = group_by_day(items)
            return {"topic": topic, "articles": items, "days": days,
                    "latest": items[-1] if items else None, "count": len(items),
                    "span": site.topic_span(slug), "related_topics": related,
                    "activity": charts.activity(((d, len(x)) for d, x in days), topic.starts,
                                                topic.ends),
                    "crumbs": [HOME, ("Topics", "topics/"), (topic.title, topic.url)]}

        return PageSpec(f"topics/{slug}/index.html", "topic.html", make, deps=deps,
                        kind="topic", source=site.topics[slug].path)

    def related_topics(self, slug: str) -> list:
        if self.related is None:
            return []
        return [(self.site.topics[t], reason) for t, _score, reason in
                self.related.related_topics(slug) if t in self.site.topics]

    def term_pages(self, folder: str, label: str, terms: dict[str, Term]) -> list[PageSpec]:
        kind = folder[:-1]
        def index() -> dict:
            ordered = sorted(terms.values(), key=lambda t: (t.name.lower(), t.slug))
            return {"label": label, "folder": folder, "terms": ordered,
                    "entries": [(t.name, f"{folder}/{t.slug}/") for t in ordered]}

        specs = [PageSpec(f"{folder}/index.html", "terms.html", index, kind=folder,
                          deps=(f"m:{folder}",))]
        per_page = self.site.config.per_page
        for term in terms.values():
            base = f"{folder}/{term.slug}/"
            for number, chunk, pages in paginate(term.articles, self.site.config.per_page):
                pagination = Pagination(number, pages, base)

                def make(term=term, chunk=chunk, pagination=pagination, base=base) -> dict:
                    return {"label": label, "term": term, "count": len(term.articles),
                            "articles": [self.a[s] for s in chunk], "pagination": pagination,
                            "start": (pagination.number - 1) * per_page + 1,
                            "crumbs": [HOME, (f"{label}s", f"{folder}/"), (term.name, base)]}

                specs.append(PageSpec(
                    f"{pagination.url(number)}index.html", "term.html", make,
                    deps=(f"m:{kind}:{term.slug}", f"n:{kind}:{term.slug}",
                          *(f"{self.listing}:{s}" for s in chunk)), kind=kind))
        return specs

    def archive_pages(self) -> list[PageSpec]:
        site = self.site  # for planning; contexts read self.site (see rebase)
        specs = [PageSpec("archive/index.html", "archive.html", lambda: {
            "years": [(y, len(items), months_of(self.site, y))
                      for y, items in self.site.years.items()],
            "entries": [(str(y), f"archive/{y}/") for y in self.site.years],
        }, kind="archive", deps=("m:archive",))]
        for year, items in site.years.items():
            def year_page(year=year, items=items) -> dict:
                months = months_of(self.site, year)
                return {"year": year, "months": months, "count": len(items),
                        "entries": [(f"{MONTH_NAMES[m - 1]} {year}", f"archive/{year}/{m:02d}/")
                                    for m, _ in months],
                        "crumbs": [HOME, ARCHIVE, (str(year), f"archive/{year}/")]}

            specs.append(PageSpec(f"archive/{year}/index.html", "archive_year.html", year_page,
                                  kind="archive-year", deps=("m:archive",)))
        for (year, month), items in site.months.items():
            base = f"archive/{year}/{month:02d}/"
            for number, chunk, pages in paginate(items, site.config.per_page):
                pagination = Pagination(number, pages, base)

                def make(year=year, month=month, items=items, chunk=chunk,
                         pagination=pagination, base=base) -> dict:
                    listed = [self.a[s] for s in chunk]
                    return {"year": year, "month": month, "count": len(items),
                            "articles": listed, "days": group_by_day(listed),
                            "pagination": pagination,
                            "start": (pagination.number - 1) * self.site.config.per_page + 1,
                            "crumbs": [HOME, ARCHIVE, (str(year), f"archive/{year}/"),
                                       (MONTH_NAMES[month - 1], base)]}

                specs.append(PageSpec(f"{pagination.url(number)}index.html", "archive_month.html",
                                      make, deps=(f"m:month:{year}-{month:02d}",
                                                  *(f"{self.listing}:{s}" for s in chunk)),
                                      kind="archive-month"))
        return specs


def plan(site: Site, related: Any = None) -> list[PageSpec]:
    """Every output of the site (``Planner.plan`` can leave out unchanged article pages)."""
    return Planner(site, related).plan()


def months_of(site: Site, year: int) -> list[tuple[int, int]]:
    return [(m, len(site.months[(y, m)])) for (y, m) in site.months if y == year]


def paginate(items: tuple, per_page: int):
    pages = max(1, -(-len(items) // per_page))
    for number in range(1, pages + 1):
        yield number, items[(number - 1) * per_page: number * per_page], pages


def group_by_day(items: list[Article]) -> list[tuple[date, list[Article]]]:
    """[(day, articles of that day)] in the order given (articles keep their order)."""
    days: dict = {}
    for item in items:
        days.setdefault(item.date.date(), []).append(item)
    return list(days.items())


def topics_by_activity(site: Site) -> list[dict]:
    """Topics with their span and latest article, most recently active first."""
    out = []
    for slug, topic in site.topics.items():
        items = site.topic_articles[slug]
        latest = site.by_slug[items[-1]] if items else None
        span = site.topic_span(slug)
        out.append({"topic": topic, "count": len(items), "latest": latest, "span": span,
                    "ongoing": topic.ends is None, "period": period(topic, span)})
    out.sort(key=lambda d: (d["latest"] is None,
                            -(d["latest"].date.timestamp() if d["latest"] else 0),
                            d["topic"].slug))
    return out


def period(topic: Topic, span: tuple[datetime, datetime] | None) -> tuple[date, date] | None:
    """The days a story covers: its articles' span, widened to its ``starts`` and ``ends``."""
    days = [d for d in (topic.starts, topic.ends) if d is not None]
    if span:
        days += [span[0].date(), span[1].date()]
    return (min(days), max(days)) if days else None


def time_axis(listed: list[dict]) -> tuple[date, date] | None:
    """One time axis for every topic of the topics index: earliest start to latest end."""
    periods = [t["period"] for t in listed if t["period"]]
    if not periods:
        return None
    return min(p[0] for p in periods), max(p[1] for p in periods)
