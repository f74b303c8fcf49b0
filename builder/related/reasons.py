"""Reasons shown beside a related link, in the reader's words, each one true of both articles.

- "same topic: <topic title>" when they share a topic (the first of this article's topics);
- "also about X, Y, Z": names and words *both* texts contain (shared multi-word names first,
  then the shared words that weigh most in both), never words only the expansion brought in;
- "also tagged a, b" for shared tags;
- the time between them, "2 days later", "3 weeks earlier", "same day". Articles with exactly
  the same timestamp get no time reason: that is what undated imports look like.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Mapping

from .text import WEIGHT_SCALE, Features

MAX_ABOUT = 3
"""How many names or words an "also about" reason lists."""
MIN_SHARED_WEIGHT = 0.004 * WEIGHT_SCALE * WEIGHT_SCALE
"""A shared word is worth naming when its weights multiply to at least this (unit vectors)."""


def reasons_for(fa: Features, fb: Features, topics_a, topics_b, tags_a, tags_b,
                when_a: int, when_b: int, topic_titles: Mapping[str, str]) -> tuple[str, ...]:
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


def shared_terms(fa: Features, fb: Features, limit: int = MAX_ABOUT) -> list[str]:
    """Names and words both articles contain, most telling first, as article a spells them.

    A shared word counts by the product of its two weights, a shared name by its best word's;
    on a tie a name goes first (it says more), then alphabetical. Words inside a chosen name
    are not repeated, and a name made only of words already shown is skipped.
    """
    names_a, terms_a, forms_a, (_, weight_a, _) = _parsed(fa)
    _, _, _, (names_b, weight_b, top_b) = _parsed(fb)
    if not top_b:
        return []
    items: list[tuple[int, int, str, str]] = []   # (-score, 0 name / 1 word, key, shown)
    for key, spelt in names_a:
        if key in names_b:
            best = max((weight_a.get(w, 0) * weight_b.get(w, 0) for w in key.split(" ")),
                       default=0)
            if best >= MIN_SHARED_WEIGHT:
                items.append((-best, 0, key, spelt))
    # The best shared words: walk a's words heaviest first, stop once none can catch up.
    want = limit + 6
    words: list[tuple[int, int, str, str]] = []
    for term, w in terms_a:
        if len(words) >= want and w * top_b < -words[-1][0]:
            break
        other = weight_b.get(term)
        if other is not None and w * other >= MIN_SHARED_WEIGHT:
            words.append((-w * other, 1, term, forms_a.get(term, term)))
            words.sort()
            del words[want:]
    chosen: list[str] = []
    covered: set[str] = set()
    for _, kind, key, shown in sorted(items + words):
        if len(chosen) >= limit:
            break
        parts = set(key.split(" "))
        if parts <= covered:
            continue
        chosen.append(shown)
        covered |= parts
    return chosen


@lru_cache(maxsize=4096)
def _parsed(f: Features):
    """Features unpacked for reasons, cached (rendering asks for about five links an article,
    and each article is linked from about five others): a's side -- names as (key, spelling),
    (term, weight) heaviest first, spelling by term where it differs -- and b's side -- name
    keys, weight by term, and the largest weight."""
    names: list[tuple[str, str]] = []
    if f.names:
        names = list(zip(f.names.replace("-", " ").lower().split("\n"), f.names.split("\n")))
    terms = f.term_list()
    weights = f.weight_list()
    forms = {t: form for t, form in zip(terms, f.forms.split("\n")) if form} if f.forms else {}
    as_b = ({key for key, _ in names}, dict(zip(terms, weights)), max(weights, default=0))
    return names, list(zip(terms, weights)), forms, as_b


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
