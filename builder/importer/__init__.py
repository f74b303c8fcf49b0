"""``briefs import``: raw scraped news (text or HTML) in, clean articles out.

    results = import_paths(site_dir, [Path("inbox/")], topic="syria-offensive-dec-2024",
                           date="2024-12-02")

Each input file goes through one pipeline::

    bytes -> kind (text | HTML | empty | binary) -> Draft (text.py / html.py)
          -> boilerplate.clean -> metadata checks (title, date, topic)
          -> duplicate and overwrite checks (store.py) -> front matter + Markdown
          -> validated with the build's own parser -> written atomically

and yields one :class:`ImportResult`; a file that fails never stops the others. Options that are
wrong for every file (an unknown ``--topic``, a malformed ``--date``) raise
:class:`~builder.errors.BuildError` before anything is read, like any other user mistake.
"""

from __future__ import annotations

import gzip
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ..errors import BuildError, Diagnostic
from ..slugs import is_slug, slugify
from .boilerplate import clean
from .document import Draft
from .store import ArticleIndex, render_article, write_atomically

__all__ = ["ImportResult", "import_paths"]

MAX_BYTES = 20 * 1024 * 1024
HTML_SUFFIXES = (".html", ".htm", ".xhtml", ".shtml", ".php", ".asp", ".aspx")


@dataclass(frozen=True)
class ImportResult:
    source_path: str
    """The raw input file."""
    status: str
    """``written`` | ``skipped`` | ``failed`` | ``would-write`` (dry run)."""
    target: str | None
    """``content/articles/YYYY/<slug>.md`` relative to the site, when known."""
    message: str
    """One line: why skipped/failed, or what was written."""

    @property
    def ok(self) -> bool:
        return self.status != "failed"

    def __str__(self) -> str:
        where = f" -> {self.target}" if self.target else ""
        return f"{self.status}: {self.source_path}{where}" + (f" ({self.message})"
                                                             if self.message else "")


class _Failed(Exception):
    """One file cannot be imported; the message is the reason, shown as is."""

    def __init__(self, message: str, target: str | None = None, status: str = "failed"):
        super().__init__(message)
        self.target = target
        self.status = status


def import_paths(site_dir: Path, paths: Sequence[Path], *, topic: str | None = None,
                 source: str | None = None, date: str | None = None, dry_run: bool = False,
                 force: bool = False) -> list[ImportResult]:
    """Import every file in ``paths`` (folders: every file in them, recursively)."""
    from ..config import load_config

    config = load_config(Path(site_dir))  # BuildError with located diagnostics if broken
    root = config.root
    default_date = _check_options(root, config.tz, topic, source, date)
    index = ArticleIndex.load(root)
    results: list[ImportResult] = []
    for path in _expand(paths):
        shown = str(path)
        if not path.exists():
            url = re.match(r"(https?):/+(.*)", shown)
            results.append(ImportResult(
                f"{url[1]}://{url[2]}" if url else shown, "failed", None,
                "a web address: import reads files; save the page first (e.g. `curl -o "
                "story.html URL`) and import that" if url else "no such file or folder"))
            continue
        try:
            target, message, status = _import_file(
                path, root=root, tz=config.tz, index=index, topic=topic, source=source,
                default_date=default_date, dry_run=dry_run, force=force)
        except _Failed as why:
            results.append(ImportResult(shown, why.status, why.target, str(why)))
        else:
            results.append(ImportResult(shown, status, target, message))
    if not dry_run:
        index.save_cache()
    return results


# --- options -----------------------------------------------------------------------------------

def _check_options(root: Path, tz, topic: str | None, source: str | None,
                   date: str | None) -> str | None:
    from ..content import parse_date

    problems = []
    if topic is not None:
        if not is_slug(topic):
            problems.append(Diagnostic("--topic", None, None, f"{topic!r} is not a topic slug",
                                       f"topics are named by their file, e.g. "
                                       f"{slugify(topic) or 'my-topic'!r}"))
        elif not (root / "content" / "topics" / f"{topic}.md").is_file():
            problems.append(Diagnostic("--topic", None, None, f"unknown topic {topic!r}",
                                       f"create content/topics/{topic}.md first"))
    if source is not None and (not source.strip() or "\n" in source):
        problems.append(Diagnostic("--source", None, None, "the outlet name must be one line of text"))
    normalised = None
    if date is not None:
        try:
            parse_date(date, tz)
        except ValueError as exc:
            problems.append(Diagnostic("--date", None, None, str(exc),
                                       "use YYYY-MM-DD or 2024-12-02T14:30:00+01:00"))
        else:
            normalised = date.strip()
    if problems:
        raise BuildError(problems)
    return normalised


def _expand(paths: Sequence[Path]) -> list[Path]:
    """Files in the order given; a folder's files sorted, hidden and backup files skipped (a
    folder with none is kept as it is, and fails as having nothing to import)."""
    out: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            before = len(out)
            for found in sorted(p for p in path.rglob("*") if p.is_file()):
                rel = found.relative_to(path)
                if any(part.startswith(".") for part in rel.parts) or found.name.endswith("~"):
                    continue
                out.append(found)
            if len(out) == before:
                out.append(path)
        else:
            out.append(path)
    return out


# --- one file ----------------------------------------------------------------------------------

