"""Reasons shown beside a related link, in the reader's words, each one true of both articles.

- "same topic: <topic title>" when they share a topic (the first of this article's topics);
- "also about X, Y, Z": names and words *both* texts contain (shared multi-word names first,
  then the shared words that weigh most in both), never words only the expansion brought in;
- "also tagged a, b" for shared tags;
- the time between them, "2 days later", "3 weeks earlier", "same day". Articles with exactly
  the same timestamp get no time reason: that is what undated imports look like.
"""

from __future__ import annotations

from array import array
from heapq import nsmallest
from typing import Mapping

from .text import WEIGHT_SCALE, Features

MAX_ABOUT = 3
"""How many names or words an "also about" reason lists."""
MIN_SHARED_WEIGHT = 0.004 * WEIGHT_SCALE * WEIGHT_SCALE
"""A shared word is worth naming when its weights multiply to at least this (unit vectors)."""


def reasons_for(fa: "Features | Prepared", fb: Features, topics_a, topics_b, tags_a, tags_b,
                when_a: int, when_b: int, topic_titles: Mapping[str, str]) -> tuple[str, ...]:
    """Reasons for showing b under a; ``fa`` may be ``prepare(a's features)`` when a has
    several links (it is then unpacked once)."""
    out: list[str] = []
    shared_topics = [t for t in topics_a if t in topics_b]
    if shared_topics:
        out.append(f"same topic: {topic_titles.get(shared_topics[0], shared_topics[0])}")
    about = shared_terms(fa, fb)
    if about:
        out.append("also about " + ", ".join(about))
    shared_tags = [t for t in tags_a if t in tags_b]
    if shared_tags:
        out.append("also tagged " + ", ".join(shared_tags[:3]))
    when = _relative_time(when_b - when_a)
    if when:
        out.append(when)
    return tuple(out)


class Prepared:
    """One article's features unpacked for the "also about" reason: its names with their
    words, weight by term, and spellings where they differ from the term."""

    __slots__ = ("names", "weights", "forms")

    def __init__(self, f: Features) -> None:
        self.names = []
        if f.names:
            for key, spelt in zip(f.names.replace("-", " ").lower().split("\n"),
                                  f.names.split("\n")):
                self.names.append((key, spelt, key.split(" ")))
        terms = f.term_list()
        self.weights = dict(zip(terms, array("H", f.weights)))
        self.forms = {t: form for t, form in zip(terms, f.forms.split("\n")) if form} \
            if f.forms else {}


def prepare(f: Features) -> Prepared:
    return f if isinstance(f, Prepared) else Prepared(f)


def shared_terms(fa: "Features | Prepared", fb: Features, limit: int = MAX_ABOUT) -> list[str]:
    """Names and words both articles contain, most telling first, as article a spells them.

    A shared word counts by the product of its two weights, a shared name by its best word's;
    on a tie a name goes first (it says more), then alphabetical. Words inside a chosen name
    are not repeated, and a name made only of words already shown is skipped.
    """
    a = prepare(fa)
    weight_a = a.weights
    weight_b = dict(zip(fb.terms.split("\n"), array("H", fb.weights))) if fb.terms else {}
    items: list[tuple[int, int, str, str]] = []   # (-score, 0 name / 1 word, key, shown)
    name_words = 0
    if a.names and fb.names:
        names_b = set(fb.names.replace("-", " ").lower().split("\n"))
        for key, spelt, parts in a.names:
            if key in names_b:
                best = max(weight_a.get(w, 0) * weight_b.get(w, 0) for w in parts)
                if best >= MIN_SHARED_WEIGHT:
                    items.append((-best, 0, key, spelt))
                    name_words += len(parts)
    words = [(-weight_a[t] * weight_b[t], 1, t, t) for t in weight_a.keys() & weight_b.keys()]
    words = [w for w in words if w[0] <= -MIN_SHARED_WEIGHT]
    if len(words) > limit + name_words:  # enough to fill the list after names cover some
        words = nsmallest(limit + name_words, words)
    chosen: list[str] = []
    covered: set[str] = set()
    for _, kind, key, shown in sorted(items + words):
        if len(chosen) >= limit:
            break
        parts = set(key.split(" ")) if kind == 0 else {key}
        if parts <= covered:
            continue
        chosen.append(shown if kind == 0 else a.forms.get(key, key))
        covered |= parts
    return chosen


def _relative_time(seconds: int) -> str:
    if seconds == 0:
        return ""
    direction = "later" if seconds > 0 else "earlier"
    days = abs(seconds) // 86400
    if days == 0:
        return "same day"
    if days < 14:
        amount, unit = days, "day"
    elif days < 60:
        amount, unit = days // 7, "week"
    elif days < 730:
        amount, unit = days // 30, "month"
    else:
        amount, unit = days // 365, "year"
    return f"{amount} {unit}{'s' if amount != 1 else ''} {direction}"
