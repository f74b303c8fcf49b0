"""Links stage: related stories and later developments for every published article.

The engine is :mod:`builder.related` (how articles are compared, and why, is documented there
and in the README). This stage feeds it the site model and keeps its work between builds:

- per-article *features* (an article's distinctive words) are computed by the content stage
  for every file it parses (``pipeline._parse_chunk``, in its worker processes, while the text is
  at hand), else here in worker processes, and cached by the article file's hash, so an edit
  recomputes one article's features;
- the *index* is pickled after each build; the next build hands it only the articles that were
  added, edited or removed (``RelatedIndex.update``), which equals a clean build by design;
- the *lists* (each article's related links with reasons, its later developments, and each
  topic's related topics) are what pages and the dependency signature read. After an update
  only the lists the engine reports as changed are asked for again.

Drafts and future articles are not in ``site.articles`` unless the build asked for them, so
they can neither have nor be related stories in a production build.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any, Callable

from . import cache, workers
from .markdown import plain_text
from .model import Article, Site

PARALLEL_MIN = 200  # articles needing features before worker processes pay off
FORMAT = 2


class RelatedLists:
    """What pages show, by article and topic slug; the planner and ``deps.signature`` read it.

    ``lists`` holds the cheap part (which slugs each list shows), enough to tell which pages
    changed; an article's links with their reasons come from the index, loaded only if a page
    that shows them is rendered.
    """

    def __init__(self, lists: dict[str, Any], index: Callable[[], Any],
                 changed: set[str] | None = None):
        self.lists = lists
        """``r:<slug>`` -> (related slugs, later slugs); ``rt:<topic>`` -> related topics."""
        self.changed = changed
        """Keys of ``lists`` that may differ from the previous build's; None: any may."""
        self._index = index

    def related(self, slug: str) -> tuple:
        """RelatedLink entries (slug, score, reasons) of an article, in rank order."""
        return self._index().related(slug) if self.lists.get(f"r:{slug}", ((),))[0] else ()

    def later(self, slug: str) -> tuple:
        return self.lists.get(f"r:{slug}", ((), ()))[1]

    def shown(self, slug: str) -> tuple:
        return self.lists.get(f"r:{slug}", ((), ()))[0]

    def related_topics(self, slug: str) -> tuple:
        return self.lists.get(f"rt:{slug}", ())


