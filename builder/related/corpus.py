"""Labeled corpora for the evaluation: ECB+-style JSON lines and briefs site folders.

These loaders exist for ``python -m builder.related.evaluate`` and the benchmarks; a real build
gets its ``RelatedInput`` values from the pipeline. The site-folder loader reads front matter
(YAML between ``---`` lines) and strips Markdown to plain text with a few regular expressions,
which is close enough to the pipeline's rendering for measuring.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Iterable

from ..slugs import slugify
from . import RelatedInput

UNDATED = datetime(2000, 1, 1, 12, 0, tzinfo=timezone.utc)
"""The date every ECB+ article gets; see load_jsonl."""


@dataclass(frozen=True)
class Corpus:
    """Articles with their story labels (slug -> story id) and the topics' titles."""

    items: tuple[RelatedInput, ...]
    stories: dict[str, str]
    topic_titles: dict[str, str]
    name: str
    extra: dict[str, dict]
    """Per slug, fields the site writer may use (summary, source name, url, original date)."""


def load_jsonl(path: str | os.PathLike, *, with_topics: bool = False) -> Corpus:
    """ECB+ format: one JSON object a line: id, title, text, story, topic (, date, source, url).

    Every article gets the same date and no source: in ECB+ both are present almost only for
    the articles of the newer "ecbplus" half, so using them would tell the two look-alike
    stories of a topic apart by which half they come from rather than by what they say.
    ``with_topics`` gives each article its coarse ``topic`` as its one topic.
    """
    items, stories, topics, extra = [], {}, {}, {}
    seen: set[str] = set()
    with open(path, encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            slug = slugify(str(row["id"])) or f"article-{line_no}"
            base, n = slug, 2
            while slug in seen:
                slug, n = f"{base}-{n}", n + 1
            seen.add(slug)
            topic = slugify(str(row.get("topic") or ""))
            if topic:
                topics.setdefault(topic, _topic_title(str(row["topic"])))
            items.append(RelatedInput(
                slug=slug, title=_clean_title(row.get("title") or ""), text=row.get("text") or "",
                date=UNDATED, topics=(topic,) if with_topics and topic else (), tags=(),
                source=None, pins=(), enabled=True))
            stories[slug] = str(row["story"])
            extra[slug] = {"source": row.get("source"), "url": row.get("url"),
                           "original_date": row.get("date"), "topic": topic,
                           "story": str(row["story"])}
    return Corpus(tuple(items), stories, topics if with_topics else {}, Path(path).name, extra)


def _topic_title(topic_id: str) -> str:
    return topic_id.replace("ecbplus-", "ECB+ ").replace("-", " ")


def _clean_title(title: str) -> str:
    return " ".join(title.split())


_FRONT = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.S)
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_MARK = re.compile(r"^(?:#{1,6}[ \t]+|>[ \t]?|[-*+][ \t]+|\d+\.[ \t]+)", re.M)
_MD_EMPH = re.compile(r"[*_`]+")


def markdown_to_text(markdown: str) -> str:
    """Plain text of a Markdown body, roughly: link texts kept, markup dropped."""
    text = _MD_LINK.sub(r"\1", markdown)
    text = _MD_MARK.sub("", text)
    text = _MD_MARK.sub("", text)  # "> - item": quote then list marker
    return _MD_EMPH.sub("", text)


def _yaml_load(text: str):
    import yaml
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(text, Loader=loader)


def _as_datetime(value) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, date):
        return datetime.combine(value, time(12, 0), tzinfo=timezone.utc)
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _slug_list(values: Iterable) -> tuple[str, ...]:
    out: list[str] = []
    for v in values or ():
        s = slugify(str(v))
        if s and s not in out:
            out.append(s)
    return tuple(out)


def read_article(path: Path) -> tuple[RelatedInput, dict]:
    """One ``content/articles/**/<slug>.md`` as a RelatedInput (drafts are the caller's job)."""
    raw = path.read_text(encoding="utf-8")
    m = _FRONT.match(raw)
    meta = (_yaml_load(m.group(1)) if m else None) or {}
    body = raw[m.end():] if m else raw
    related = meta.get("related", True)
    pins = _slug_list(related) if isinstance(related, list) else ()
    source = meta.get("source")
    item = RelatedInput(
        slug=path.stem, title=str(meta.get("title") or path.stem),
        text=markdown_to_text(body), date=_as_datetime(meta.get("date") or "2000-01-01"),
        topics=_slug_list(meta.get("topics")), tags=_slug_list(meta.get("tags")),
        source=slugify(str(source)) if source else None, pins=pins,
        enabled=related is not False)
    return item, meta


def load_site(folder: str | os.PathLike, *, jobs: int = 1) -> Corpus:
    """A briefs site folder; story labels from ``stories.jsonl`` beside it when present.

    Article slugs are file names; when two years hold the same file name the later path gets
    ``-2``, ``-3`` (the bench generator de-duplicates per year only).
    """
    root = Path(folder)
    paths = sorted((root / "content" / "articles").rglob("*.md"))
    if jobs > 1 and len(paths) > 2000:
        from .. import workers
        with workers.pool(jobs) as pool:
            loaded = pool.map(read_article, paths, chunksize=500)
    else:
        loaded = [read_article(p) for p in paths]
    items, extra, by_path = [], {}, {}
    seen: set[str] = set()
    for path, (item, meta) in zip(paths, loaded):
        slug, n = item.slug, 2
        while slug in seen:
            slug, n = f"{item.slug}-{n}", n + 1
        seen.add(slug)
        if slug != item.slug:
            item = RelatedInput(slug, item.title, item.text, item.date, item.topics, item.tags,
                                item.source, item.pins, item.enabled)
        items.append(item)
        extra[slug] = {"summary": meta.get("summary"), "source": meta.get("source"),
                       "source_url": meta.get("source_url")}
        by_path[path.relative_to(root).as_posix()] = slug
    topic_titles = {}
    for tp in sorted((root / "content" / "topics").glob("*.md")):
        raw = tp.read_text(encoding="utf-8")
        m = _FRONT.match(raw)
        meta = (_yaml_load(m.group(1)) if m else None) or {}
        topic_titles[tp.stem] = str(meta.get("title") or tp.stem)
    stories: dict[str, str] = {}
    labels = root / "stories.jsonl"
    if labels.exists():
        with open(labels, encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                slug = by_path.get(row["path"])
                if slug:
                    stories[slug] = str(row["story"])
    return Corpus(tuple(items), stories, topic_titles, root.name, extra)
