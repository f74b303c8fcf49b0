"""Site configuration: ``site.yaml`` read into frozen dataclasses, every problem reported at once.

Each key is declared once in :data:`KEYS` with its type check and default; an unknown key is an
error with its line and a "did you mean" suggestion. Sections owned by later stages
(``related:``, ``search:``, ``publish:``) validate themselves through ``from_mapping``.
"""

from __future__ import annotations

import difflib
import re
import zoneinfo
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

from . import yamlio
from .errors import BuildError, Diagnostic
from .related.config import RelatedConfig, from_mapping as related_settings
from .search.config import SearchConfig  # the ``search:`` section (enabled, language, exclude, ...)

CONFIG_FILE = "site.yaml"


class RelatedSection:
    """``related:`` section: validated by the related-stories engine's own settings class."""

    @staticmethod
    def from_mapping(data: dict) -> tuple[RelatedConfig, list[tuple[str, str]]]:
        known = [f.name for f in fields(RelatedConfig)]
        out = [(str(k), _unknown(str(k), known)) for k in data if k not in known]
        config, problems = related_settings({k: v for k, v in data.items() if k in known})
        for problem in problems:  # "related.<key>[.<sub>]: what is wrong"
            head, _, message = problem.partition(": ")
            out.append((head.partition(".")[2], message))  # ("weights.title", ...)
        return config, out


@dataclass(frozen=True)
class PublishConfig:
    """``publish:`` section: where ``briefs publish`` puts the site."""

    branch: str = "gh-pages"
    """Branch that receives the built site."""
    remote: str = "origin"
    """Remote that ``--push`` pushes to."""
    cname: str | None = None
    """Custom domain written to ``CNAME`` (GitHub Pages)."""

    @classmethod
    def from_mapping(cls, data: dict) -> tuple["PublishConfig", list[tuple[str, str]]]:
        config, problems = _section(cls, data, {"branch": str, "remote": str,
                                                "cname": (str, type(None))})
        if config.cname is not None and not _HOSTNAME.fullmatch(config.cname):
            problems.append(("cname", f"must be a domain name such as news.example.org, "
                                      f"got {config.cname[:60]!r}"))
            config = replace(config, cname=None)
        return config, problems


