"""Reasons shown beside a related link, in the reader's words, each one true of both articles.

- "same topic: <topic title>" when they share a topic (the first of this article's topics);
- "also about X, Y, Z": names and words *both* texts contain (shared multi-word names first,
  then the shared words that weigh most in both), never words only the expansion brought in;
- "also tagged a, b" for shared tags;
- the time between them, "2 days later", "3 weeks earlier", "same day". Articles with exactly
  the same timestamp get no time reason: that is what undated imports look like.
"""

from __future__ import annotations

from typing import Mapping

from .text import WEIGHT_SCALE, Features

MAX_ABOUT = 3
"""How many names or words an "also about" reason lists."""
MIN_SHARED_WEIGHT = 0.004 * WEIGHT_SCALE * WEIGHT_SCALE
"""A shared word is worth naming when its weights multiply to at least this (unit vectors)."""


def reasons_for(fa: Features, fb: Features, topics_a, topics_b, tags_a, tags_b,
                when_a: int, when_b: int, topic_titles: Mapping[str, str]) -> tuple[str, ...]:
    out: list[str] = []
    shared_topics = [t for t in topics_a if t in set(topics_b)]
    if shared_topics:
        out.append(f"same topic: {topic_titles.get(shared_topics[0], shared_topics[0])}")
    about = shared_terms(fa, fb)
    if about:
        out.append("also about " + ", ".join(about))
    shared_tags = [t for t in tags_a if t in set(tags_b)]
    if shared_tags:
        out.append("also tagged " + ", ".join(shared_tags[:3]))
    when = _relative_time(when_b - when_a)
    if when:
        out.append(when)
    return tuple(out)


def shared_terms(fa: Features, fb: Features, limit: int = MAX_ABOUT) -> list[str]:
    """Names and words both articles contain, most telling first, as article a spells them."""
    names_b = {key for key, _ in fb.name_list()}
    chosen: list[str] = []
    covered: set[str] = set()
    for key, spelt in fa.name_list():
        if len(chosen) >= limit:
            break
        words = set(key.split())
        if key in names_b and not words <= covered:
            chosen.append(spelt)
            covered |= words
    if len(chosen) < limit:
        wb = dict(zip(fb.term_list(), fb.weight_list()))
        scored = []
        for term, w, form in zip(fa.term_list(), fa.weight_list(), fa.form_list()):
            other = wb.get(term)
            if other is not None and term not in covered and w * other >= MIN_SHARED_WEIGHT:
                scored.append((-w * other, term, form))
        scored.sort()
        for _, term, form in scored[:limit - len(chosen)]:
            chosen.append(form)
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
