"""Related stories: which articles to show under an article, and why; later developments.

The pipeline calls, in this order:

1. ``features(item, config)`` for every published article, in worker processes while parsing.
   Pure, picklable, cached by the pipeline per content hash plus ``features_key(config)``.
2. ``RelatedIndex.build(items, feats, config, topic_titles)`` once per clean build, or
   ``index.update(changed, feats, removed)`` on a pickled index for an incremental one; both
   leave the index in exactly the same state for the same set of articles.
3. ``index.related(slug)``, ``index.later(slug)``, ``index.related_topics(topic)`` while
   rendering (``data-briefs-related`` and ``data-briefs-later`` lists, topic pages).

Drafts never reach this package: the pipeline hands over published articles only, so a draft
can neither have nor be a related story. An article with ``related: false`` gets no related
list and no later developments, but may still appear in other articles' lists: the flag is
about its own page. Pins (``related: [slug, ...]``) come first, in the order given, and are
never cut by ``count``; pins to unknown slugs are skipped here (the build warns about them, ``model.build_site``).

Design (details in ``index.py``, ``text.py`` and docs/related.md): each article becomes a
vector of its most distinctive words, weighted by how rare they are in English at large (a
fixed table, not this site's statistics), title words counting more, names more still. Two
articles are compared by the cosine of their vectors plus small bonuses for shared topics,
tags and closeness in time. Candidates come from an inverted index over each article's
*specific* words; each article's vector is then blended with its two nearest neighbours'
(pseudo-relevance feedback) before the final ranking. Every pair score is exact integer
arithmetic plus a fixed float formula, so a build is reproducible bit for bit and an
incremental update equals a clean build.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .config import RelatedConfig, Weights, from_mapping
from .text import FEATURES_VERSION, Features, features


@dataclass(frozen=True)
class RelatedInput:
    """One published article, as the pipeline hands it over."""

    slug: str
    """The article's slug, unique among articles."""
    title: str
    """Its title."""
    text: str
    """Plain text of the body (Markdown rendered and stripped)."""
    date: datetime
    """Publication date, timezone-aware."""
    topics: tuple[str, ...] = ()
    """Topic slugs, in front matter order."""
    tags: tuple[str, ...] = ()
    """Tag slugs (lowercase-hyphenated)."""
    source: str | None = None
    """Source slug, if any."""
    pins: tuple[str, ...] = ()
    """Front matter ``related: [slug, ...]``: hand-picked links, shown first in this order."""
    enabled: bool = True
    """False when front matter says ``related: false``: no lists on this article's page."""


def features_key(config: RelatedConfig) -> str:
    """Everything besides the article itself that ``features()`` depends on, as a string for
    the pipeline's cache key: code version, settings used, and the word table's content."""
    from . import background
    title, max_terms = config.features_key()
    return f"related-features-v{FEATURES_VERSION}:{title!r}:{max_terms}:{background.fingerprint()}"


def __getattr__(name: str):
    # The index needs numpy; importing it only when asked keeps `import builder.config` (and so
    # every command's start-up) free of numpy.
    if name in ("RelatedIndex", "RelatedLink"):
        from . import index
        return getattr(index, name)
    raise AttributeError(name)

__all__ = ["Features", "RelatedConfig", "RelatedIndex", "RelatedInput", "RelatedLink",
           "Weights", "features", "features_key", "from_mapping"]