def _import_file(path: Path, *, root: Path, tz, index: ArticleIndex, topic, source,
                 default_date, dry_run: bool, force: bool) -> tuple[str, str, str]:
    raw, kind = _read(path)
    draft = clean(raw)
    if not draft.blocks:
        raise _Failed("no article text found in the HTML" if kind == "html"
                      else "no article text left after removing boilerplate")
    if not draft.title:
        raise _Failed("no title found")

    when, date_note = _date(draft, default_date, tz)
    front = _front_matter(draft, when, topic, source)
    body = draft.body_markdown()
    base_slug = slugify(draft.title) or _fallback_slug(body)
    year = when[:4]

    duplicate = index.duplicate_of(front.get("source_url"), body)
    target_rel = f"content/articles/{year}/{base_slug}.md"
    replacing = False
    if duplicate is not None:
        if force and duplicate.existing.rel == target_rel:
            replacing = True
        else:
            raise _Failed(f"duplicate of {duplicate.existing.rel} ({duplicate.why})",
                          target=duplicate.existing.rel, status="skipped")
    slug = base_slug
    target = root / target_rel
    if target.exists() and not replacing:
        if not force:
            raise _Failed(f"{target_rel} exists already and is a different article "
                          "(pass --force to replace it)", target=target_rel)
        replacing = True
    if not replacing:
        # the slug is the URL (/articles/<slug>/) across all years: keep it unique
        n = 2
        while index.slug_owner(slug) not in (None, target_rel):
            slug = f"{base_slug}-{n}"
            n += 1
        target_rel = f"content/articles/{year}/{slug}.md"
        target = root / target_rel

    text = render_article(front, body)
    _validate(root, target_rel, text, tz)
    notes = [draft.title, date_note] + (["replaced"] if replacing else [])
    message = "; ".join(n for n in notes if n)
    if dry_run:
        index.add(target_rel, slug, front.get("source_url"), body)
        return target_rel, message, "would-write"
    try:
        write_atomically(target, text, replace=replacing)
    except FileExistsError:
        raise _Failed(f"{target_rel} appeared meanwhile (pass --force to replace it)",
                      target=target_rel) from None
    except OSError as exc:
        raise _Failed(f"cannot write {target_rel}: {exc.strerror or exc}", target=target_rel) from None
    index.add(target_rel, slug, front.get("source_url"), body)
    return target_rel, message, "written"


def _read(path: Path) -> tuple[Draft, str]:
    """The file's draft and its kind (``text`` or ``html``); _Failed for what is neither."""
    from .html import NoArticle, looks_like_html, read_html
    from .text import read_text

    if path.is_dir():
        raise _Failed("folder with no files to import")
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise _Failed(f"cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        raise _Failed(f"file is larger than {MAX_BYTES // 2**20} MB; not a news article")
    name = path.name.lower()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError):
            raise _Failed("damaged gzip file") from None
        name = name.removesuffix(".gz")
    if not data.strip():
        raise _Failed("empty file")
    if _binary(data):
        raise _Failed("binary file, not text or HTML")
    head = data[:4096].decode("utf-8", errors="replace")
    if name.endswith(HTML_SUFFIXES) or looks_like_html(head):
        try:
            return read_html(data), "html"
        except NoArticle as why:
            raise _Failed(str(why)) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Failed(f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}; "
                      "save it as UTF-8)") from None
    text = text.removeprefix("\ufeff")
    if re.match(r"---[ \t]*\r?\n[A-Za-z_][\w-]*:[ \t\r\n](?:.*\r?\n)*?---[ \t]*(?:\r?\n|$)",
                text[:20000]):
        raise _Failed("already has front matter (a briefs article?): import is for raw text "
                      "and HTML; copy the file into content/articles/ instead")
    draft = read_text(text)
    if not draft.blocks and not draft.title:
        raise _Failed("empty file")
    return draft, "text"


def _binary(data: bytes) -> bool:
    sample = data[:8192]
    if b"\x00" in sample:
        return True
    control = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13, 27))
    return control > len(sample) * 0.05


def _date(draft: Draft, default_date: str | None, tz) -> tuple[str, str]:
    from ..content import parse_date

    if draft.date:
        try:
            parse_date(draft.date, tz)
        except ValueError:
            pass
        else:
            return draft.date, ""
    if default_date:
        return default_date, "date from --date"
    raise _Failed("no date found (pass --date YYYY-MM-DD)")


def _front_matter(draft: Draft, when: str, topic: str | None, source: str | None) -> dict:
    """Keys in the order an editor reads them; only what the file or the user stated."""
    front: dict = {"title": draft.title, "date": when}
    if draft.summary:
        front["summary"] = draft.summary
    if topic:
        front["topics"] = [topic]
    outlet = source.strip() if source else draft.source
    if outlet:
        front["source"] = outlet
    if draft.source_url:
        front["source_url"] = draft.source_url
    if draft.author:
        front["author"] = draft.author
    if draft.section:
        front["section"] = draft.section
    if draft.image_caption:
        front["image_caption"] = draft.image_caption
    extra = {"image_credit": draft.image_credit} if draft.image_credit else {}
    extra.update(draft.extra)
    if extra:
        front["extra"] = extra
    return front


def _fallback_slug(body: str) -> str:
    """For a title with no Latin letters or digits: stable for the same text."""
    return "article-" + hashlib.sha256(body.encode("utf-8")).hexdigest()[:10]


def _validate(root: Path, rel: str, text: str, tz) -> None:
    """Parse the new file exactly as ``briefs build`` will; a failure here is our bug, but
    the user gets a reason instead of a site that no longer builds."""
    from .. import content, sources

    ref = sources.SourceRef("articles", rel, str(root / rel), 0, 0)
    try:
        content.parse_article(sources.read(ref, text.encode("utf-8")), tz)
    except sources.SourceError as exc:
        raise _Failed(f"would not build: {exc.diagnostic.message}", target=rel) from None
    except content.ContentError as exc:
        first = exc.diagnostics[0]
        raise _Failed(f"would not build: {first.message}", target=rel) from None
