"""The related-stories index: candidates, two-stage scoring, ranked lists, incremental updates.

How a list is made (every step is deterministic and independent of input order):

1. **Candidates.** Two articles are candidates when they share a *specific* word: a kept term
   that at most ``term_cap`` articles contain (``max(term_cap_min, term_cap_share * N)``).
   Commoner words still count in the score; they just cannot pair two articles on their own.
   Without this rule a 50,000-article archive has about 10^9 pairs to score, because every
   article shares some moderately rare word with most others.
2. **Base score** ``s(a, b)``: the cosine of the two term vectors (an exact integer dot
   product) times ``weights.text``, plus topic, tag, source and date-proximity terms. A pure
   function of the two articles.
3. **Expansion.** Each article's vector is blended with its ``expand`` best candidates by base
   score (scoring at least ``expand_min``): ``e(a) = |N| v(a) + sum of v(n)``, cut to
   ``max_terms`` terms, scaled to unit length. This is pseudo-relevance feedback: the
   neighbours' words pull an article towards its own story and away from a look-alike one,
   which is where plain cosine makes its mistakes (numbers in docs/related.md).
4. **Final score** ``f(a, b)``: the base formula on the expanded vectors. Related stories are
   the best candidates by ``f`` scoring at least ``min_score``, ties broken by newer date,
   then slug. Later developments are newer candidates on the same story -- ``f`` at least
   ``story_score`` and at least ``story_ratio`` times the article's best score, and a shared
   topic when both have topics -- the ``later_count`` nearest in time, oldest first.

Text weights are integers (unit vectors times 1000), so dot products are exact in any
summation order, and the rest of the formula is elementwise +, *, / and sqrt, which IEEE
rounds the same everywhere: an incremental update reproduces a clean build bit for bit.

Steps 3-4 work row by row, so a build with ``jobs`` > 1 splits the rows in two and hands one
half to a forked process (:meth:`RelatedIndex._score_rows`); the other process sends back
only what its rows came to, and the index ends exactly as one process would leave it.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Mapping, Sequence

import numpy as np

from .. import workers
from .config import RelatedConfig
from .reasons import TOP_WORDS, name_keys, rank_names, reasons_for, select
from .text import WEIGHT_SCALE, Features

_DOT_SCALE = float(WEIGHT_SCALE * WEIGHT_SCALE)
_SECONDS_PER_DAY = 86400.0
_DENSE_CELLS = 1 << 21
"""Largest scratch matrix for pair dot products (rows of a block x their distinct terms)."""
_BLOCK_ENTRIES = 1 << 22
"""Largest number of candidate-vector entries gathered at once."""
_EMPTY = np.zeros(0, dtype=np.int32)
_EXPAND_CHUNK = 4096
"""Rows expanded at once; bounds the scratch memory (about 150 MiB at 60 terms)."""
PARALLEL_MIN = 4000
"""Articles below which a build scores all rows in one process (a fork costs more)."""
_FORKED: tuple | None = None
"""(index, method) that the forked half of _both_halves runs; inherited, never pickled."""


@dataclass(frozen=True)
class RelatedLink:
    """One entry of an article's related list."""

    slug: str
    """The related article."""
    score: float
    """Its final score with this article (pinned links carry theirs too, possibly 0)."""
    reasons: tuple[str, ...]
    """Why, in words for a reader; every one is true of both articles."""


def _block_end(g: int, cum_len: np.ndarray, cum_ent: np.ndarray) -> int:
    """Where the block of row groups that starts at group ``g`` ends (exclusive): the most
    groups whose dense scratch matrix (rows x summed row lengths + 1) stays within
    _DENSE_CELLS and whose candidates' entries stay within _BLOCK_ENTRIES, and at least one.
    ``cum_len`` and ``cum_ent`` are the groups' row lengths and entries, summed up (a leading
    0). Both sizes grow with every group added, so the groups that fit are a prefix: found
    with numpy over a window that doubles until it holds the first group that does not fit."""
    n = len(cum_len) - 1
    window = 256
    while True:
        ends = np.arange(g + 2, min(n, g + 1 + window) + 1)
        fits = ((ends - g) * (cum_len[ends] - cum_len[g] + 1) <= _DENSE_CELLS) \
            & (cum_ent[ends] - cum_ent[g] <= _BLOCK_ENTRIES)
        if not fits.all():
            return g + 1 + int(np.argmin(fits))
        if g + 1 + window >= n:
            return n
        window *= 2


class _Ragged:
    """A list of small int64 arrays kept as one array plus offsets, with later writes in a
    dict: what an unpickled index uses, since pickling 50,000 separate arrays is slow."""

    __slots__ = ("data", "offsets", "extra", "n")

    def __init__(self, arrays: list) -> None:
        lens = np.fromiter((len(a) for a in arrays), np.int64, len(arrays))
        self.offsets = np.zeros(len(arrays) + 1, dtype=np.int64)
        np.cumsum(lens, out=self.offsets[1:])
        self.data = np.concatenate(arrays) if arrays else _EMPTY
        self.extra: dict[int, np.ndarray] = {}
        self.n = len(arrays)

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> np.ndarray:
        a = self.extra.get(i)
        if a is not None:
            return a
        if not 0 <= i < len(self.offsets) - 1:
            raise IndexError(i)
        return self.data[self.offsets[i]:self.offsets[i + 1]]

    def __setitem__(self, i: int, value: np.ndarray) -> None:
        if not 0 <= i < self.n:
            raise IndexError(i)
        self.extra[i] = value

    def append(self, value: np.ndarray) -> None:
        self.extra[self.n] = value
        self.n += 1

    def __getstate__(self):
        if self.extra:
            packed = _Ragged([self[i] for i in range(self.n)])
            return (packed.data, packed.offsets)
        return (self.data, self.offsets)

    def __setstate__(self, state) -> None:
        self.data, self.offsets = state
        self.extra = {}
        self.n = len(self.offsets) - 1


_RAGGED = ("vcols", "vvals", "ecols", "evals", "tcols", "gcols")


class _LazyFeatures:
    """Features kept as columns of strings after unpickling; objects made on first use."""

    __slots__ = ("columns", "made")

    def __init__(self, columns: tuple) -> None:
        self.columns = columns
        self.made: dict[int, Features | None] = {}

    def __len__(self) -> int:
        return len(self.columns[0]) + sum(1 for i in self.made if i >= len(self.columns[0]))

    def __getitem__(self, i: int) -> Features | None:
        if i in self.made:
            return self.made[i]
        terms, weights, forms, names, versions = self.columns
        f = Features(terms[i], weights[i], forms[i], names[i], versions[i]) \
            if terms[i] is not None else None
        self.made[i] = f
        return f

    def __setitem__(self, i: int, value: Features | None) -> None:
        self.made[i] = value

    def append(self, value: Features | None) -> None:
        self.made[len(self)] = value

    def __iter__(self):
        return (self[i] for i in range(len(self)))


class _LazySets(dict):
    """dict of int -> set of ints, unpickled as arrays and turned into sets when touched."""

    def __getitem__(self, key):
        value = dict.__getitem__(self, key)
        if not isinstance(value, set):
            value = set(value.tolist())
            dict.__setitem__(self, key, value)
        return value

    def get(self, key, default=None):
        return self[key] if key in self else default

    def setdefault(self, key, default=None):
        if key not in self:
            dict.__setitem__(self, key, default)
        return self[key]

    def pop(self, key, *default):
        value = dict.pop(self, key, *default)
        return set(value.tolist()) if isinstance(value, np.ndarray) else value

    def values(self):
        return [self[k] for k in self]

    def items(self):
        return [(k, self[k]) for k in self]

    def __reduce__(self):
        return (_unpack_sets, (_pack_sets(self),))