class RelatedStage:
    """Runs the related-stories engine for one site, build after build."""

    def __init__(self, cache_dir: Path, persist: bool = True):
        self.lists_path = cache_dir / "related-lists.pickle"
        self.index_path = cache_dir / "related-index.pickle"
        self.features_path = cache_dir / "related-features.pickle"
        self.persist = persist
        self._state: dict | None = None
        self._index: Any = None
        self._features: dict | None = None
        self._features_key: str | None = None
        self.saving: list[cache.Saving] = []
        """Saves running in the background; the pipeline waits for them (``wait_for_saves``)."""

    def run(self, site: Site, jobs: int, incremental: bool = True,
            progress: Callable[[str, int, int], None] | None = None,
            edits: list[Article] | None = None, parsed: dict | None = None) -> RelatedLists:
        """The lists for ``site``. ``edits``: the site is the previous run's with only these
        articles edited (the preview's patched model), so nothing else needs comparing.
        ``parsed``: features already computed, by article file hash (the content stage
        computes them for the files it parses)."""
        parsed = parsed or {}
        from . import related as engine
        config = site.config.related
        titles = {slug: t.title for slug, t in site.topics.items()}
        key = (FORMAT, repr(config), engine.features_key(config))
        state = self._state
        if state is None and incremental:
            state = cache.load(self.lists_path, key)
        if state is not None and state.get("key") != key:
            state, self._index = None, None
        if edits is not None and state is not None:
            marks = dict(state["marks"])
            marks.update((a.slug, (a.digest, a.date)) for a in edits)
        else:
            marks = {a.slug: (a.digest, a.date) for a in site.articles}

        index = None
        touched: set[str] | None = None  # keys of lists that may have changed; None: any
        if state is not None:
            old_marks, lists = state["marks"], dict(state["lists"])
            if edits is not None:
                edited = [a for a in edits if old_marks.get(a.slug) != marks[a.slug]]
                removed = []
            else:
                edited = [a for a in site.articles if old_marks.get(a.slug) != marks[a.slug]]
                removed = [s for s in old_marks if s not in marks]
            retitled = titles != state["titles"]
            dirty = bool(edited or removed or retitled)
            # Nothing changed: the lists stand and the index is loaded only if a page that
            # shows reasons is rendered (see load_index below).
            index = self._index or (self._load_index(key, state["index_id"]) if dirty else None)
            touched = set()
            if dirty and index is None:
                state = None  # lists without their index: start again
        if state is None:
            feats = self.features(site, config, jobs, incremental, progress, parsed=parsed)
            inputs = [related_input(a) for a in site.articles]
            index = engine.RelatedIndex.build(inputs, feats, config, titles, jobs=jobs)
            lists = all_lists(index, site)
            dirty, touched = True, None
        elif dirty:
            if self._features is None and self.persist:
                # An edit build: the edited articles' files are new, so their features are
                # not in the cache. Reading and writing the whole cache for them would cost
                # more than computing them; the cache catches up when the index is built anew.
                missing = [a for a in edited if a.digest not in parsed]
                feats = dict(zip((a.slug for a in missing),
                                 compute_features(missing, config, jobs, progress)))
                feats.update((a.slug, parsed[a.digest]) for a in edited if a.digest in parsed)
            else:
                feats = self.features(site, config, jobs, incremental, progress, only=edited,
                                      all_listed=edits is None, parsed=parsed)
            changed = index.update([related_input(a) for a in edited], feats, removed,
                                   topic_titles=titles)
            if retitled:
                lists, touched = all_lists(index, site), None
            else:
                for s in removed:
                    lists.pop(f"r:{s}", None)
                for s in changed | {a.slug for a in edited}:
                    lists[f"r:{s}"] = index.shown(s)
                topics = topic_lists(index, site)
                lists.update(topics)
                touched = {f"r:{s}" for s in (changed | {a.slug for a in edited} | set(removed))}
                touched |= topics.keys()
        new_state = {"key": key, "marks": marks, "titles": titles, "lists": lists,
                     "index_id": state["index_id"] if state and not dirty else secrets.token_hex(8)}
        if not self.persist:
            self._state, self._index = new_state, index
        elif dirty:
            # The index first: lists that name an index id always find that index.
            saves = [(self.index_path, (key, new_state["index_id"]), {"index": index}),
                     (self.lists_path, key, new_state)]
            if touched is None:  # a new index: the build's other stages keep both cores busy
                cache.save_all(saves)
            else:  # an update: pickled on the other core while the build goes on
                self.saving.append(cache.save_later(saves))
        holder = {"index": index}

        def load_index():
            if holder["index"] is None:
                holder["index"] = self._load_index(key, new_state["index_id"])
                if holder["index"] is None:
                    raise RuntimeError("the related-stories index vanished from the cache")
            return holder["index"]
        return RelatedLists(lists, load_index, touched)

    def preload(self) -> None:
        """Load the index now (the preview, while the editor reads) rather than on the first
        save that needs it."""
        if self._state is not None and self._index is None and not self.persist:
            self._index = self._load_index(self._state["key"], self._state["index_id"])

    def _load_index(self, key: tuple, index_id: str):
        loaded = cache.load(self.index_path, (key, index_id))
        return loaded["index"] if loaded else None

    def features(self, site: Site, config, jobs: int, incremental: bool,
                 progress: Callable[[str, int, int], None] | None,
                 only: list[Article] | None = None, all_listed: bool = True,
                 parsed: dict | None = None) -> dict:
        """slug -> Features of the published articles (or of ``only`` these), taking those in
        ``parsed`` (by file hash) and computing the missing ones in worker processes.
        ``all_listed``: forget features of articles no longer published (False: leave that
        to a later call)."""
        from . import related as engine
        key = engine.features_key(config)
        if self._features is None or self._features_key != key:
            loaded = cache.load(self.features_path, key) if incremental else None
            self._features, self._features_key = loaded or {}, key
        known = self._features
        wanted = site.articles if only is None else only
        given = [a.digest for a in wanted if a.digest not in known and a.digest in (parsed or {})]
        for digest in given:
            known[digest] = parsed[digest]
        todo = [a for a in wanted if a.digest not in known]
        for article, feat in zip(todo, compute_features(todo, config, jobs, progress)):
            known[article.digest] = feat
        stale = []
        if all_listed:
            live = {a.digest for a in site.articles}
            stale = [d for d in known if d not in live]
        if todo or given or stale:
            for digest in stale:
                del known[digest]
            if self.persist:
                cache.save(self.features_path, key, known)
        return {a.slug: known[a.digest] for a in wanted}

    def close(self) -> None:
        """End of a preview session: write what memory holds to the disk cache."""
        if self._state is not None and self._index is not None:
            key = self._state["key"]
            cache.save(self.index_path, (key, self._state["index_id"]), {"index": self._index})
            cache.save(self.lists_path, key, self._state)
        if self._features is not None and self._features_key is not None:
            cache.save(self.features_path, self._features_key, self._features)


def related_input(article: Article):
    from .related import RelatedInput
    return RelatedInput(slug=article.slug, title=article.title, text="", date=article.date,
                        topics=article.topics, tags=article.tag_slugs,
                        source=article.source_slug, pins=article.related_pins,
                        enabled=article.related_enabled)


def all_lists(index, site: Site) -> dict[str, Any]:
    lists = {f"r:{a.slug}": index.shown(a.slug) for a in site.articles}
    lists.update(topic_lists(index, site))
    return lists


def topic_lists(index, site: Site) -> dict[str, Any]:
    return {f"rt:{slug}": index.related_topics(slug) for slug in site.topics}


# ----------------------------------------------------------------------------- features

_WORK: tuple | None = None  # (articles, config) inherited by forked workers


def features_of(title: str, text: str, config):
    """The related-stories features of an article's title and plain text."""
    from .related.text import text_features
    return text_features(title, text, title_weight=config.weights.title,
                         max_terms=config.max_terms)


def _features_of(article: Article, config):
    return features_of(article.title, plain_text(article.body_html), config)


def _features_range(bounds: tuple[int, int]) -> list:
    articles, config = _WORK
    return [_features_of(a, config) for a in articles[bounds[0]:bounds[1]]]


def compute_features(articles: list[Article], config, jobs: int,
                     progress: Callable[[str, int, int], None] | None = None) -> list:
    global _WORK
    if jobs <= 1 or len(articles) < PARALLEL_MIN:
        return [_features_of(a, config) for a in articles]
    _WORK = (articles, config)
    step = max(50, len(articles) // (jobs * 8))
    ranges = [(i, min(i + step, len(articles))) for i in range(0, len(articles), step)]
    out: list = []
    try:
        with workers.pool(jobs) as pool:
            for part in pool.imap(_features_range, ranges):
                out.extend(part)
                if progress:
                    progress("related", len(out), len(articles))
    finally:
        _WORK = None
    return out