_HOSTNAME = re.compile(r"(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
                       r"[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
"""A domain name, as GitHub Pages' CNAME file holds it (no scheme, path or spaces)."""


def _section(cls, data: dict, types: dict) -> tuple[Any, list[tuple[str, str]]]:
    """Generic validation for a flat section: returns (config, [(key, problem)])."""
    problems: list[tuple[str, str]] = []
    values = {}
    for key, value in data.items():
        if key not in types:
            problems.append((str(key), _unknown(str(key), types)))
            continue
        want = types[key]
        if isinstance(value, bool) and want is int or not isinstance(value, want):
            problems.append((key, f"must be {_type_name(want)}, not {_type_name(type(value))}"))
            continue
        values[key] = value
    return cls(**values), problems


def _type_name(t) -> str:
    if isinstance(t, tuple):
        return " or ".join(_type_name(x) for x in t)
    return {bool: "true or false", int: "a whole number", str: "text", dict: "a mapping",
            list: "a list", float: "a number", type(None): "empty"}.get(t, t.__name__)


def _unknown(key: str, known) -> str:
    close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
    return f"unknown key {key!r}" + (f"; did you mean {close[0]!r}?" if close else "")


@dataclass(frozen=True)
class SiteConfig:
    """Everything ``site.yaml`` says, validated."""

    root: Path
    """The site folder (holds site.yaml, content/, templates/, static/)."""
    title: str
    """Site name, shown in the header, titles and feeds."""
    base_url: str
    """Absolute URL the site is published at, ending in ``/``; may carry a sub-path."""
    language: str = "en"
    """Language code for ``<html lang>``, feeds and search."""
    description: str = ""
    """One-line description for the home page, feeds and meta tags."""
    author: str = ""
    """Default author and the publisher named in feeds."""
    image: str = ""
    """Share image and publisher logo: an http(s) URL or a path in the site (``/images/x.png``)."""
    timezone: str = "UTC"
    """IANA zone (``Europe/London``) for dates written without an offset and for display."""
    per_page: int = 50
    """Articles per page on tag, source and archive listings."""
    related: RelatedConfig = field(default_factory=RelatedConfig)
    search: SearchConfig = field(default_factory=SearchConfig)
    publish: PublishConfig = field(default_factory=PublishConfig)
    extra: dict = field(default_factory=dict)
    """Free-form values for your own templates (``site.extra.x``)."""

    @property
    def base_path(self) -> str:
        """Path part of ``base_url``: ``/`` or e.g. ``/briefs/``."""
        return urlsplit(self.base_url).path or "/"

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def with_base_url(self, base_url: str) -> "SiteConfig":
        from dataclasses import replace
        return replace(self, base_url=_normalise_base_url(base_url))


def _normalise_base_url(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def _check_base_url(value: Any) -> str | None:
    if not isinstance(value, str):
        return "must be an absolute URL such as https://example.org/ (text)"
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return "must be an absolute http(s) URL such as https://user.github.io/briefs/"
    if parts.query or parts.fragment:
        return "must not carry a query or a #fragment"
    bad = sorted({c for c in value if c in _NOT_IN_URLS or ord(c) < 32 or ord(c) == 127})
    if bad:
        return ("must not contain " + ", ".join(repr(c) for c in bad)
                + " (percent-encode them, e.g. %20 for a space)")
    return None


_NOT_IN_URLS = frozenset(" \t\n\"'<>\\`{}|^")
"""Characters a URL never carries unencoded (RFC 3986); quotes and brackets would also end the
HTML attributes base_url is printed into."""


def _check_timezone(value: Any) -> str | None:
    if not isinstance(value, str):
        return "must be an IANA time zone name such as Europe/London"
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return f"unknown time zone {value!r} (use an IANA name such as UTC or Europe/London)"
    return None


def _check_type(want) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if isinstance(value, bool) and want is not bool or not isinstance(value, want):
            return f"must be {_type_name(want)}"
        return None
    return check


def _check_image(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return "must be an http(s) URL or a path in the site such as /images/logo.png"
    parts = urlsplit(value)
    if parts.scheme in ("http", "https") and parts.netloc:
        return None
    if parts.scheme or value.startswith("//") or ".." in value.split("/"):
        return "must be an http(s) URL or a path in the site such as /images/logo.png"
    return None


def _check_per_page(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10000:
        return "must be a whole number from 1 to 10000"
    return None


def _check_language(value: Any) -> str | None:
    import re
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", value):
        return "must be a language code such as en or pt-BR"
    return None


# key -> (check returning a problem or None, required)
KEYS: dict[str, tuple[Callable[[Any], str | None], bool]] = {
    "title": (lambda v: None if isinstance(v, str) and v.strip() else "must be non-empty text", True),
    "base_url": (_check_base_url, True),
    "language": (_check_language, False),
    "description": (_check_type(str), False),
    "author": (_check_type(str), False),
    "image": (_check_image, False),
    "timezone": (_check_timezone, False),
    "per_page": (_check_per_page, False),
    "extra": (_check_type(dict), False),
}
SECTIONS = {"related": RelatedSection, "search": SearchConfig, "publish": PublishConfig}


def load_config(site_dir: Path, *, base_url: str | None = None) -> SiteConfig:
    """Read and validate ``site_dir/site.yaml``; raise BuildError listing every problem."""
    site_dir = Path(site_dir)
    path = site_dir / CONFIG_FILE
    shown = CONFIG_FILE
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise BuildError(Diagnostic(str(path), None, None, "site.yaml not found",
                                    "run the command in a site folder, pass --site DIR, "
                                    "or create one with `briefs init DIR`")) from None
    except OSError as exc:
        raise BuildError(Diagnostic(str(path), None, None,
                                    f"cannot read site.yaml: {exc.strerror}",
                                    "check the file's permissions")) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise BuildError(Diagnostic(shown, line, None, "site.yaml is not valid UTF-8",
                                    "save it as UTF-8")) from None
    text = text.replace("\r\n", "\n")
    try:
        data = yamlio.load(text, shown)
    except yamlio.YamlError as exc:
        raise BuildError(exc.diagnostic) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise BuildError(Diagnostic(shown, 1, 1, "site.yaml must be a mapping of keys to values",
                                    "start with e.g. `title: My briefings`"))

    problems: list[Diagnostic] = []

    def report(keys: tuple, message: str, hint: str | None = None) -> None:
        line, col = yamlio.locate(text, keys)
        problems.append(Diagnostic(shown, line, col, message, hint))

    values: dict[str, Any] = {}
    for key, value in data.items():
        key = str(key)
        if key in SECTIONS:
            if value is None:
                value = {}
            if value is False and key in ("related", "search"):  # `related: false`: off
                value = {"enabled": False}
            if not isinstance(value, dict):
                report((key,), f"{key}: must be a mapping of settings")
                continue
            section, section_problems = SECTIONS[key].from_mapping(value)
            for sub, problem in section_problems:  # (sub: "count", or "weights.title")
                report((key, *sub.split(".")), f"{key}.{sub}: {problem}")
            values[key] = section
        elif key in KEYS:
            problem = KEYS[key][0](value)
            if problem:
                report((key,), f"{key}: {problem}")
            else:
                values[key] = value
        else:
            report((key,), _unknown(key, list(KEYS) + list(SECTIONS)),
                   "see the configuration keys in the README")
    for key, (_, required) in KEYS.items():
        if required and key not in data:
            example = {"title": "title: My briefings",
                       "base_url": "base_url: https://example.org/"}[key]
            problems.append(Diagnostic(shown, 1, None, f"missing required key {key!r}",
                                       f"add e.g. `{example}`"))
    if base_url is not None:
        problem = _check_base_url(base_url)
        if problem:
            problems.append(Diagnostic("--base-url", None, None, problem))
        else:
            values["base_url"] = base_url
    if problems:
        raise BuildError(problems)
    values["base_url"] = _normalise_base_url(values["base_url"])
    return SiteConfig(root=site_dir.resolve(), **values)
