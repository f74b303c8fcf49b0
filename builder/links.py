"""Links in built output: find them fast, resolve them to output files, trace them to Markdown.

Three small pieces that ``check.py`` puts together:

- :func:`scan_html` pulls every ``href``/``src``/``srcset`` value out of one page
  (:func:`has_id` looks for an ``id`` only where a ``#fragment`` needs one). Output pages are made by our templates and autoescaped, so attribute values are
  double-quoted and a quote never appears inside one: a search for the literal ``href="``
  (which the regex engine does as a fast substring search) finds them all, about 6x faster
  than a general attribute regex, and needs no DOM. Pages that use single-quoted or unquoted
  attributes (a hand-written template, a static HTML file) take a slower, general pass.
- :class:`Resolver` turns a reference as written on a page into an output file (``internal``),
  an ``external`` URL, or a ``problem`` (localhost, ``file:``, outside the base path, above the
  site root). It respects the path of ``base_url``: under ``https://x.org/briefs/`` a link to
  ``/briefs/topics/`` is internal and a link to ``/topics/`` leads nowhere.
- :func:`markdown_links` reads a Markdown body with markdown-it-py (the reference renderer,
  whose tokens carry source lines) and says on which line each link target is written, because
  the rendered page no longer shows it: ``/x/`` is relocated to ``../../x/``.
"""

from __future__ import annotations

import html
import posixpath
import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

# Fast path: double-quoted, lowercase attributes preceded by whitespace (what templates emit).
_FAST = {
    "href": re.compile(rb'href="(?<=\shref=")([^"]*)"'),
    "src": re.compile(rb'src="(?<=\ssrc=")([^"]*)"'),
    "srcset": re.compile(rb'srcset="(?<=\ssrcset=")([^"]*)"'),
}
# General pass: any case, any quoting.
_ANY = re.compile(rb'(?i)(?<=[\s"\'])(href|src|srcset|id)\s*=\s*(?:"([^"]*)"|\'([^\']*)\'|'
                  rb'([^\s"\'=<>`]+))')
_CSS_URL = re.compile(rb'url\(\s*(?:"([^"]*)"|\'([^\']*)\'|([^)\s]*))\s*\)|'
                      rb'@import\s+(?:"([^"]*)"|\'([^\']*)\')')
_SCHEME = re.compile(r"[a-zA-Z][a-zA-Z0-9+.\-]*:")
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "0.0.0.0", "::1", "[::1]", "::", "ip6-localhost"}


def _text(value: bytes) -> str:
    text = value.decode("utf-8", "replace")
    return html.unescape(text) if "&" in text else text


def _srcset_urls(value: str) -> list[str]:
    # "a.jpg 1x, b.jpg 2x": the URL is the first word of each comma-separated candidate.
    return [part.split()[0] for part in value.split(",") if part.strip()]


def scan_html(data: bytes) -> set[str]:
    """Every href, src and srcset URL of one HTML page, unescaped, each distinct value once
    (a page that links to one place five times has one link to check)."""
    hrefs = _FAST["href"].findall(data) if b'href="' in data else []
    srcs = _FAST["src"].findall(data) if b'src="' in data else []
    # Anything but what the fast path reads (single quotes, no quotes, href= not after a
    # space) sends the page down the general path. Upper-case attribute names are not
    # looked for here (templates write lower case).
    if (len(hrefs) != data.count(b"href=") or len(srcs) != data.count(b"src=")
            or b"='" in data):
        return scan_html_slowly(data)[0]
    values = set(hrefs)
    values.update(srcs)
    # one decode for the page's values (NUL never occurs in an attribute value)
    joined = b"\0".join(values).decode("utf-8", "replace")
    if "&" in joined:
        joined = html.unescape(joined)
    refs = set(joined.split("\0")) if values else set()
    if b'srcset="' in data:
        for v in _FAST["srcset"].findall(data):
            refs.update(_srcset_urls(_text(v)))
    return refs


def html_ids(data: bytes) -> set[str]:
    """Every id on a page (any quoting or case)."""
    return scan_html_slowly(data)[1]


def has_id(data: bytes, ident: str) -> bool:
    """True when the page has an element with this id: a substring search for the common
    ``id="x"``, the general scan only when that fails."""
    if ident and not any(c in ident for c in "&<>\"'"):
        if b' id="' + ident.encode() + b'"' in data:
            return True
    return ident in html_ids(data)


