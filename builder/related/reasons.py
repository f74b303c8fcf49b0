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
MIN_NAME_WEIGHT = 40
"""A name is worth naming when its heaviest word weighs at least this (0.04 of a unit vector)."""


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
    """One article's features unpacked for the "also about" reason: its names best first as
    (key, spelling, words), weight by term, its heaviest terms, spellings that differ."""

    __slots__ = ("names", "weights", "forms", "top")

    def __init__(self, f: Features) -> None:
        terms = f.term_list()
        self.weights = dict(zip(terms, array("H", f.weights)))
        self.top = set(terms[:TOP_WORDS])
        self.forms = {t: form for t, form in zip(terms, f.forms.split("\n")) if form} \
            if f.forms else {}
        self.names = rank_names(f, self.weights.get)


def rank_names(f: Features, weight) -> list[tuple[str, str, frozenset]]:
    """The article's names, most telling first: by the weight of their heaviest word, then
    alphabetically; names whose words weigh less than MIN_NAME_WEIGHT are left out."""
    if not f.names:
        return []
    ranked = []
    for key, spelt in zip(f.names.replace("-", " ").lower().split("\n"), f.names.split("\n")):
        parts = key.split(" ")
        best = max(weight(w, 0) for w in parts)
        if best >= MIN_NAME_WEIGHT:
            ranked.append((-best, key, spelt, frozenset(parts)))
    ranked.sort()
    return [(key, spelt, parts) for _, key, spelt, parts in ranked]


def prepare(f: Features) -> Prepared:
    return f if isinstance(f, Prepared) else Prepared(f)


def name_keys(f: Features) -> set[str]:
    return set(f.names.replace("-", " ").lower().split("\n")) if f.names else set()


def shared_terms(fa: "Features | Prepared", fb: Features, limit: int = MAX_ABOUT) -> list[str]:
    """Names and words both articles contain, most telling first, as article a spells them.

    First the names both texts contain, in the order of a's names (rank_names), skipping a
    name whose words all appear in an earlier one. Then, if there is room, the words among
    both articles' TOP_WORDS heaviest, by the product of their two weights (ties
    alphabetical), leaving out words inside a chosen name. (The index computes the same on
    integer term ids, which is faster; a test holds the two equal.)
    """
    a = prepare(fa)

    def words() -> list[tuple[int, str]]:
        terms_b = fb.terms.split("\n") if fb.terms else []
        weight_b = dict(zip(terms_b, array("H", fb.weights)))
        return [(a.weights[t] * weight_b[t], t) for t in a.top & set(terms_b[:TOP_WORDS])]

    return select(a.names, name_keys(fb), words, a.forms, limit)


def select(names_a: list[tuple[str, str, frozenset]], names_b: set[str], words,
           forms: Mapping[str, str], limit: int = MAX_ABOUT) -> list[str]:
    """The "also about" items (see shared_terms). ``words`` is called only if the shared
    names leave room, so most links never unpack the other article's words."""
    chosen: list[str] = []
    covered: set[str] = set()
    for key, spelt, parts in names_a:
        if len(chosen) >= limit:
            return chosen
        if key in names_b and not parts <= covered:
            chosen.append(spelt)
            covered |= parts
    for score, term in sorted(words(), key=lambda w: (-w[0], w[1])):
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
