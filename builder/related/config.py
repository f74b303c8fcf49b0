"""The ``related:`` section of ``site.yaml``.

Every key is optional; the defaults are the values that scored best on the tuning part of the
ECB+ news corpus and the bench corpus (see ``docs/related.md`` for the table). ``from_mapping``
validates a parsed YAML mapping and reports every problem at once, as plain strings the config
loader turns into diagnostics.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from typing import Any, Mapping


@dataclass(frozen=True)
class Weights:
    """How much each kind of evidence counts. All are >= 0."""

    title: float = 1.5
    """How many body occurrences one title occurrence of a word is worth (in ``features``)."""
    text: float = 1.0
    """Weight of the text similarity (cosine of the term vectors, 0..1)."""
    topics: float = 0.05
    """Added for sharing topics: times shared / sqrt(topics of a * topics of b)."""
    tags: float = 0.05
    """Added for sharing tags, scaled like topics."""
    source: float = 0.0
    """Added when both articles come from the same source."""
    date: float = 0.05
    """Added for closeness in time: times 1 / (1 + days apart / date_scale_days)."""


@dataclass(frozen=True)
class RelatedConfig:
    """Settings of the related-stories engine (``related:`` in ``site.yaml``)."""

    enabled: bool = True
    """False turns the whole feature off: no related lists, no later developments."""
    count: int = 5
    """How many related stories an article lists (pinned ones come first and are never cut)."""
    later_count: int = 5
    """How many newer articles on the same story the "Later developments" list shows."""
    min_score: float = 0.08
    """Related stories scoring below this are not listed, so a list may be shorter than count."""
    story_score: float = 0.3
    """A newer article is on the same story (a later development) if it scores at least this..."""
    story_ratio: float = 0.75
    """...and at least this share of the article's best score (scores differ between sites;
    the ratio does not: ECB+ tuning part 0.978 of such pairs on the same story, bench 0.999)."""
    date_window_days: int | None = None
    """Articles farther apart than this many days never relate; None means no limit."""
    date_scale_days: float = 7.0
    """The date bonus halves at this many days apart."""
    max_terms: int = 60
    """How many of its most distinctive words each article keeps for matching."""
    term_cap_min: int = 50
    """A word in more articles than the larger of this and term_cap_share * article count is
    too common to make two articles candidates by itself (it still counts in their score)."""
    term_cap_share: float = 0.002
    """See term_cap_min."""
    expand: int = 2
    """Each article's vector is blended with its this many nearest neighbours' (0 = off)."""
    expand_min: float = 0.2
    """A neighbour only joins the blend if it scores at least this with the article."""
    weights: Weights = field(default_factory=Weights)
    """Weights of the evidence; see :class:`Weights`."""

    def features_key(self) -> tuple:
        """The settings ``features()`` depends on; part of the pipeline's cache key."""
        return (self.weights.title, self.max_terms)


def _problems_for_number(key: str, value: Any, *, integer: bool, minimum: float,
                         allow_none: bool = False) -> str | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        kind = "a whole number" if integer else "a number"
        extra = " or null" if allow_none else ""
        return f"related.{key}: must be {kind}{extra}, got {value!r}"
    if integer and not float(value).is_integer():
        return f"related.{key}: must be a whole number, got {value!r}"
    if not math.isfinite(float(value)) or value < minimum:
        return f"related.{key}: must be at least {minimum:g}, got {value!r}"
    return None


_INT_KEYS = {"count": 0, "later_count": 0, "max_terms": 1, "expand": 0, "term_cap_min": 1}
_FLOAT_KEYS = {"min_score": 0.0, "story_score": 0.0, "story_ratio": 0.0,
               "date_scale_days": 0.001, "expand_min": 0.0, "term_cap_share": 0.0}


def from_mapping(data: Mapping[str, Any] | None) -> tuple[RelatedConfig, list[str]]:
    """A config from the parsed ``related:`` mapping; unknown keys and bad values are problems.

    Returns the config (defaults where a value was bad) and the list of problems, each naming
    its key as ``related.<key>``. ``related: false`` is accepted as ``enabled: false``.
    """
    if data is None:
        return RelatedConfig(), []
    if data is False:
        return RelatedConfig(enabled=False), []
    if not isinstance(data, Mapping):
        return RelatedConfig(), [f"related: must be a mapping of settings, got {data!r}"]
    problems: list[str] = []
    values: dict[str, Any] = {}
    known = {f.name for f in fields(RelatedConfig)}
    for key in sorted(data, key=str):
        value = data[key]
        if key not in known:
            problems.append(f"related.{key}: unknown setting (known: {', '.join(sorted(known))})")
        elif key == "enabled":
            if isinstance(value, bool):
                values[key] = value
            else:
                problems.append(f"related.enabled: must be true or false, got {value!r}")
        elif key in _INT_KEYS:
            p = _problems_for_number(key, value, integer=True, minimum=_INT_KEYS[key])
            if p:
                problems.append(p)
            else:
                values[key] = int(value)
        elif key in _FLOAT_KEYS:
            p = _problems_for_number(key, value, integer=False, minimum=_FLOAT_KEYS[key])
            if p:
                problems.append(p)
            else:
                values[key] = float(value)
        elif key == "date_window_days":
            p = _problems_for_number(key, value, integer=True, minimum=0, allow_none=True)
            if p:
                problems.append(p)
            else:
                values[key] = None if value is None else int(value)
        elif key == "weights":
            weights, more = _weights_from(value)
            problems += more
            values[key] = weights
    return replace(RelatedConfig(), **values), problems


def _weights_from(data: Any) -> tuple[Weights, list[str]]:
    if data is None:
        return Weights(), []
    if not isinstance(data, Mapping):
        return Weights(), [f"related.weights: must be a mapping like {{text: 1, topics: 0.05}}, "
                           f"got {data!r}"]
    problems: list[str] = []
    values: dict[str, float] = {}
    known = {f.name for f in fields(Weights)}
    for key in sorted(data, key=str):
        value = data[key]
        if key not in known:
            problems.append(f"related.weights.{key}: unknown weight "
                            f"(known: {', '.join(sorted(known))})")
            continue
        p = _problems_for_number(f"weights.{key}", value, integer=False, minimum=0.0)
        if p:
            problems.append(p)
        else:
            values[key] = float(value)
    return replace(Weights(), **values), problems