def scan_html_slowly(data: bytes) -> tuple[set[str], set[str]]:
    """(URLs, ids) of a page, for any quoting and letter case (hand-written HTML)."""
    refs: set[str] = set()
    ids: set[str] = set()
    for m in _ANY.finditer(data):
        name = m.group(1).lower()
        value = _text(m.group(2) if m.group(2) is not None else
                      m.group(3) if m.group(3) is not None else m.group(4))
        if name == b"id":
            ids.add(value)
        elif name == b"srcset":
            refs.update(_srcset_urls(value))
        else:
            refs.add(value)
    return refs, ids


def scan_css(data: bytes) -> list[tuple[str, str]]:
    """[("url", value)] for every ``url(...)`` and ``@import`` in a stylesheet."""
    out = []
    for m in _CSS_URL.finditer(data):
        value = next(g for g in m.groups() if g is not None) if any(
            g is not None for g in m.groups()) else b""
        value = value.decode("utf-8", "replace").strip()
        if value:
            out.append(("url", value))
    return out


# ----------------------------------------------------------------------------- resolving

@dataclass(frozen=True, slots=True)
class Internal:
    path: str | None
    """Site-relative path as linked (``topics/x/``, ``assets/a.css``, ``""`` for the home);
    None for the page the link is on (``#x``, ``?q``)."""
    fragment: str | None


@dataclass(frozen=True, slots=True)
class External:
    url: str


@dataclass(frozen=True, slots=True)
class Problem:
    kind: str
    """``localhost``, ``file``, ``outside`` (of the base path) or ``invalid``."""
    target: str
    """What the link leads to: the absolute path a relative link resolves to, else the URL."""


Resolved = Internal | External | Problem | None
"""None: nothing to check (``mailto:``, ``tel:``, ``data:``, an empty href)."""


def is_local_host(host: str) -> bool:
    host = host.lower().rstrip(".")
    return host in _LOCAL_HOSTS or host.endswith(".localhost") or host.startswith("127.")


class Resolver:
    """Resolves references found on output pages, knowing the site's base URL."""

    def __init__(self, base_url: str):
        parts = urlsplit(base_url)
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.host = (parts.hostname or "").lower()
        self.port = parts.port
        self.base_path = parts.path if parts.path.endswith("/") else parts.path + "/"
        self._memo: dict[tuple[str, str], Resolved] = {}

    @staticmethod
    def key(raw: str, folder: str, depth: int, prefix: str) -> tuple:
        """A memo key for ``raw`` on a page in ``folder``: equal keys resolve alike.

        Almost every link climbs to the site root and down again (``../../topics/x/``): what it
        points at then depends on the page's depth only, not on its folder, so one answer
        serves every page at that depth. Absolute links and fragments don't depend on the
        folder at all.
        """
        if depth and raw.startswith(prefix):
            rest = raw[len(prefix):]
            if not (rest.startswith("../") or "./" in rest or rest.endswith(".")):
                return (depth, raw)
            return (folder, raw)
        if raw[:1] in ("/", "#") or raw.startswith(("http:", "https:")):
            return (-1, raw)
        return (folder, raw)

    def resolve(self, raw: str, page: str) -> Resolved:
        """``raw`` as written on output file ``page`` (site-relative, e.g. ``a/b/index.html``)."""
        folder = page.rpartition("/")[0]
        depth = folder.count("/") + 1 if folder else 0
        key = self.key(raw, folder, depth, "../" * depth)
        found = self._memo.get(key, _MISSING)
        if found is _MISSING:
            found = self.resolve_in(raw, folder)
            if len(self._memo) < 500_000:
                self._memo[key] = found
        return found

    def resolve_in(self, raw: str, folder: str) -> Resolved:
        """``raw`` on a page in ``folder`` (no memo)."""
        return self._resolve(raw.strip(), folder)

    def _resolve(self, raw: str, folder: str) -> Resolved:
        if not raw:
            return None
        if raw[0] == "#":
            return Internal(None, unquote(raw[1:]))
        scheme = _SCHEME.match(raw)
        if raw.startswith("//"):
            return self._absolute("https:" + raw)
        if scheme:
            name = scheme.group(0)[:-1].lower()
            if name in ("http", "https"):
                return self._absolute(raw)
            if name == "file":
                return Problem("file", raw)
            return None  # mailto:, tel:, data:, javascript: ... are not ours to check
        path, fragment = _split(raw)
        if not path:
            return Internal(None, fragment)  # "?q" or "?q#x": this page
        if raw[0] != "/":
            # As a browser does: against the page's own address, under the base path.
            path = f"{self.base_path}{folder}/{path}" if folder else self.base_path + path
        return self._place(_normal(path), fragment)

    def _place(self, path: str, fragment: str | None) -> Internal | Problem:
        """An absolute, normalised path on our host: inside the site, or outside it."""
        if path.startswith(self.base_path):
            return Internal(path[len(self.base_path):], fragment)
        if path + "/" == self.base_path:
            return Internal("", fragment)
        return Problem("outside", path)

    def _absolute(self, url: str) -> Resolved:
        if url.startswith(self.base_url) and "%" not in url and "?" not in url \
                and "/." not in url:
            path, _, fragment = url[len(self.base_url):].partition("#")
            return Internal(path, fragment or None)
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").lower()
            port = parts.port
        except ValueError:
            return Problem("invalid", url)
        if is_local_host(host):
            return Problem("localhost", url)
        if host == self.host and port == self.port:
            path = _normal(unquote(parts.path or "/"))
            fragment = unquote(parts.fragment) if parts.fragment else None
            if path.startswith(self.base_path) or path + "/" == self.base_path:
                return self._place(path, fragment)
        return External(url.split("#", 1)[0])


