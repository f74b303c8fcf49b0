"""Search records made from the site model: which words are searchable and which facets exist.

The pipeline supplies each article's plain body text (it has it from rendering; see
``builder.markdown.plain_text``); everything else comes from the model:

- article: title; summary and body as text; facets topic (titles), tag, source, year;
  metadata source, image (site-relative images only: results load no files from other hosts),
  date (as the theme writes it);
- topic: title (weighted so the topic's own page ranks first for its name), summary and
  introduction as text; dated by its latest article so "newest first" puts it beside its latest
  development; no facets, so narrowing by a facet shows articles only.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Callable, Iterator

from ..markdown import plain_text
from ..model import Article, Site
from ..render import long_date
from .records import SearchRecord
from .stage import SearchStats, run_search_stage


def article_text(article: Article) -> str:
    """Summary and body of an article as plain text (from the body rendered at parse time)."""
    return "\n\n".join(t for t in (article.summary, plain_text(article.body_html)) if t)


def article_record(site: Site, article: Article, text: str | None = None) -> SearchRecord:
    """The record of one article; without ``text`` it is read from the source file only if the
    article's shard has to be indexed again (change detection uses the file's digest)."""
    day = article.date.date()
    meta = {"date": long_date(day)}
    if article.source:
        meta["source"] = article.source
    image = article.image or ""
    if image and not image.startswith(("http://", "https://", "//")):
        meta["image"] = image.lstrip("/")
        if article.image_caption:
            meta["image_alt"] = article.image_caption
    if text is None:
        lazy = {"text": "", "digest": article.digest,
                "load_text": partial(article_text, article)}
    else:
        lazy = {"text": "\n\n".join(t for t in (article.summary, text) if t)}
    return SearchRecord(
        url=article.url, kind="article", title=article.title, date=day.isoformat(),
        meta=meta, **lazy,
        filters={
            "topic": [site.topics[t].title for t in article.topics if t in site.topics],
            "tag": list(dict.fromkeys(article.tags)),
            "source": [article.source] if article.source else [],
            "year": [str(day.year)],
        })


def topic_record(site: Site, slug: str) -> SearchRecord:
    topic = site.topics[slug]
    items = site.topic_articles.get(slug, ())
    latest = site.by_slug[items[-1]].date.date() if items else (topic.ends or topic.starts)
    text = "\n\n".join(t for t in (topic.summary, plain_text(topic.body_html)) if t)
    meta = {"count": f"{len(items):,} article{'s' if len(items) != 1 else ''}"}
    if latest:
        meta["date"] = long_date(latest)
    return SearchRecord(url=topic.url, kind="topic", title=topic.title, text=text,
                        date=latest.isoformat() if latest else "", meta=meta, filters={})


def records_for_site(site: Site, text_of: Callable[[Article], str] | None = None
                     ) -> Iterator[SearchRecord]:
    """One record per published article and per topic (drafts and future articles are not in
    ``site.articles`` unless the build asked for them). ``text_of(article)`` gives an article's
    plain body text when the caller has it; otherwise it is read on demand."""
    for article in site.articles:
        yield article_record(site, article, text_of(article) if text_of else None)
    for slug in site.topics:
        yield topic_record(site, slug)


def index_site(site: Site, gen, cache_dir: Path, *, text_of: Callable[[Article], str] | None = None,
               notify: Callable[[str], None] | None = None, cancel=None) -> SearchStats:
    """The search stage as the pipeline calls it: records from the site, files to the writer.

    ``gen`` is the writer's :class:`builder.write.Generation`. With a ``put_lazy(rel, hash,
    read)`` method it gets each bundle file's hash first and reads the bytes only if it must
    write them; without one, every file is read and given to ``put``.
    """
    put = getattr(gen, "put_lazy", None)
    if put is None:
        def put(rel: str, _hash: str, read: Callable[[], bytes]) -> None:
            gen.put(rel, read())
    return run_search_stage(records_for_site(site, text_of), None, site.config.search,
                            Path(cache_dir), language=site.config.language, put=put,
                            notify=notify, cancel=cancel)
