"""Slugs: the URL-safe names of articles, topics, tags, sources and pages.

A slug is ``[a-z0-9]+`` words joined by single hyphens. Anything else (``/``, ``..``, spaces,
uppercase) is rejected where a user wrote it, so no slug can escape the output folder.
"""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"[a-z0-9]+")
SLUG_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
MAX_SLUG = 100


def is_slug(value: str) -> bool:
    return bool(SLUG_RE.fullmatch(value)) and len(value) <= MAX_SLUG


def slugify(text: str, max_length: int = 80) -> str:
    """Turn a title or tag name into a slug: ASCII-folded, lowercase, hyphen-separated.

    Returns ``""`` when nothing usable is left (e.g. a purely Arabic title); callers choose a
    fallback, since only they know what would be unique.
    """
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text.replace("\u2019", "")).encode(
            "ascii", "ignore").decode("ascii")
    words = _WORD.findall(text.lower().replace("'", ""))
    slug = "-".join(words)
    if len(slug) > max_length:
        cut = slug[: max_length + 1]
        slug = cut[: cut.rfind("-")] if "-" in cut else slug[:max_length]
    return slug.strip("-")


def term_slug(name: str, prefix: str) -> str:
    """Slug of a tag or source name; names with no Latin letters or digits (e.g. Arabic) get
    a stable short hash, so no tag silently disappears."""
    slug = slugify(name)
    if slug:
        return slug
    import hashlib
    return f"{prefix}-" + hashlib.blake2b(name.encode("utf-8"), digest_size=4).hexdigest()
