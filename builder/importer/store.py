"""The site's articles as the importer sees them: what exists, what would be a duplicate, and
how a new article file is written.

Duplicates are recognised three ways, against the articles already in ``content/`` and those
imported earlier in the same run:
- the same ``source_url`` (compared without scheme, ``www.``, trailing slash, fragment and
  ``utm_*`` tracking parameters);
- the same text (a hash of the body's words, lower-cased, without link targets or markup);
- nearly the same text (nine in ten of its five-word runs shared), which is what a second copy
  of a story saved with slightly different boilerplate looks like.
Nothing is stored for this: hashes are recomputed from the files, so articles written by hand or
edited after import take part too.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import yaml

from .. import sources

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


_LINK_TARGET = re.compile(r"\]\((?:<[^>\n]*>|[^)\s]*)(?:\s+\"[^\"]*\")?\)|<(?:https?|mailto):[^>\s]*>")
_NOT_WORD = re.compile(r"[\W_]+")


def normal_text(body_markdown: str) -> str:
    """The words of a Markdown body, lower-cased and single-spaced, without link targets or
    markup: the same for a story whether it was imported or typed in with other emphasis."""
    return _NOT_WORD.sub(" ", _LINK_TARGET.sub("]", body_markdown).lower()).strip()


def text_hash(normal: str) -> str:
    return hashlib.blake2b(normal.encode("utf-8"), digest_size=16).hexdigest()


def runs(normal: str) -> set[int]:
    """Hashes of every run of five words (hash() is per process, and nothing is stored)."""
    words = normal.split()
    return set(map(hash, zip(*(words[k:] for k in range(SHINGLE)))))


@dataclass(frozen=True)
class Known:
    """An article that exists (on disk, or written earlier in this run)."""

    rel: str
    slug: str
    url_key: str | None
    digest: str
    words: int
    body: str | None = field(default=None, repr=False)
    """Kept only for articles of this run (not yet on disk in a dry run)."""


@dataclass
class Duplicate:
    existing: Known
    why: str


class ArticleIndex:
    def __init__(self, root: Path):
        self.root = root
        self.known: dict[str, Known] = {}
        self.by_slug: dict[str, str] = {}
        self.by_url: dict[str, Known] = {}
        self.by_digest: dict[str, Known] = {}

    @classmethod
    def load(cls, root: Path, *, use_cache: bool = True) -> "ArticleIndex":
        """Every article under content/articles. Only ``slug`` and ``source_url`` are read from
        the front matter (a full YAML parse of thousands of files would dominate the run); a
        file that cannot be read still reserves its slug, the build reports what is wrong.

        What is learnt per file is remembered in ``.briefs-cache/import-index.json`` by size and
        modification time, so a second import into a 10k-article site reads only what changed.
        """
        index = cls(root)
        cache_path = root / CACHE_FILE
        cached = _read_cache(cache_path) if use_cache else {}
        fresh: dict[str, list] = {}
        refs, _ = sources.discover(root)
        for ref in refs:
            if ref.kind != "articles":
                continue
            hit = cached.get(ref.rel)
            if hit and hit[0] == ref.mtime_ns and hit[1] == ref.size:
                index._remember(Known(rel=ref.rel, slug=hit[2], url_key=hit[3], digest=hit[4],
                                      words=hit[5]))
                fresh[ref.rel] = hit
                continue
            stem = Path(ref.rel).stem
            found = _front_and_body(Path(ref.abspath))
            if found is None:
                index.by_slug.setdefault(stem, ref.rel)
                continue
            front, body = found
            slug = front.get("slug") if isinstance(front.get("slug"), str) else stem
            url = front.get("source_url")
            known = index.add(ref.rel, slug, url if isinstance(url, str) else None, body,
                              keep_body=False)
            fresh[ref.rel] = [ref.mtime_ns, ref.size, known.slug, known.url_key, known.digest,
                              known.words]
        index.cache_path, index.cache = cache_path, fresh
        index.cache_changed = fresh != cached
        return index

    def save_cache(self) -> None:
        """Remember what load() learnt (skipped in a dry run: it writes nothing)."""
        if not getattr(self, "cache_changed", False):
            return
        try:
            self.cache_path.parent.mkdir(exist_ok=True)
            data = json.dumps({"version": CACHE_VERSION, "files": self.cache}, separators=(",", ":"))
            write_atomically(self.cache_path, data, replace=True)
        except OSError:
            pass  # only a cache: the next import reads the files again

    def _remember(self, entry: Known) -> None:
        self.known[entry.rel] = entry
        self.by_slug[entry.slug] = entry.rel
        if entry.url_key:
            self.by_url[entry.url_key] = entry
        self.by_digest[entry.digest] = entry

    def add(self, rel: str, slug: str, source_url: str | None, body: str,
            keep_body: bool = True) -> Known:
        normal = normal_text(body)
        entry = Known(rel=rel, slug=slug, url_key=normalise_url(source_url) if source_url else None,
                      digest=text_hash(normal), words=normal.count(" ") + 1 if normal else 0,
                      body=body if keep_body else None)
        self._remember(entry)
        return entry

    def duplicate_of(self, source_url: str | None, body: str) -> Duplicate | None:
        if source_url:
            hit = self.by_url.get(normalise_url(source_url))
            if hit:
                return Duplicate(hit, "same source_url")
        normal = normal_text(body)
        hit = self.by_digest.get(text_hash(normal))
        if hit:
            return Duplicate(hit, "same text")
        words = normal.count(" ") + 1 if normal else 0
        if words < MIN_WORDS_FOR_NEAR:
            return None
        mine = runs(normal)
        best, best_share = None, 0.0
        for known in self.known.values():
            # nine in ten runs shared needs lengths within about a tenth of each other: only
            # those articles are read again and compared run by run
            if not (words * NEAR_DUPLICATE - SHINGLE <= known.words
                    <= words / NEAR_DUPLICATE + SHINGLE):
                continue
            theirs = self._runs_of(known)
            share = len(mine & theirs) / len(mine | theirs) if theirs else 0.0
            if share > best_share:
                best, best_share = known, share
        if best is not None and best_share >= NEAR_DUPLICATE:
            return Duplicate(best, f"nearly the same text ({best_share:.0%} shared)")
        return None

    def _runs_of(self, known: Known) -> set[int]:
        body = known.body
        if body is None:
            found = _front_and_body(self.root / known.rel)
            body = found[1] if found else ""
        return runs(normal_text(body))

    def slug_owner(self, slug: str) -> str | None:
        return self.by_slug.get(slug)


CACHE_FILE = ".briefs-cache/import-index.json"
CACHE_VERSION = 1


def _read_cache(path: Path) -> dict[str, list]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != CACHE_VERSION:
        return {}
    files = data.get("files")
    return files if isinstance(files, dict) else {}


_KEY_LINE = re.compile(r"^(slug|source_url)[ \t]*:[ \t]*(.*?)[ \t]*$", re.M)


def _front_and_body(path: Path) -> tuple[dict, str] | None:
    """(``slug``/``source_url`` from the front matter, body) of an article file, or None."""
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    text = text.removeprefix("\ufeff").replace("\r\n", "\n")
    if not text.startswith("---\n"):
        return None
    end = text.find("\n---", 3)
    if end < 0:
        return None
    front_text = text[4:end]
    body = text[end + 4:].split("\n", 1)[1] if "\n" in text[end + 4:] else ""
    front: dict = {}
    for key, raw in _KEY_LINE.findall(front_text):
        if not raw or raw[0] in "|>&*!":  # block scalars and the like: parse it all
            try:
                loaded = yaml.load(front_text, Loader=_LOADER)
            except yaml.YAMLError:
                return None
            return (loaded if isinstance(loaded, dict) else {}), body
        try:
            front[key] = yaml.load(raw, Loader=_LOADER)
        except yaml.YAMLError:
            continue
    return front, body


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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
    # not tempfile.mkstemp: its files are private (0600); an article gets the user's umask
    tmp = str(path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
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
