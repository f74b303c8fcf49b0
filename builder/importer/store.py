"""The site's articles as the importer sees them: what exists, what would be a duplicate, and
how a new article file is written.

Duplicates are recognised three ways, against the articles already in ``content/`` and those
imported earlier in the same run:
- the same ``source_url`` (compared without scheme, ``www.``, trailing slash, fragment and
  ``utm_*`` tracking parameters);
- the same text (a hash of the body's words, lower-cased, as a reader sees them);
- nearly the same text (nine in ten of its five-word runs shared), which is what a second copy
  of a story saved with slightly different boilerplate looks like.
Nothing is stored for this: hashes are recomputed from the files, so articles written by hand or
edited after import take part too.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import yaml

from .. import markdown, sources

SHINGLE = 5
NEAR_DUPLICATE = 0.9
"""Share of five-word runs two bodies must have in common to count as the same story."""
MIN_WORDS_FOR_NEAR = 40
"""Shorter bodies are compared only exactly: a few shared sentences mean little."""


def normalise_url(url: str) -> str:
    parts = urlsplit(url.strip())
    host = parts.netloc.lower()
    host = host[4:] if host.startswith("www.") else host
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                             if not k.lower().startswith(("utm_", "fbclid", "gclid"))))
    path = parts.path.rstrip("/") or "/"
    return f"{host}{path}" + (f"?{query}" if query else "")


def body_words(body_markdown: str) -> list[str]:
    """The words a reader sees in a Markdown body, lower-cased."""
    text = markdown.plain_text(markdown.render(body_markdown))
    return re.findall(r"\w+", text.lower())


def text_hash(words: list[str]) -> str:
    return hashlib.sha256(" ".join(words).encode("utf-8")).hexdigest()


def shingles(words: list[str]) -> frozenset[int]:
    if len(words) < SHINGLE:
        return frozenset()
    return frozenset(hash(" ".join(words[i:i + SHINGLE])) for i in range(len(words) - SHINGLE + 1))


@dataclass(frozen=True)
class Known:
    """An article that exists (on disk, or written earlier in this run)."""

    rel: str
    slug: str
    url_key: str | None
    digest: str
    runs: frozenset[int] = field(repr=False)


@dataclass
class Duplicate:
    existing: Known
    why: str


class ArticleIndex:
    def __init__(self, root: Path):
        self.root = root
        self.known: list[Known] = []
        self.by_slug: dict[str, str] = {}
        self.by_url: dict[str, Known] = {}
        self.by_digest: dict[str, Known] = {}

    @classmethod
    def load(cls, root: Path) -> "ArticleIndex":
        index = cls(root)
        refs, _ = sources.discover(root)
        for ref in refs:
            if ref.kind != "articles":
                continue
            stem = Path(ref.rel).stem
            try:
                src = sources.read(ref)
            except sources.SourceError:
                index.by_slug.setdefault(stem, ref.rel)  # broken file: the build reports it
                continue
            slug = src.front.get("slug") if isinstance(src.front.get("slug"), str) else stem
            url = src.front.get("source_url")
            index.add(ref.rel, slug, url if isinstance(url, str) else None, src.body)
        return index

    def add(self, rel: str, slug: str, source_url: str | None, body: str) -> Known:
        words = body_words(body)
        entry = Known(rel=rel, slug=slug, url_key=normalise_url(source_url) if source_url else None,
                      digest=text_hash(words),
                      runs=shingles(words) if len(words) >= MIN_WORDS_FOR_NEAR else frozenset())
        self.known = [k for k in self.known if k.rel != rel] + [entry]
        self.by_slug[slug] = rel
        if entry.url_key:
            self.by_url[entry.url_key] = entry
        self.by_digest[entry.digest] = entry
        return entry

    def duplicate_of(self, source_url: str | None, body: str) -> Duplicate | None:
        if source_url:
            hit = self.by_url.get(normalise_url(source_url))
            if hit:
                return Duplicate(hit, "same source_url")
        words = body_words(body)
        hit = self.by_digest.get(text_hash(words))
        if hit:
            return Duplicate(hit, "same text")
        if len(words) >= MIN_WORDS_FOR_NEAR:
            runs = shingles(words)
            best, best_share = None, 0.0
            for known in self.known:
                if not known.runs:
                    continue
                share = len(runs & known.runs) / len(runs | known.runs)
                if share > best_share:
                    best, best_share = known, share
            if best is not None and best_share >= NEAR_DUPLICATE:
                return Duplicate(best, f"nearly the same text ({best_share:.0%} shared)")
        return None

    def slug_owner(self, slug: str) -> str | None:
        return self.by_slug.get(slug)


# --- writing ---------------------------------------------------------------------------------

def render_article(front: dict, body: str) -> str:
    """Front matter (safe YAML, keys in a fixed order) and the Markdown body."""
    dumped = yaml.safe_dump(front, allow_unicode=True, sort_keys=False, width=1000,
                            default_flow_style=False)
    return f"---\n{dumped}---\n\n{body.strip()}\n"


def write_atomically(path: Path, text: str, *, replace: bool) -> None:
    """Write via a temporary file in the same folder and a rename, so a reader (or a build
    running meanwhile) sees the old file or the new one, never half of one. Without
    ``replace``, an existing file is left alone and FileExistsError raised."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        if replace:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)  # fails with FileExistsError instead of overwriting
            except FileExistsError:
                raise
            except OSError:  # a file system without hard links: check, then rename
                if path.exists():
                    raise FileExistsError(str(path)) from None
                os.replace(tmp, path)
            else:
                os.unlink(tmp)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