def _pack_sets(sets: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    keys = sorted(sets)
    arrays = [np.fromiter(sorted(dict.__getitem__(sets, k)), np.int64)
              if isinstance(dict.__getitem__(sets, k), set) else dict.__getitem__(sets, k)
              for k in keys]
    packed = _Ragged(arrays)
    return np.asarray(keys, dtype=np.int64), packed.data, packed.offsets


def _unpack_sets(packed: tuple) -> _LazySets:
    keys, data, offsets = packed
    out = _LazySets()
    for k, a, b in zip(keys.tolist(), offsets[:-1].tolist(), offsets[1:].tolist()):
        dict.__setitem__(out, k, data[a:b])
    return out


class _Docs:
    """Per-article storage by internal id. Ids are never reused, and no result depends on them:
    an edited article gets a fresh id, so an id stands for one version of one article."""

    def __init__(self) -> None:
        self.slug: list[str] = []
        self.feat: list[Features | None] = []
        self.vcols: list[np.ndarray] = []     # term ids, in the features' order
        self.vvals: list[np.ndarray] = []     # integer weights
        self.ecols: list[np.ndarray] = []     # expanded vector, term ids ascending
        self.evals: list[np.ndarray] = []
        self.tcols: list[np.ndarray] = []     # topic ids, ascending
        self.gcols: list[np.ndarray] = []     # tag ids, ascending
        self.topic_slugs: list[tuple[str, ...]] = []
        self.tag_slugs: list[tuple[str, ...]] = []
        self.pins: list[tuple[str, ...]] = []
        self.enabled: list[bool] = []
        self.nbrs: list[tuple[int, ...]] = []                 # expansion neighbours
        self.nbr_last: list[float] = []           # base score of the last neighbour
        self.rel: list[tuple[tuple[int, float], ...]] = []   # automatic list, best first
        self.pinned: list[tuple[tuple[int, float], ...]] = []  # resolved pins with scores
        self.best: list[tuple[int, float]] = []   # best candidate and its score (story_ratio)
        self.later: list[tuple[int, ...]] = []
        self.when = np.zeros(0, dtype=np.int64)    # seconds since the epoch
        self.source = np.zeros(0, dtype=np.int64)  # source id, -1 for none
        self.alive = np.zeros(0, dtype=bool)

    def __len__(self) -> int:
        return len(self.slug)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        for name in _RAGGED:
            value = state[name]
            state[name] = value if isinstance(value, _Ragged) else _Ragged(value)
        # Features as columns of strings: far faster to pickle than 50,000 objects.
        feats = list(state.pop("feat"))
        state["feat_columns"] = (
            [f.terms if f else None for f in feats], [f.weights if f else None for f in feats],
            [f.forms if f else None for f in feats], [f.names if f else None for f in feats],
            [f.version if f else None for f in feats])
        return state

    def __setstate__(self, state: dict) -> None:
        state["feat"] = _LazyFeatures(state.pop("feat_columns"))
        self.__dict__.update(state)

    def grow(self, n: int) -> None:
        old = len(self.when)
        if n <= old:
            return
        size = max(n, old * 2, 64)
        for name, fill in (("when", 0), ("source", -1), ("alive", False)):
            arr = getattr(self, name)
            new = np.full(size, fill, dtype=arr.dtype)
            new[:old] = arr
            setattr(self, name, new)


class RelatedIndex:
    """Related lists for every article; built once, then updated article by article.

    Build with :meth:`build`; pickle to keep between builds. After :meth:`update` the index
    answers exactly as ``build`` over the new set of articles would.
    """

    def __init__(self, config: RelatedConfig, topic_titles: Mapping[str, str]):
        self.config = config
        self.topic_titles = dict(topic_titles)
        self._docs = _Docs()
        self._ids: dict[str, int] = {}
        self._vocab: dict[str, int] = {}
        self._terms: list[str] = []
        self._df = np.zeros(0, dtype=np.int64)
        self._cap = 0
        self._postings: dict[int, set[int]] = {}   # specific terms only (df <= cap)
        self._topic_ids: dict[str, int] = {}
        self._tag_ids: dict[str, int] = {}
        self._source_ids: dict[str, int] = {}
        self._ranks: np.ndarray | None = None        # alphabetical rank of each word id
        self._rev_nbrs: dict[int, set[int]] = {}   # id -> ids having it as a neighbour
        self._rev_pins: dict[str, set[int]] = {}   # slug -> ids pinning it
        self._topic_rel: dict[str, tuple[tuple[str, float, str], ...]] | None = None
        # Counts behind related_topics, kept up to date article by article.
        self._topic_size: Counter[str] = Counter()
        self._topic_both: Counter[tuple[str, str]] = Counter()
        self._topic_links: Counter[tuple[str, str]] = Counter()

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        for name in ("_postings", "_rev_nbrs"):
            state[name] = _LazySets(state[name]) if not isinstance(state[name], _LazySets) \
                else state[name]
        state["_topic_rel"] = None
        return state

    # ------------------------------------------------------------------ public API
    @classmethod
    def build(cls, items: Sequence, feats: Mapping[str, Features], config: RelatedConfig,
              topic_titles: Mapping[str, str], jobs: int = 1) -> "RelatedIndex":
        """Index every article and compute every list. ``items`` may come in any order.
        ``jobs`` > 1: score the rows in two processes (the same index, sooner)."""
        index = cls(config, topic_titles)
        ordered = sorted(items, key=lambda it: it.slug)
        _check_unique(ordered)
        # All term ids and weights in one pass over the concatenated features.
        feat_list = [feats[it.slug] for it in ordered]
        lens = np.fromiter((f.terms.count("\n") + 1 if f.terms else 0 for f in feat_list),
                           np.int64, len(feat_list))
        words = "\n".join(f.terms for f in feat_list if f.terms).split("\n") if lens.sum() \
            else []
        # Ids in order of first occurrence, given once per distinct word (3 million words
        # at 50k articles, about 1/30 of them distinct), then looked up in C.
        vocab = index._vocab
        for w in dict.fromkeys(words):
            if w not in vocab:
                index._term_id(w)
        cols_all = np.fromiter(map(vocab.__getitem__, words), np.int32, len(words))
        vals_all = np.frombuffer(b"".join(f.weights for f in feat_list),
                                 dtype=np.uint16).astype(np.int32)
        ends = np.cumsum(lens).tolist()
        start = 0
        for item, feat, end in zip(ordered, feat_list, ends):
            index._insert(item, feat, bulk=True,
                          vector=(cols_all[start:end], vals_all[start:end]))
            start = end
        d = index._docs
        index._df = np.bincount(np.concatenate(d.vcols) if d.vcols else _EMPTY,
                                minlength=len(index._terms)).astype(np.int64)
        index._cap = index._term_cap()
        index._postings = index._scan_postings(None)
        alive = index._alive_ids().tolist()
        if config.enabled:
            index._score_rows(alive, jobs)
        return index

    def related(self, slug: str) -> tuple[RelatedLink, ...]:
        """Pinned links first (in the order given), then the best automatic ones, up to count."""
        i = self._ids.get(slug)
        if i is None or not self.config.enabled or not self._docs.enabled[i]:
            return ()
        out = []
        d = self._docs
        links = self._assemble(i, d.rel[i], d.pinned[i])
        prepared = self._prepare(i) if links else None
        for j, score, pinned in links:
            reasons = self._reasons(i, j, prepared)
            if pinned:
                reasons = ("picked by the editor",) + reasons
            out.append(RelatedLink(d.slug[j], score, reasons))
        return tuple(out)

    def shown(self, slug: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The slugs related() and later() list, in order, without computing reasons: what a
        build compares to decide which pages changed."""
        i = self._ids.get(slug)
        if i is None or not self.config.enabled or not self._docs.enabled[i]:
            return (), ()
        d = self._docs
        return (tuple(d.slug[j] for j, _, _ in self._assemble(i, d.rel[i], d.pinned[i])),
                tuple(d.slug[j] for j in d.later[i]))

    def later(self, slug: str) -> tuple[str, ...]:
        """Newer articles on the same story, the nearest in time first (oldest first)."""
        i = self._ids.get(slug)
        if i is None or not self.config.enabled or not self._docs.enabled[i]:
            return ()
        return tuple(self._docs.slug[j] for j in self._docs.later[i])

    def related_topics(self, topic_slug: str) -> tuple[tuple[str, float, str], ...]:
        """(topic slug, score, reason) of the topics most linked with this one, best first."""
        if not self.config.enabled:
            return ()
        if self._topic_rel is None:  # computed on first use after a change
            self._topic_rel = self._topic_relations()
        return self._topic_rel.get(topic_slug, ())

    def update(self, added_or_changed: Sequence, feats: Mapping[str, Features],
               removed: Sequence[str] = (), topic_titles: Mapping[str, str] | None = None
               ) -> set[str]:
        """Apply edits; return the slugs (still present) whose related() or later() changed.

        Afterwards the index equals ``build`` over the new set of articles. Recomputed are only
        the rows an edit can reach: the edited articles; articles with a word whose document
        frequency crossed the candidate cap; articles that listed an edited article or one
        whose expanded vector changed, or for which such an article now scores high enough
        to enter a list. An edited article counts as changed whenever it has a list, since
        its reasons may read differently.
        """
        d = self._docs
        items = sorted(added_or_changed, key=lambda it: it.slug)
        _check_unique(items)
        fresh = {it.slug for it in items}
        gone = {s for s in removed if s not in fresh and s in self._ids}
        old_ids = sorted(self._ids[s] for s in fresh | gone if s in self._ids)
        # Snapshot for telling what changed: ids stand for versions, so lists are comparable.
        before_ids = dict(self._ids)
        before_rel, before_later, before_pinned = list(d.rel), list(d.later), list(d.pinned)
        before_titles = self.topic_titles
        if topic_titles is not None:
            self.topic_titles = dict(topic_titles)

        touched: set[int] = set()   # rows that had an edited article as a candidate
        for j in old_ids:
            touched |= self._candidates_of(j)
        old_cap = self._cap
        df_before: dict[int, int] = {}
        for j in old_ids:
            for c in d.vcols[j].tolist():
                df_before.setdefault(c, int(self._df[c]))
        for j in old_ids:
            self._remove(j)
        for it in items:  # all before any insertion: df_before is the df before the update
            for c in self._known_terms(feats[it.slug]):
                df_before.setdefault(c, int(self._df[c]))
        new_ids = [self._insert(it, feats[it.slug]) for it in items]
        new = set(new_ids)
        for j in new_ids:
            for c in d.vcols[j].tolist():
                df_before.setdefault(c, 0)  # words no article had before
        cap_rows = self._sync_postings(df_before, old_cap, new_ids)
        for j in new_ids:
            touched |= self._candidates_of(j)
        touched = {j for j in touched if d.alive[j]} - new
        gone_ids = set(old_ids)

        self._topic_rel = None
        if not self.config.enabled:
            return set()

        # Stage 1: neighbours change for new rows, rows whose candidate sets changed by a cap
        # crossing, rows that had an edited article as neighbour, and rows for which a new
        # article now scores among the best.
        stage1 = new | cap_rows
        stage1 |= {j for j in touched if gone_ids.intersection(d.nbrs[j])}
        stage1 |= self._entering(new, touched - stage1, stage=1)
        old_nbrs = {j: d.nbrs[j] for j in stage1 - new}
        self._assign_neighbours(sorted(stage1))
        expand = set(new)
        expand |= {j for j, nb in old_nbrs.items() if d.nbrs[j] != nb}
        for j in old_ids:
            expand |= self._rev_nbrs.pop(j, set())
        expand = {j for j in expand if d.alive[j]}
        old_e = {j: (d.ecols[j], d.evals[j]) for j in expand - new}
        self._expand(sorted(expand))
        moved = set(new)
        for j, (cols, vals) in old_e.items():
            if not (np.array_equal(cols, d.ecols[j]) and np.array_equal(vals, d.evals[j])):
                moved.add(j)

        # Stage 2: rows whose own vector moved, whose candidates changed, that listed a removed
        # or moved article, or that a moved article now enters.
        stage2 = moved | cap_rows
        reach = set(touched)
        for j in moved - new:
            reach |= self._candidates_of(j)
        reach = {j for j in reach if d.alive[j]} - stage2
        gone_or_moved = gone_ids | moved
        for j in list(reach):
            if gone_or_moved.intersection(k for k, _ in d.rel[j]) or \
                    gone_or_moved.intersection(d.later[j]) or d.best[j][0] in gone_or_moved:
                stage2.add(j)
        stage2 |= self._entering(moved, reach - stage2, stage=2)
        # Pins: rows pinning an added, removed or moved article (its pinned score moves).
        for s in fresh | gone | {d.slug[j] for j in moved}:
            stage2 |= {j for j in self._rev_pins.get(s, ()) if d.alive[j]}
        self._assign_lists(sorted(stage2))

        # What changed, as a reader sees it.
        watch = stage2 | set(new_ids)
        result: set[str] = set()
        for j in watch:
            if not d.alive[j]:
                continue
            s = d.slug[j]
            old_j = before_ids.get(s)
            old_key = self._shown_key(old_j, before_rel, before_later, before_pinned) \
                if old_j is not None else ((), ())
            if j in new and old_key != ((), ()):
                old_key = ("edited",) + old_key  # its own reasons may differ
            if old_key != self._shown_key(j, d.rel, d.later, d.pinned):
                result.add(s)
        if topic_titles is not None and topic_titles != before_titles:
            renamed = {t for t in set(before_titles) | set(topic_titles)
                       if before_titles.get(t) != topic_titles.get(t)}
            for i in self._alive_ids().tolist():
                ts = set(d.topic_slugs[i]) & renamed
                if ts and any(ts.intersection(d.topic_slugs[j])
                              for j, _, _ in self._assemble(i, d.rel[i], d.pinned[i])):
                    result.add(d.slug[i])
        return result

    # ------------------------------------------------------------------ storage
    def _insert(self, item, feat: Features, bulk: bool = False,
                vector: tuple[np.ndarray, np.ndarray] | None = None) -> int:
        """Store one article under a fresh id; ``bulk`` leaves df and postings to the caller,
        ``vector`` gives its term ids and weights when the caller has them already."""
        d = self._docs
        i = len(d)
        d.grow(i + 1)
        if vector is None:
            get = self._vocab.get
            terms = feat.term_list()
            cols = [get(t) for t in terms]
            if None in cols:
                cols = [c if c is not None else self._term_id(t) for c, t in zip(cols, terms)]
            vector = (np.array(cols, dtype=np.int32),
                      np.frombuffer(feat.weights, dtype=np.uint16).astype(np.int32))
        # Kept in the features' order (heaviest first): canonical, so no sort is needed.
        d.slug.append(item.slug)
        d.feat.append(feat)
        d.vcols.append(vector[0])
        d.vvals.append(vector[1])
        d.ecols.append(d.vcols[i])
        d.evals.append(d.vvals[i])
        topics = tuple(dict.fromkeys(item.topics))
        tags = tuple(dict.fromkeys(item.tags))
        d.topic_slugs.append(topics)
        d.tag_slugs.append(tags)
        d.tcols.append(np.array(sorted({self._topic_ids.setdefault(t, len(self._topic_ids))
                                        for t in topics}), dtype=np.int32))
        d.gcols.append(np.array(sorted({self._tag_ids.setdefault(t, len(self._tag_ids))
                                        for t in tags}), dtype=np.int32))
        d.pins.append(tuple(item.pins))
        d.enabled.append(bool(item.enabled))
        d.nbrs.append(())
        d.nbr_last.append(0.0)
        d.rel.append(())
        d.pinned.append(())
        d.best.append((-1, 0.0))
        d.later.append(())
        d.when[i] = _seconds(item.date)
        d.source[i] = -1 if not item.source else \
            self._source_ids.setdefault(item.source, len(self._source_ids))
        d.alive[i] = True
        self._ids[item.slug] = i
        for p in item.pins:
            self._rev_pins.setdefault(p, set()).add(i)
        self._count_topics(i, +1)
        if bulk:
            return i
        if len(self._df) < len(self._terms):
            grown = np.zeros(max(len(self._terms), 2 * len(self._df), 1024), dtype=np.int64)
            grown[:len(self._df)] = self._df
            self._df = grown
        self._df[d.vcols[i]] += 1
        for c in d.vcols[i].tolist():
            post = self._postings.get(c)
            if post is not None:
                post.add(i)
        return i

    def _remove(self, i: int) -> None:
        d = self._docs
        self._count_topics(i, -1)
        self._count_links(i, -1)
        self._df[d.vcols[i]] -= 1
        for c in d.vcols[i].tolist():
            post = self._postings.get(c)
            if post is not None:
                post.discard(i)
        for p in d.pins[i]:
            ids = self._rev_pins.get(p)
            if ids is not None:
                ids.discard(i)
                if not ids:
                    del self._rev_pins[p]
        for k in d.nbrs[i]:
            self._rev_nbrs.get(k, set()).discard(i)
        del self._ids[d.slug[i]]
        d.alive[i] = False
        d.feat[i] = None
        d.vcols[i] = d.vvals[i] = d.ecols[i] = d.evals[i] = _EMPTY
        d.nbrs[i] = ()
        d.rel[i] = ()
        d.pinned[i] = ()
        d.best[i] = (-1, 0.0)
        d.later[i] = ()

    def _term_id(self, term: str) -> int:
        c = self._vocab.get(term)
        if c is None:
            c = self._vocab[term] = len(self._terms)
            self._terms.append(term)
        return c

    def _known_terms(self, feat: Features) -> list[int]:
        return [self._vocab[t] for t in feat.term_list() if t in self._vocab]

    def _alive_ids(self) -> np.ndarray:
        return np.flatnonzero(self._docs.alive[:len(self._docs)])

    # ------------------------------------------------------------------ specific terms
    def _term_cap(self) -> int:
        return max(self.config.term_cap_min, int(len(self._ids) * self.config.term_cap_share))

    def _specific(self, c: int) -> bool:
        return 0 < self._df[c] <= self._cap

    def _scan_postings(self, terms: set[int] | None) -> dict[int, set[int]]:
        """Postings of the given terms (None: every specific term), by scanning all articles."""
        d = self._docs
        alive = self._alive_ids()
        if not len(alive):
            return {}
        lens = np.fromiter((len(d.vcols[i]) for i in alive.tolist()), np.int64, len(alive))
        cols = np.concatenate([d.vcols[i] for i in alive.tolist()])
        rows = np.repeat(alive, lens)
        if terms is None:
            keep = (self._df[cols] > 0) & (self._df[cols] <= self._cap)
        else:
            keep = np.isin(cols, np.fromiter(terms, np.int64, len(terms)))
        cols, rows = cols[keep], rows[keep]
        order = np.lexsort((rows, cols))
        cols, rows = cols[order], rows[order]
        out: dict[int, set[int]] = {}
        if len(cols):
            cuts = np.flatnonzero(np.diff(cols)) + 1
            for c, grp in zip(cols[np.concatenate(([0], cuts))].tolist(), np.split(rows, cuts)):
                out[c] = set(grp.tolist())
        return out

    def _sync_postings(self, df_before: dict[int, int], old_cap: int,
                       new_ids: list[int]) -> set[int]:
        """Bring postings up to date after edits; return rows whose candidate sets changed
        because one of their words became, or stopped being, specific (not counting changes
        caused directly by an edited article, which the caller tracks)."""
        self._cap = self._term_cap()
        df, cap = self._df, self._cap
        flipped: set[int] = set()
        for c, before in df_before.items():
            if (0 < before <= old_cap) != (0 < df[c] <= cap):
                flipped.add(c)
        if cap != old_cap:
            lo, hi = min(cap, old_cap), max(cap, old_cap)
            n = len(self._terms)
            flipped |= set(np.flatnonzero((df[:n] > lo) & (df[:n] <= hi)).tolist())
        # A word nobody had before is only in the new articles; others need a scan (rare: a
        # word's df has to cross the cap exactly, or the cap has to move).
        fresh = {c for c in flipped if df_before.get(c, -1) == 0}
        for c in fresh:
            self._postings.pop(c, None)
        if fresh:
            d = self._docs
            for i in new_ids:
                for c in d.vcols[i].tolist():
                    if c in fresh and self._specific(c):
                        self._postings.setdefault(c, set()).add(i)
        others = flipped - fresh
        scanned = self._scan_postings(others) if others else {}
        rows: set[int] = set()
        for c in others:
            ids = scanned.get(c, set())
            rows |= ids
            if self._specific(c):
                self._postings[c] = ids
            else:
                self._postings.pop(c, None)
        return {j for j in rows if self._docs.alive[j]}

    def _candidates_of(self, i: int) -> set[int]:
        d = self._docs
        out: set[int] = set()
        cols = d.vcols[i]
        for c in cols[(self._df[cols] > 0) & (self._df[cols] <= self._cap)].tolist():
            post = self._postings.get(c)
            if post:
                out |= post
        out.discard(i)
        window = self.config.date_window_days
        if window is not None and out:
            ids = np.fromiter(out, dtype=np.int64, count=len(out))
            ok = np.abs(d.when[ids] - d.when[i]) <= window * 86400
            out = set(ids[ok].tolist())
        return out

    # ------------------------------------------------------------------ candidate pairs
    def _pairs(self, rows: Sequence[int], bulk: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """All candidate pairs (row, other) of the given rows, sorted by row, then other.

        Two implementations with one answer: sets of postings for a few rows (updates), a
        vectorised pass for many (builds, which always use it, so the tests comparing updates
        with builds check one against the other)."""
        if bulk or len(rows) > 1000:
            return self._pairs_bulk(np.asarray(rows, dtype=np.int64))
        pr: list[int] = []
        pb: list[int] = []
        for i in sorted(rows):
            cands = sorted(self._candidates_of(i))
            pr.extend([i] * len(cands))
            pb.extend(cands)
        return np.asarray(pr, dtype=np.int64), np.asarray(pb, dtype=np.int64)

    def _pairs_bulk(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The same as _pairs, vectorised: every pair of articles listed under one specific
        word, for the requested rows. Work is the sum of df^2 over specific words, which the
        cap keeps small (1.7 million at 50k articles)."""
        d = self._docs
        alive = self._alive_ids()
        n = len(d)
        if not len(alive) or not len(rows):
            return _EMPTY.astype(np.int64), _EMPTY.astype(np.int64)
        lens = np.fromiter((len(d.vcols[i]) for i in alive.tolist()), np.int64, len(alive))
        cols = np.concatenate([d.vcols[i] for i in alive.tolist()]).astype(np.int64)
        owner = np.repeat(alive, lens)
        keep = (self._df[cols] > 0) & (self._df[cols] <= self._cap)
        cols, owner = cols[keep], owner[keep]
        order = np.lexsort((owner, cols))
        cols, owner = cols[order], owner[order]
        if not len(cols):
            return _EMPTY.astype(np.int64), _EMPTY.astype(np.int64)
        g_start = np.concatenate(([0], np.flatnonzero(np.diff(cols)) + 1))
        g_size = np.diff(np.append(g_start, len(cols)))
        entry_start = np.repeat(g_start, g_size)     # each entry's group start and size
        entry_size = np.repeat(g_size, g_size)
        wanted = np.zeros(n, dtype=bool)
        wanted[rows] = True
        entries = np.flatnonzero(wanted[owner])
        window = self.config.date_window_days
        keys = []
        # Batches of entries, so that no more than about 4 million pairs exist at once.
        cum = np.cumsum(entry_size[entries])
        batch_ends = np.searchsorted(cum, np.arange(1, int(cum[-1]) // 4_000_000 + 2) * 4_000_000)
        first = 0
        for last in np.unique(np.append(batch_ends, len(entries))).tolist():
            part = entries[first:last]
            first = last
            if not len(part):
                continue
            count = entry_size[part]
            a = np.repeat(owner[part], count)
            k = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
            b = owner[np.repeat(entry_start[part], count) + k]
            ok = a != b
            if window is not None:
                ok &= np.abs(d.when[a] - d.when[b]) <= window * 86400
            keys.append(np.unique(a[ok] * n + b[ok]))
        key = np.unique(np.concatenate(keys)) if keys else _EMPTY.astype(np.int64)
        return key // n, key % n

    # ------------------------------------------------------------------ scoring
    def _store(self, ids: np.ndarray, cols_of: list, vals_of: list | None):
        """CSR of the given articles' sparse vectors: (position by id, indptr, indices, data)."""
        pos = np.full(len(self._docs), -1, dtype=np.int64)
        pos[ids] = np.arange(len(ids))
        id_list = ids.tolist()
        lens = np.fromiter((len(cols_of[i]) for i in id_list), np.int64, len(id_list))
        indptr = np.zeros(len(ids) + 1, dtype=np.int64)
        np.cumsum(lens, out=indptr[1:])
        indices = np.concatenate([cols_of[i] for i in id_list]) if id_list else _EMPTY
        # float32 holds every product of two weights (<= 10^6 < 2^24) and every partial sum
        # of a dot product exactly, so sums do not depend on their order.
        if vals_of is None:
            data = np.ones(len(indices), dtype=np.float32)
        else:
            data = np.concatenate([vals_of[i] for i in id_list]).astype(np.float32) \
                if id_list else np.zeros(0, dtype=np.float32)
        return pos, indptr, indices, data

    @staticmethod
    def _dots(pr: np.ndarray, pb: np.ndarray, store, width: int) -> np.ndarray:
        """Exact dot products of the pairs' integer vectors (as float64).

        Pairs come sorted by row. A block of rows is scattered into a dense scratch matrix over
        the block's own terms; each candidate's entries are then gathered from it.
        """
        pos, indptr, indices, data = store
        out = np.zeros(len(pr), dtype=np.float64)
        if not len(pr):
            return out
        cuts = np.flatnonzero(np.diff(pr)) + 1
        g_start = np.concatenate(([0], cuts))
        g_end = np.concatenate((cuts, [len(pr)]))
        rp = pos[pr[g_start]]
        g_len = indptr[rp + 1] - indptr[rp]
        bp_all = pos[pb]
        b_len_all = indptr[bp_all + 1] - indptr[bp_all]
        g_entries = np.add.reduceat(b_len_all, g_start)
        lmap = np.full(width + 1, -1, dtype=np.int32)
        cum_len = np.concatenate(([0], np.cumsum(g_len)))
        cum_ent = np.concatenate(([0], np.cumsum(g_entries)))
        g = 0
        n_groups = len(g_start)
        while g < n_groups:
            h = _block_end(g, cum_len, cum_ent)
            rows_p = rp[g:h]
            r_ent = _ranges(indptr[rows_p], indptr[rows_p + 1])
            r_cols = indices[r_ent]
            uniq = np.unique(r_cols)
            lmap[uniq] = np.arange(len(uniq), dtype=np.int32)
            ncol = len(uniq) + 1                      # the last column stays zero
            dense = np.zeros((h - g) * ncol, dtype=np.float32)
            dense[np.repeat(np.arange(h - g) * ncol, g_len[g:h]) + lmap[r_cols]] = data[r_ent]
            s, e = int(g_start[g]), int(g_end[h - 1])
            bp = bp_all[s:e]
            blen = b_len_all[s:e]
            b_ent = _ranges(indptr[bp], indptr[bp + 1])
            local = lmap[indices[b_ent]]
            local[local < 0] = ncol - 1
            row_base = np.repeat(np.arange(h - g) * ncol, g_end[g:h] - g_start[g:h])
            prod = dense.take(np.repeat(row_base, blen) + local) * data[b_ent]
            full = blen > 0
            if full.any():
                starts = np.concatenate(([0], np.cumsum(blen)[:-1]))[full]
                out[s:e][full] = np.add.reduceat(prod, starts)
            lmap[uniq] = -1
            g = h
        return out

    def _scores(self, pr: np.ndarray, pb: np.ndarray, expanded: bool) -> np.ndarray:
        """Base (expanded=False) or final scores of pairs sorted by row. Symmetric, and
        bit-for-bit the same whichever batch a pair is computed in."""
        d = self._docs
        w = self.config.weights
        if not len(pr):
            return np.zeros(0)
        ids = np.unique(np.concatenate((pr, pb)))
        text = self._dots(pr, pb, self._store(ids, d.ecols if expanded else d.vcols,
                                              d.evals if expanded else d.vvals),
                          len(self._terms))
        score = text / _DOT_SCALE * w.text
        for weight, cols_of, width in ((w.topics, d.tcols, len(self._topic_ids)),
                                       (w.tags, d.gcols, len(self._tag_ids))):
            if not weight:
                continue
            shared = self._dots(pr, pb, self._store(ids, cols_of, None), width)
            n = np.zeros(len(d), dtype=np.float64)
            n[ids] = [len(cols_of[i]) for i in ids.tolist()]
            prod = n[pr] * n[pb]
            frac = np.divide(shared, np.sqrt(prod), out=np.zeros(len(pr)), where=prod > 0)
            score = score + weight * frac
        if w.source:
            same = (d.source[pr] == d.source[pb]) & (d.source[pr] >= 0)
            score = score + w.source * same
        if w.date:
            days = np.abs(d.when[pr] - d.when[pb]) / _SECONDS_PER_DAY
            score = score + w.date * (1.0 / (1.0 + days / self.config.date_scale_days))
        return score

    def _order(self, pr: np.ndarray, pb: np.ndarray, score: np.ndarray) -> np.ndarray:
        """Ranking of pairs: by row, then score descending, newer first, then slug."""
        return np.lexsort((self._slug_ranks(pb)[pb], -self._docs.when[pb], -score, pr))

    def _slug_ranks(self, ids: np.ndarray) -> np.ndarray:
        involved = np.unique(ids)
        ranks = np.zeros(len(self._docs), dtype=np.int64)
        slugs = np.array([self._docs.slug[i] for i in involved.tolist()], dtype=object)
        ranks[involved[np.argsort(slugs, kind="stable")]] = np.arange(len(involved))
        return ranks

    # ------------------------------------------------------------------ the stages
    def _score_rows(self, rows: list[int], jobs: int) -> None:
        """Stages 1 and 2 for ``rows`` (every row of a new index).

        With ``jobs`` > 1 and at least PARALLEL_MIN rows, a forked process takes the second
        half of the rows through each stage while this one takes the first, and sends back
        only its rows' results, which are stored here as the stage would have stored them.
        Each stage works row by row (a row's candidates, neighbours, expanded vector and
        lists depend on no other row's results of the same stage), so the index is the same
        as one process makes; the expanded vectors of both halves are in place before either
        half scores its final lists."""
        if jobs < 2 or len(rows) < PARALLEL_MIN:
            pairs, _ = self._neighbours_and_vectors(rows)
            self._lists_of(rows, pairs)
            return
        d = self._docs
        mine, theirs = rows[:len(rows) // 2], rows[len(rows) // 2:]
        self._word_ranks(1 << 62)  # sorted once, before the fork, for both halves
        (pairs_mine, _), (pairs_theirs, (nbrs_of, last_of, ends, cols, vals)) = \
            self._both_halves(RelatedIndex._neighbours_and_vectors, (mine,), (theirs, True))
        for i, nbrs, last, a, b in zip(theirs, nbrs_of, last_of, [0] + ends[:-1], ends):
            d.nbrs[i], d.nbr_last[i], d.ecols[i], d.evals[i] = nbrs, last, cols[a:b], vals[a:b]
            for j in nbrs:
                self._rev_nbrs.setdefault(j, set()).add(i)
        _, lists = self._both_halves(RelatedIndex._lists_of, (mine, pairs_mine),
                                     (theirs, pairs_theirs, True))
        for i, (rel, pinned, best, later) in zip(theirs, lists):
            d.rel[i], d.pinned[i], d.best[i], d.later[i] = rel, pinned, best, later
            self._count_links(i, +1)

    def _both_halves(self, method, mine: tuple, theirs: tuple) -> tuple:
        """``method(self, *theirs)`` in a forked process while this one runs
        ``method(self, *mine)``; returns both results."""
        global _FORKED
        _FORKED = (self, method)
        try:
            with workers.pool(1) as pool:
                pending = pool.apply_async(_run_forked, (theirs,))
                ours = method(self, *mine)
                return ours, pending.get()
        finally:
            _FORKED = None

    def _neighbours_and_vectors(self, rows: list[int], send: bool = False) -> tuple:
        """Stage 1 for ``rows``: returns their candidate pairs and, with ``send`` (the forked
        half), what stage 1 stored for them: neighbours, last neighbours' scores, and the
        expanded vectors as two arrays cut at the given ends (25,000 small arrays take 0.5 s
        to pickle and unpickle; two, none)."""
        pairs = self._pairs(rows, bulk=True)
        self._assign_neighbours(rows, pairs)
        self._expand(rows)
        if not send:
            return pairs, None
        d = self._docs
        ends = np.cumsum([len(d.ecols[i]) for i in rows]).tolist()
        return pairs, ([d.nbrs[i] for i in rows], [d.nbr_last[i] for i in rows], ends,
                       np.concatenate([d.ecols[i] for i in rows] or [_EMPTY]),
                       np.concatenate([d.evals[i] for i in rows] or [_EMPTY]))

    def _lists_of(self, rows: list[int], pairs, send: bool = False) -> list | None:
        """Stage 2 for ``rows``; with ``send``, per row what it stored."""
        self._assign_lists(rows, pairs)
        if not send:
            return None
        d = self._docs
        return [(d.rel[i], d.pinned[i], d.best[i], d.later[i]) for i in rows]

    def _assign_neighbours(self, rows: list[int], pairs=None) -> None:
        """Stage 1: each row's expansion neighbours, by base score."""
        d = self._docs
        for i in rows:
            for j in d.nbrs[i]:
                self._rev_nbrs.get(j, set()).discard(i)
            d.nbrs[i] = ()
            d.nbr_last[i] = 0.0
        k = self.config.expand
        if k <= 0 or not rows:
            return
        pr, pb = pairs if pairs is not None else self._pairs(rows)
        s = self._scores(pr, pb, expanded=False)
        keep = s >= self.config.expand_min
        pr, pb, s = pr[keep], pb[keep], s[keep]
        if not len(pr):
            return
        order = self._order(pr, pb, s)
        pr, pb, s = pr[order], pb[order], s[order]
        cuts = np.flatnonzero(np.diff(pr)) + 1
        for a, b in zip(np.concatenate(([0], cuts)).tolist(),
                        np.concatenate((cuts, [len(pr)])).tolist()):
            i, b = int(pr[a]), min(b, a + k)
            picked = pb[a:b].tolist()
            d.nbrs[i] = tuple(picked)
            d.nbr_last[i] = float(s[b - 1])
            for j in picked:
                self._rev_nbrs.setdefault(j, set()).add(i)

    def _expand(self, rows: list[int]) -> None:
        """Blend each row's vector with its neighbours' (module docstring, step 3).

        Vectorised over chunks of rows: entries of e(a) = |N| v(a) + sum v(n) are summed per
        (row, term) in integers, cut to the heaviest max_terms per row (ties by the word
        itself, never by internal ids), scaled to unit length and rounded.
        """
        d = self._docs
        with_nb = [i for i in rows if d.nbrs[i]]
        for i in rows:
            if not d.nbrs[i]:
                d.ecols[i], d.evals[i] = d.vcols[i], d.vvals[i]
        ranks = self._word_ranks(len(with_nb) * 3 * self.config.max_terms)
        for start in range(0, len(with_nb), _EXPAND_CHUNK):
            self._expand_chunk(with_nb[start:start + _EXPAND_CHUNK], ranks)

    def _word_ranks(self, expected_entries: int) -> np.ndarray | None:
        """Alphabetical rank of every word id, cached; None means "rank locally" (cheaper
        for a handful of rows than sorting the whole vocabulary)."""
        if expected_entries < 20000:
            return None
        if self._ranks is None or len(self._ranks) != len(self._terms):
            words = np.array(self._terms, dtype=object)
            self._ranks = np.empty(len(words), dtype=np.int64)
            self._ranks[np.argsort(words, kind="stable")] = np.arange(len(words))
        return self._ranks

    def _expand_chunk(self, rows: list[int], ranks: np.ndarray | None) -> None:
        if not rows:
            return
        d = self._docs
        src_row, src_doc, factor = [], [], []
        for r, i in enumerate(rows):
            nb = d.nbrs[i]
            src_row.append(r)
            src_doc.append(i)
            factor.append(len(nb))
            for j in nb:
                src_row.append(r)
                src_doc.append(j)
                factor.append(1)
        lens = np.fromiter((len(d.vcols[j]) for j in src_doc), np.int64, len(src_doc))
        cols = np.concatenate([d.vcols[j] for j in src_doc]).astype(np.int64)
        vals = np.concatenate([d.vvals[j] for j in src_doc]).astype(np.int64) \
            * np.repeat(np.asarray(factor, dtype=np.int64), lens)
        row = np.repeat(np.asarray(src_row, dtype=np.int64), lens)
        # Sum per (row, word): one sort of a combined key, then segment sums.
        key = row * (len(self._terms) + 1) + cols
        order = np.argsort(key, kind="stable")
        key = key[order]
        firsts = np.concatenate(([0], np.flatnonzero(np.diff(key)) + 1))
        raw = np.add.reduceat(vals[order], firsts) if len(key) else vals
        row, cols = row[order][firsts], cols[order][firsts]
        # Heaviest first within a row, then alphabetical.
        if ranks is None:
            uniq, inv = np.unique(cols, return_inverse=True)
            words = np.array([self._terms[c] for c in uniq.tolist()], dtype=object)
            local = np.empty(len(uniq), dtype=np.int64)
            local[np.argsort(words, kind="stable")] = np.arange(len(uniq))
            rank = local[inv]
        else:
            rank = ranks[cols]
        raw_bits = max(1, int(raw.max()).bit_length()) if len(raw) else 1
        rank_bits = max(1, int(rank.max()).bit_length()) if len(rank) else 1
        if raw_bits + rank_bits + max(1, len(rows).bit_length()) < 63:
            top = np.argsort((row << (raw_bits + rank_bits))
                             | (((1 << raw_bits) - 1 - raw) << rank_bits) | rank)
        else:  # pragma: no cover - needs absurd weights or vocabularies
            top = np.lexsort((rank, -raw, row))
        row, cols, raw = row[top], cols[top], raw[top]
        starts = np.concatenate(([0], np.flatnonzero(np.diff(row)) + 1))
        position = np.arange(len(row)) - np.repeat(starts, np.diff(np.append(starts, len(row))))
        keep = position < self.config.max_terms
        row, cols, raw = row[keep], cols[keep], raw[keep]
        norm = np.sqrt(np.bincount(row, weights=(raw * raw).astype(np.float64),
                                   minlength=len(rows)))
        q = np.rint(raw * WEIGHT_SCALE / norm[row]).astype(np.int64)
        keep = q > 0
        row, cols, q = row[keep], cols[keep], q[keep]
        order = np.argsort((row << 32) | cols)
        row, cols, q = row[order], cols[order].astype(np.int32), q[order].astype(np.int32)
        bounds = np.searchsorted(row, np.arange(len(rows) + 1))
        for r, i in enumerate(rows):
            a, b = bounds[r], bounds[r + 1]
            d.ecols[i] = cols[a:b].copy()
            d.evals[i] = q[a:b].copy()

    def _assign_lists(self, rows: list[int], pairs=None) -> None:
        """Stage 2: each row's automatic related list and later developments."""
        d = self._docs
        cfg = self.config
        for i in rows:
            self._count_links(i, -1)
            d.rel[i] = ()
            d.later[i] = ()
            d.best[i] = (-1, 0.0)
        self._assign_pins(rows)
        if not rows:
            return
        pr, pb = pairs if pairs is not None else self._pairs(rows)
        if not len(pr):
            return
        s = self._scores(pr, pb, expanded=True)
        order = self._order(pr, pb, s)
        po, bo, so = pr[order], pb[order], s[order]
        firsts = np.concatenate(([0], np.flatnonzero(np.diff(po)) + 1))
        for a in firsts.tolist():
            d.best[int(po[a])] = (int(bo[a]), float(so[a]))
        keep = so >= cfg.min_score
        kp, kb, ks = po[keep], bo[keep], so[keep]
        if len(kp):
            cuts = np.flatnonzero(np.diff(kp)) + 1
            for a, b in zip(np.concatenate(([0], cuts)).tolist(),
                            np.concatenate((cuts, [len(kp)])).tolist()):
                i = int(kp[a])
                want = cfg.count + len(d.pins[i])
                d.rel[i] = tuple(zip(kb[a:min(b, a + want)].tolist(),
                                     ks[a:min(b, a + want)].tolist()))
                self._count_links(i, +1)
        if cfg.later_count <= 0:
            return
        best = np.zeros(len(d))
        np.maximum.at(best, pr, s)
        same = d.when[pb] > d.when[pr]
        same &= (s >= cfg.story_score) & (s >= cfg.story_ratio * best[pr])
        lp, lb = pr[same], pb[same]
        if not len(lp):
            return
        # Both with topics: they must share one.
        ids = np.unique(np.concatenate((lp, lb)))
        shared = self._dots(lp, lb, self._store(ids, d.tcols, None), len(self._topic_ids))
        n_topics = np.zeros(len(d), dtype=np.int64)
        n_topics[ids] = [len(d.tcols[i]) for i in ids.tolist()]
        ok = (shared > 0) | (n_topics[lp] == 0) | (n_topics[lb] == 0)
        lp, lb = lp[ok], lb[ok]
        if not len(lp):
            return
        order = np.lexsort((self._slug_ranks(lb)[lb], d.when[lb], lp))
        for i, picked in _firsts(lp[order], lb[order], cfg.later_count):
            d.later[i] = tuple(picked)

    def _assign_pins(self, rows: list[int]) -> None:
        """Resolve each row's pins to published articles, with their final scores. Pins to
        missing (or draft) articles are skipped; reporting them is the link checker's job."""
        d = self._docs
        pairs: list[tuple[int, int]] = []
        for i in rows:
            d.pinned[i] = ()
            seen = {i}
            for pin in d.pins[i]:
                j = self._ids.get(pin)
                if j is not None and j not in seen:
                    seen.add(j)
                    pairs.append((i, j))
        if not pairs:
            return
        pr = np.fromiter((p[0] for p in pairs), np.int64, len(pairs))
        pb = np.fromiter((p[1] for p in pairs), np.int64, len(pairs))
        order = np.argsort(pr, kind="stable")  # _dots wants rows together; keep pin order
        scores = np.empty(len(pairs))
        scores[order] = self._scores(pr[order], pb[order], expanded=True)
        for (i, j), x in zip(pairs, scores.tolist()):
            d.pinned[i] += ((j, x),)

    def _entering(self, movers: set[int], rows: set[int], stage: int) -> set[int]:
        """The rows (of ``rows``) whose list one of ``movers`` now scores into."""
        d = self._docs
        cfg = self.config
        movers = {m for m in movers if d.alive[m]}
        if not movers or not rows:
            return set()
        pairs = sorted((j, m) for j in rows for m in self._candidates_of(j) & movers)
        if not pairs:
            return set()
        pr = np.fromiter((p[0] for p in pairs), np.int64, len(pairs))
        pb = np.fromiter((p[1] for p in pairs), np.int64, len(pairs))
        s = self._scores(pr, pb, expanded=(stage == 2))
        out: set[int] = set()
        for j, m, x in zip(pr.tolist(), pb.tolist(), s.tolist()):
            if stage == 1:
                cur = d.nbrs[j]
                if x >= cfg.expand_min and (len(cur) < cfg.expand
                                            or self._before(m, x, cur[-1], d.nbr_last[j])):
                    out.add(j)
                continue
            cur = d.rel[j]
            if x >= cfg.min_score and (len(cur) < cfg.count + len(d.pins[j])
                                       or self._before(m, x, cur[-1][0], cur[-1][1])):
                out.add(j)
            elif cfg.later_count and ((x >= cfg.story_score and d.when[m] > d.when[j])
                                      or x >= d.best[j][1]):
                out.add(j)  # a later development, or a new best score moving the story bar
        return out

    def _before(self, m: int, x: float, last: int, last_score: float) -> bool:
        """Does candidate m with score x rank before ``last``?"""
        d = self._docs
        if x != last_score:
            return x > last_score
        if d.when[m] != d.when[last]:
            return bool(d.when[m] > d.when[last])
        return d.slug[m] < d.slug[last]

    # ------------------------------------------------------------------ shown results
    def _assemble(self, i: int, rel: tuple, pinned: tuple) -> list[tuple[int, float, bool]]:
        """(id, score, pinned) of what related() shows for row i, from a state's lists."""
        out = [(j, score, True) for j, score in pinned]
        taken = {i} | {j for j, _ in pinned}
        room = self.config.count - len(out)
        for j, score in rel:
            if room <= 0:
                break
            if j not in taken:
                taken.add(j)
                out.append((j, score, False))
                room -= 1
        return out

    def _shown_key(self, i: int, rel_of: list, later_of: list, pinned_of: list) -> tuple:
        if not self.config.enabled or not self._docs.enabled[i]:
            return ((), ())
        return (tuple(self._assemble(i, rel_of[i], pinned_of[i])), tuple(later_of[i]))

    # ------------------------------------------------------------------ topics and reasons
    def _count_topics(self, i: int, sign: int) -> None:
        ts = self._docs.topic_slugs[i]
        for x in ts:
            self._topic_size[x] += sign
            for y in ts:
                if x < y:
                    self._topic_both[(x, y)] += sign

    def _count_links(self, i: int, sign: int) -> None:
        """Add or take away row i's related links between different topics."""
        d = self._docs
        ts = d.topic_slugs[i]
        if not ts:
            return
        for j, _ in d.rel[i][:self.config.count]:
            for y in d.topic_slugs[j]:
                if y in ts:
                    continue
                for x in ts:
                    self._topic_links[(x, y) if x < y else (y, x)] += sign

    def _topic_relations(self) -> dict[str, tuple[tuple[str, float, str], ...]]:
        """Topics are related when articles belong to both or link from one to the other:
        score (articles in both + half the links) / sqrt(size * size)."""
        size, both, links = self._topic_size, self._topic_both, self._topic_links
        rel: dict[str, list[tuple[str, float, str]]] = {}
        for key in sorted(k for k in set(both) | set(links) if both[k] > 0 or links[k] > 0):
            x, y = key
            nb, nl = both[key], links[key]
            score = (nb + 0.5 * nl) / math.sqrt(size[x] * size[y])
            parts = []
            if nb:
                parts.append(f"{nb} article{'s' if nb != 1 else ''} in both")
            if nl:
                parts.append(f"{nl} related-story link{'s' if nl != 1 else ''}")
            reason = ", ".join(parts)
            rel.setdefault(x, []).append((y, score, reason))
            rel.setdefault(y, []).append((x, score, reason))
        return {t: tuple(sorted(v, key=lambda e: (-e[1], e[0]))[:self.config.count])
                for t, v in rel.items()}

    def _prepare(self, i: int) -> tuple:
        """Article i unpacked for reasons once per related() call: its names best first,
        weights by term id, its heaviest term ids, spellings."""
        d = self._docs
        f = d.feat[i]
        cols = d.vcols[i].tolist()
        weights = dict(zip(cols, d.vvals[i].tolist()))
        vocab = self._vocab
        names = rank_names(f, lambda w, default: weights.get(vocab.get(w, -1), default))
        forms = _Forms(f) if f.forms else {}
        return names, weights, set(cols[:TOP_WORDS]), forms

    def _reasons(self, i: int, j: int, prepared=None) -> tuple[str, ...]:
        d = self._docs
        names_a, weight_a, top_a, forms = prepared or self._prepare(i)
        fb = d.feat[j]
        terms = self._terms

        def words():
            cols_b = d.vcols[j].tolist()   # heaviest first, as in the features
            weight_b = dict(zip(cols_b, d.vvals[j].tolist()))
            return [(weight_a[c] * weight_b[c], terms[c])
                    for c in top_a.intersection(cols_b[:TOP_WORDS])]

        about = select(names_a, name_keys(fb), words, forms)
        return reasons_for(None, fb, d.topic_slugs[i], d.topic_slugs[j],
                           d.tag_slugs[i], d.tag_slugs[j], int(d.when[i]), int(d.when[j]),
                           self.topic_titles, about=about)

class _Forms:
    """Spelling of a term as the article writes it, looked up only for the few words a reason
    names (building a dict of all sixty cost more than the rest of the reason)."""

    __slots__ = ("terms", "forms")

    def __init__(self, f: Features) -> None:
        self.terms = f.terms.split("\n")
        self.forms = f.forms.split("\n")

    def get(self, term: str, default: str) -> str:
        try:
            return self.forms[self.terms.index(term)] or default
        except ValueError:
            return default


def _run_forked(args: tuple):
    index, method = _FORKED
    return method(index, *args)


def _ranges(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Concatenation of arange(s, e) for each pair, vectorised."""
    lens = ends - starts
    total = int(lens.sum())
    if total == 0:
        return _EMPTY
    offsets = np.repeat(starts - np.concatenate(([0], np.cumsum(lens)[:-1])), lens)
    return offsets + np.arange(total)


def _firsts(pr: np.ndarray, pb: np.ndarray, k: int):
    """For pairs grouped by row (in rank order): (row, first k others) per row."""
    if not len(pr):
        return
    cuts = np.flatnonzero(np.diff(pr)) + 1
    for a, b in zip(np.concatenate(([0], cuts)).tolist(),
                    np.concatenate((cuts, [len(pr)])).tolist()):
        yield int(pr[a]), pb[a:min(b, a + k)].tolist()


def _seconds(when: datetime) -> int:
    if when.tzinfo is None:
        raise ValueError("related: article dates must be timezone-aware")
    return int(when.timestamp())


def _check_unique(items: Sequence) -> None:
    seen: set[str] = set()
    for it in items:
        if it.slug in seen:
            raise ValueError(f"related: two articles with the slug {it.slug!r}")
        seen.add(it.slug)