def _normal(path: str) -> str:
    """``/a/b/../c/`` -> ``/a/c/``; ``..`` stops at the root, as in a browser."""
    normal = posixpath.normpath(path)
    if normal.startswith("//"):
        normal = "/" + normal.lstrip("/")
    if normal != "/" and (path.endswith("/") or path.endswith("/.") or path.endswith("/..")):
        normal += "/"
    return normal


_MISSING = object()


def _split(raw: str) -> tuple[str, str | None]:
    """(unquoted path, fragment) of a relative or root-relative reference."""
    fragment = None
    if "#" in raw:
        raw, fragment = raw.split("#", 1)
        fragment = unquote(fragment)
    raw = raw.split("?", 1)[0]
    return (unquote(raw) if "%" in raw else raw), fragment


def target_file(path: str, files: set[str], folders: set[str]) -> str | None:
    """The output file a site-relative link path is served from, or None when there is none.

    ``x/`` and ``""`` are served from ``x/index.html`` and ``index.html``; ``x`` from the file
    ``x``, or from ``x/index.html`` when ``x`` is a folder (every static host redirects
    ``/x`` to ``/x/``).
    """
    if path == "" or path.endswith("/"):
        candidate = path + "index.html"
        return candidate if candidate in files else None
    if path in files:
        return path
    if path in folders and path + "/index.html" in files:
        return path + "/index.html"
    return None


# ----------------------------------------------------------------------------- Markdown lines

@dataclass(frozen=True, slots=True)
class SourceLink:
    target: str
    """The link target as markdown-it renders it (normalised, percent-encoded)."""
    line: int
    """1-based line in the source file."""


def markdown_links(body: str, body_line: int) -> list[SourceLink]:
    """Every link and image target in a Markdown body, with the file line it is written on.

    Block tokens know their line range; the line inside the range is the first that contains
    the target as written (reference-style links are found at their definition).
    """
    from .markdown import reference_renderer

    lines = body.split("\n")
    out: list[SourceLink] = []
    for block in reference_renderer().parse(body):
        if not block.children or not block.map:
            continue
        start, end = block.map
        for token in _walk(block.children):
            if token.type == "link_open":
                target = token.attrGet("href")
            elif token.type == "image":
                target = token.attrGet("src")
            else:
                continue
            if not target:
                continue
            target = str(target)
            line = _find_line(lines, target, start, end)
            if line is None:
                line = _find_line(lines, target, 0, len(lines))
            out.append(SourceLink(target, body_line + (start if line is None else line)))
    return out


def _walk(tokens):
    for token in tokens:
        yield token
        if token.children:
            yield from _walk(token.children)


def _find_line(lines: list[str], target: str, start: int, end: int) -> int | None:
    forms = {target, unquote(target)}
    for i in range(start, min(end, len(lines))):
        if any(f in lines[i] for f in forms):
            return i
    return None
