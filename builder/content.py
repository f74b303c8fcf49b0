"""Content: a :class:`SourceFile` becomes a validated Article, Topic or Page.

Each function here is pure per file (its result depends only on the file's bytes and the site's
time zone), which is what lets the pipeline run it in worker processes and cache it by hash.
Every problem in a file is collected, with its line and column, before giving up on it.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from . import markdown, model, sources, yamlio
from .errors import Diagnostic
from .model import Article, Page, Topic
from .slugs import is_slug, slugify, term_slug

ARTICLE_KEYS = ("title", "date", "slug", "summary", "topics", "tags", "source", "source_url",
                "author", "updated", "draft", "image", "image_caption", "section", "related",
                "extra")
TOPIC_KEYS = ("title", "summary", "starts", "ends", "slug", "extra")
PAGE_KEYS = ("title", "summary", "slug", "extra")

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f\ufffe\uffff]")


class ContentError(Exception):
    def __init__(self, diagnostics: list[Diagnostic]):
        super().__init__("\n".join(map(str, diagnostics)))
        self.diagnostics = diagnostics


@dataclass(frozen=True, slots=True)
class Parsed:
    """What parsing one article yields: the record plus the text later stages read."""

    article: Article
    text: str
    """Plain text of the body (for related stories and search)."""


class _Fields:
    """Reads front matter values, collecting located problems instead of stopping at one."""

    def __init__(self, src: sources.SourceFile, known: tuple[str, ...]):
        self.src = src
        self.data = src.front
        self.problems: list[Diagnostic] = []
        for key in self.data:
            if key not in known:
                close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
                hint = (f"did you mean {close[0]!r}?" if close
                        else "put your own values under `extra:`")
                self.fail((str(key),), f"unknown front matter key {key!r}", hint)

    def fail(self, keys: tuple, message: str, hint: str | None = None) -> None:
        line, col = yamlio.locate(self.src.front_text, keys, line_offset=1)
        if line is None:
            line, col = 1, None
        self.problems.append(Diagnostic(self.src.ref.rel, line, col, message, hint))

    def text(self, key: str, required: bool = False, hint: str | None = None) -> str | None:
        value = self.data.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                if key in self.data:
                    self.fail((key,), f"{key} is empty", hint or f"write a {key}")
                else:
                    self.problems.append(Diagnostic(self.src.ref.rel, 1, None,
                                                    f"missing {key}", hint or f"add `{key}: ...`"))
            return None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            self.fail((key,), f"{key} must be text, not {_kind(value)}",
                      "put quotes around it")
            return None
        return clean(value)

    def text_list(self, key: str) -> tuple[str, ...]:
        value = self.data.get(key)
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            self.fail((key,), f"{key} must be a list, not {_kind(value)}",
                      f"write `{key}: [first, second]`")
            return ()
        out = []
        for i, item in enumerate(value):
            if isinstance(item, (int, float)) and not isinstance(item, bool):
                item = str(item)
            if not isinstance(item, str) or not item.strip():
                self.fail((key, i), f"{key} entries must be text, not {_kind(item)}")
                continue
            out.append(clean(item))
        return tuple(out)

    def flag(self, key: str, default: bool = False) -> bool:
        value = self.data.get(key, default)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.fail((key,), f"{key} must be true or false, not {_kind(value)}")
            return default
        return value

    def when(self, key: str, tz: tzinfo, required: bool = False) -> tuple[datetime | None, bool]:
        value = self.data.get(key)
        if value is None:
            if required:
                self.problems.append(Diagnostic(
                    self.src.ref.rel, 1, None, f"missing {key}",
                    f"add e.g. `{key}: 2024-12-02` or `{key}: 2024-12-02T14:30:00+01:00`"))
            return None, False
        try:
            return parse_date(value, tz)
        except ValueError as exc:
            self.fail((key,), f"{key}: {exc}",
                      "write an ISO 8601 date such as 2024-12-02 or 2024-12-02T14:30:00+01:00")
            return None, False

    def url(self, key: str, allow_relative: bool) -> str | None:
        value = self.text(key)
        if value is None:
            return None
        value = value.strip()
        parts = urlsplit(value)
        if parts.scheme in ("http", "https") and parts.netloc:
            return value
        if allow_relative and not parts.scheme and not value.startswith("//"):
            if ".." in PurePosixPath(parts.path).parts:
                self.fail((key,), f"{key} must not contain '..'",
                          "give a path from the site root such as /images/photo.jpg")
                return None
            return value
        self.fail((key,), f"{key} must be an http(s) URL" +
                  (" or a path such as /images/photo.jpg" if allow_relative else ""),
                  f"got {value[:60]!r}")
        return None

    def slug(self, stem: str) -> str:
        value = self.data.get("slug")
        if value is not None:
            if not isinstance(value, str) or not is_slug(value):
                self.fail(("slug",), f"invalid slug {value!r}: use lowercase letters, digits "
                          "and single hyphens", f"e.g. {slugify(str(value)) or 'my-article'!r}")
                return stem
            return value
        if not is_slug(stem):
            self.problems.append(Diagnostic(
                self.src.ref.rel, None, None,
                f"file name {stem!r} is not a valid slug (lowercase letters, digits, hyphens)",
                f"rename the file to {slugify(stem) or 'my-article'}.md or add `slug:`"))
        return stem


def clean(value: str) -> str:
    """Metadata text without control characters, which HTML and XML cannot carry."""
    if _CONTROL.search(value):
        value = _CONTROL.sub("", value)
    return value.strip()


def _kind(value: Any) -> str:
    return {bool: "true/false", int: "a number", float: "a number", list: "a list",
            dict: "a mapping", str: "text", type(None): "empty"}.get(type(value), "a value")


def parse_date(value: Any, tz: tzinfo) -> tuple[datetime, bool]:
    """ISO 8601 date or datetime -> (aware datetime in ``tz``, whether a time was given)."""
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError(f"{value!r} is not a date")
    text = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        try:
            d = date.fromisoformat(text)
        except ValueError as exc:
            raise ValueError(f"{text!r} is not a valid date ({exc})") from None
        _check_year(text, d.year)
        return datetime.combine(d, time(0, 0), tz), False
    if not re.match(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}", text):
        raise ValueError(f"{text!r} is not an ISO 8601 date")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a valid date and time ({exc})") from None
    _check_year(text, moment.year)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(tz), True


YEARS = (2, 9998)
"""Years a date may have: a day or a year either side still exists (time zones, charts)."""


def _check_year(text: str, year: int) -> None:
    if not YEARS[0] <= year <= YEARS[1]:
        raise ValueError(f"{text!r} is out of range (years {YEARS[0]} to {YEARS[1]})")


def parse_article(src: sources.SourceFile, tz: tzinfo) -> Parsed:
    f = _Fields(src, ARTICLE_KEYS)
    stem = PurePosixPath(src.ref.rel).stem
    title = f.text("title", required=True, hint="add `title: ...` to the front matter")
    when, has_time = f.when("date", tz, required=True)
    updated, _ = f.when("updated", tz)
    slug = f.slug(stem)
    topics = f.text_list("topics")
    for i, t in enumerate(topics):
        if not is_slug(t):
            f.fail(("topics", i), f"topic {t!r} is not a slug",
                   f"topics are named by their file: e.g. {slugify(t) or 'my-topic'!r}")
    related = f.data.get("related")
    pins: tuple[str, ...] = ()
    related_enabled = True
    if related is False:
        related_enabled = False
    elif related is not None and related is not True:
        pins = f.text_list("related")
        for i, p in enumerate(pins):
            if not is_slug(p):
                f.fail(("related", i), f"related entry {p!r} is not an article slug")
    extra = f.data.get("extra")
    if extra is not None and not isinstance(extra, dict):
        f.fail(("extra",), "extra must be a mapping of your own keys")
    summary = f.text("summary") or ""
    tags: dict[str, str] = {}
    for name in f.text_list("tags"):
        tags.setdefault(term_slug(name, "tag"), name)
    source = f.text("source")
    fields = dict(
        tags=tuple(tags.values()), tag_slugs=tuple(tags), source=source,
        source_slug=term_slug(source, "source") if source else None,
        source_url=f.url("source_url", allow_relative=False), author=f.text("author"),
        draft=f.flag("draft"), image=f.url("image", allow_relative=True),
        image_caption=f.text("image_caption"), section=f.text("section"))
    if f.problems:
        raise ContentError(f.problems)
    rendered = markdown.render(src.body, "article")
    text = markdown.plain_text(rendered)
    fields.update(
        slug=slug, path=src.ref.rel, explicit_slug="slug" in f.data, title=title, date=when,
        has_time=has_time, updated=updated, summary=summary,
        excerpt=summary or markdown.excerpt(text), topics=tuple(dict.fromkeys(topics)),
        related_pins=pins, related_enabled=related_enabled)
    article = Article(word_count=text.count(" ") + text.count("\n") + 1, digest=src.digest,
                      body_data=rendered.encode("utf-8"), body_line=src.body_line,
                      listing=model.listing_digest(fields), **fields)
    return Parsed(article, text)


def parse_topic(src: sources.SourceFile, tz: tzinfo) -> Topic:
    f = _Fields(src, TOPIC_KEYS)
    title = f.text("title", required=True, hint="name the story, e.g. `title: Syria offensive, Dec 2024`")
    starts, _ = f.when("starts", tz)
    ends, _ = f.when("ends", tz)
    slug = f.slug(PurePosixPath(src.ref.rel).stem)
    summary = f.text("summary") or ""
    if starts and ends and ends < starts:
        f.fail(("ends",), "ends is before starts", "swap the dates")
    if f.problems:
        raise ContentError(f.problems)
    return Topic(slug=slug, path=src.ref.rel, title=title, summary=summary,
                 starts=starts.date() if starts else None, ends=ends.date() if ends else None,
                 body_html=markdown.render(src.body, "topic"), digest=src.digest)


def parse_page(src: sources.SourceFile) -> Page:
    f = _Fields(src, PAGE_KEYS)
    title = f.text("title", required=True)
    slug = f.slug(PurePosixPath(src.ref.rel).stem)
    summary = f.text("summary") or ""
    if f.problems:
        raise ContentError(f.problems)
    return Page(slug=slug, path=src.ref.rel, title=title, summary=summary,
                body_html=markdown.render(src.body), digest=src.digest)


def render_body(article: Article, link_root: str) -> str:
    """The article's body HTML with root-relative links pointed at ``link_root``."""
    return markdown.relocate_links(article.body_html, link_root)


def locate(site_root: str, rel: str, keys: tuple) -> tuple[int | None, int | None]:
    """Line and column of a front matter value, read again from disk (error path only)."""
    try:
        src = sources.read(sources.SourceRef("articles", rel, f"{site_root}/{rel}", 0, 0))
    except sources.SourceError:
        return None, None
    return yamlio.locate(src.front_text, keys, line_offset=1)
