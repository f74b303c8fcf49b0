"""The ``search:`` section of ``site.yaml``, validated.

Every key is optional::

    search:
      enabled: true            # build the index and the /search/ page
      language: en             # stemming language for the index (default: the site's language)
      exclude: [topic, "articles/2019-*"]   # kinds ("article", "topic") or URL globs
      shard_size: 5000         # most records in one Pagefind bundle (memory per bundle)
      jobs: 2                  # Pagefind processes at once (default: min(2, cores))
      max_chars: 100000        # text indexed per record; longer bodies are cut (with a warning)
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, fields
from typing import Any

KINDS = ("article", "topic")


@dataclass(frozen=True)
class SearchConfig:
    """``search:`` section: full-text search with Pagefind."""

    enabled: bool = True
    """Build the search index and the ``/search/`` page (``--no-search`` turns it off too)."""
    language: str | None = None
    """Language the index is stemmed for (ISO 639-1, e.g. ``en``, ``ar``); None: the site's."""
    exclude: tuple[str, ...] = ()
    """Records left out of the index: a kind (``article``, ``topic``) or a URL glob
    (``articles/2019-*``, ``about/``; matched against the site-relative URL)."""
    shard_size: int = 5000
    """Most records in one Pagefind bundle. Pagefind holds a bundle in memory while it indexes
    it (about 0.3 MB per article of 1,000 words), so this bounds the build's memory."""
    jobs: int | None = None
    """Bundles indexed at the same time, each in its own Pagefind process; None: min(2, cores)."""
    max_chars: int = 100_000
    """Characters of body text indexed per record; a longer body is cut there (warning)."""

    @classmethod
    def from_mapping(cls, data: dict) -> tuple["SearchConfig", list[tuple[str, str]]]:
        """Validate the ``search:`` mapping; returns the config and ``[(key, problem)]``.

        Keys with a problem keep their default, so the caller can report every problem at once.
        """
        problems: list[tuple[str, str]] = []
        values: dict[str, Any] = {}
        known = [f.name for f in fields(cls)]
        for key, value in (data or {}).items():
            key = str(key)
            check = _CHECKS.get(key)
            if check is None:
                close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
                problems.append((key, f"unknown key {key!r}"
                                 + (f"; did you mean {close[0]!r}?" if close else "")))
                continue
            problem, clean = check(value)
            if problem:
                problems.append((key, problem))
            else:
                values[key] = clean
        return cls(**values), problems

    def excludes(self, kind: str, url: str) -> bool:
        """True when a record of this kind at this URL is left out of the index."""
        from fnmatch import fnmatchcase
        url = url.lstrip("/")
        for pattern in self.exclude:
            if pattern in KINDS:
                if kind == pattern:
                    return True
            elif fnmatchcase(url, pattern.lstrip("/")):
                return True
        return False


def _bool(value):
    if isinstance(value, bool):
        return None, value
    return "must be true or false", None


def _language(value):
    if value is None:
        return None, None
    if isinstance(value, str) and re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", value):
        return None, value.lower()
    return "must be a language code such as en or ar", None


def _exclude(value):
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        return ("must be a list of page kinds (article, topic) or URL globs "
                "such as \"articles/2019-*\""), None
    return None, tuple(v.strip() for v in value)


def _int_between(low: int, high: int, none_ok: bool = False):
    def check(value):
        if value is None and none_ok:
            return None, None
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            return f"must be a whole number from {low} to {high}", None
        return None, value
    return check


_CHECKS = {
    "enabled": _bool,
    "language": _language,
    "exclude": _exclude,
    "shard_size": _int_between(100, 1_000_000),
    "jobs": _int_between(1, 64, none_ok=True),
    "max_chars": _int_between(1_000, 100_000_000),
}
