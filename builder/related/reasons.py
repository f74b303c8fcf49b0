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
from typing import Mapping

from .text import WEIGHT_SCALE, Features

MAX_ABOUT = 3
"""How many names or words an "also about" reason lists."""
MIN_SHARED_WEIGHT = 0.004 * WEIGHT_SCALE * WEIGHT_SCALE
"""A shared word is worth naming when its weights multiply to at least this (unit vectors)."""
TOP_WORDS = 20
"""Words named in reasons come from each article's 20 heaviest (names may use all its words)."""


def reasons_for(fa: "Features | Prepared", fb: Features, topics_a, topics_b, tags_a, tags_b,
                when_a: int, when_b: int, topic_titles: Mapping[str, str],
                about: list[str] | None = None) -> tuple[str, ...]:
    """Reasons for showing b under a; ``fa`` may be ``prepare(a's features)`` when a has
    several links (it is then unpacked once); ``about`` may come precomputed."""
    out: list[str] = []
    shared_topics = [t for t in topics_a if t in topics_b]
    if shared_topics:
        out.append(f"same topic: {topic_titles.get(shared_topics[0], shared_topics[0])}")
    about = shared_terms(fa, fb) if about is None else about
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

    __slots__ = ("names", "weights", "forms", "top")

    def __init__(self, f: Features) -> None:
        self.names = []
        if f.names:
            for key, spelt in zip(f.names.replace("-", " ").lower().split("\n"),
                                  f.names.split("\n")):
                self.names.append((key, spelt, key.split(" ")))
        terms = f.term_list()
        self.weights = dict(zip(terms, array("H", f.weights)))
        self.top = set(terms[:TOP_WORDS])
        self.forms = {t: form for t, form in zip(terms, f.forms.split("\n")) if form} \
            if f.forms else {}


def prepare(f: Features) -> Prepared:
    return f if isinstance(f, Prepared) else Prepared(f)


def shared_terms(fa: "Features | Prepared", fb: Features, limit: int = MAX_ABOUT) -> list[str]:
    """Names and words both articles contain, most telling first, as article a spells them.

    Shared names come first, best first: a name counts by its best word's weight product
    (ties alphabetical), and one whose words are all inside an earlier name is skipped. Then,
    if there is room, shared words among each article's TOP_WORDS heaviest, by the product of
    their weights, leaving out words already inside a chosen name. (The index computes the same
    on integer term ids, which is faster; a test holds the two equal.)
    """
    a = prepare(fa)
    weight_a = a.weights
    terms_b = fb.terms.split("\n") if fb.terms else []
    weight_b = dict(zip(terms_b, array("H", fb.weights)))
    names = []
    if a.names and fb.names:
        names_b = set(fb.names.replace("-", " ").lower().split("\n"))
        get_a, get_b = weight_a.get, weight_b.get
        for key, spelt, parts in a.names:
            if key in names_b:
                names.append((max(get_a(w, 0) * get_b(w, 0) for w in parts), key, spelt))
    words = [(weight_a[t] * weight_b[t], t) for t in a.top & set(terms_b[:TOP_WORDS])]
    return select(names, words, a.forms, limit)


def select(names: list[tuple[int, str, str]], words, forms, limit: int = MAX_ABOUT
           ) -> list[str]:
    """The "also about" items: shared names (score, key, spelling) best first, then -- only if
    room is left -- shared words (score, word), given as a list or a callable returning one
    (so that links whose names fill the reason never look at words). See shared_terms."""
    chosen: list[str] = []
    covered: set[str] = set()
    for score, key, spelt in sorted(names, key=lambda n: (-n[0], n[1])):
        if len(chosen) >= limit or score < MIN_SHARED_WEIGHT:
            break
        parts = set(key.split(" "))
        if not parts <= covered:
            chosen.append(spelt)
            covered |= parts
    if len(chosen) < limit:
        for score, term in sorted(words() if callable(words) else words,
                                  key=lambda w: (-w[0], w[1])):
            if len(chosen) >= limit or score < MIN_SHARED_WEIGHT:
                break
            if term not in covered:
                chosen.append(forms.get(term, term))
                covered.add(term)
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
