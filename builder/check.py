"""``briefs check``: every link, asset reference and ``#fragment`` in a built site resolves.

The check reads the *output* — what readers will get — not the templates or the Markdown, so it
also catches what templates, the theme and later stages (related stories, search) emit. It is
one pass over the files (``links.scan_html``, no DOM; forked workers on big sites), then a
look-up of each reference in the set of output files.

A problem found on a page made from a content file is traced back to the Markdown line the
link is written on (``content/articles/2024/x.md:14: link to /articles/missing/ not found``);
anything else is reported at the output page, once, with the number of other pages that share
it (a broken link in a template shows on every page).

``--external`` also asks the web about http(s) links: a few at a time, with timeouts, and
answers kept in ``.briefs-cache/external-links.json`` so a second run asks again only about
links that failed or were last checked long ago.
"""

from __future__ import annotations

import difflib
import html
import json
import os
import re
import threading
import time
import urllib.error
import urllib.request
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

from . import __version__, links, sources, workers
from .config import SiteConfig
from .errors import Diagnostic
from .model import Site
from .pipeline import CACHE_DIR

PARALLEL_MIN = 2000  # pages; below this a worker process costs more than it saves
EXTERNAL_CACHE = "external-links.json"
EXTERNAL_FRESH = 7 * 24 * 3600  # seconds a good answer is trusted
EXTERNAL_WORKERS = 8
EXTERNAL_PER_HOST = 2
EXTERNAL_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class Found:
    """One problem with one reference on one output file (before it is traced to a source)."""

    page: str
    """Output file, relative to the output folder."""
    raw: str
    """The reference as written on the page."""
    kind: str
    """``missing``, ``anchor``, ``outside``, ``localhost``, ``file``, ``invalid``,
    ``external``, ``foreign``, ``unreadable``."""
    shown: str
    """What a page-level message names: the resolved address where there is one."""
    detail: str = ""
    severity: str = "error"


@dataclass
class CheckReport:
    diagnostics: list[Diagnostic]
    pages: int
    """HTML pages read."""
    files: int
    """Output files."""
    references: int
    """href/src/srcset/url() references looked at."""
    external: int = 0
    """Distinct external URLs asked about (0 without --external)."""
    seconds: float = 0.0

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]


@dataclass
class _Scan:
    """What reading a share of the pages found."""

    found: list[Found] = field(default_factory=list)
    fragments: list[tuple[str, str, str, str]] = field(default_factory=list)
    """(page, raw, target page, fragment) to look up on the target page once all are read."""
    references: int = 0
    external: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    """URL -> [(page, raw)] where it is linked, for --external."""

    def merge(self, other: "_Scan") -> None:
        self.found += other.found
        self.fragments += other.fragments
        self.references += other.references
        for url, where in other.external.items():
            self.external.setdefault(url, []).extend(where)


class _Tree:
    """The output folder: which files and folders exist."""

    def __init__(self, root: Path):
        self.root = root
        self.files: set[str] = set()
        self.folders: set[str] = set()
        stack = [("", str(root))]
        while stack:
            prefix, folder = stack.pop()
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=True):
                        self.folders.add(prefix + entry.name)
                        stack.append((prefix + entry.name + "/", entry.path))
                    else:
                        self.files.add(prefix + entry.name)

    def target(self, path: str) -> str | None:
        return links.target_file(path, self.files, self.folders)

    _suggestions = 0
    _by_folder: dict[str, list[str]] | None = None

    def close_match(self, path: str) -> str | None:
        """An existing address like ``path`` (a misspelt slug), for the first few problems."""
        self._suggestions += 1
        if self._suggestions > 25:
            return None  # each costs a fuzzy search; a long list of misses needs none
        if self._by_folder is None:
            self._by_folder = defaultdict(list)
            for f in self.files:
                url = f[: -len("index.html")] if f.endswith("index.html") else f
                parent = url.rstrip("/").rpartition("/")[0]
                self._by_folder[parent].append(url)
        parent = path.rstrip("/").rpartition("/")[0]
        close = difflib.get_close_matches(path, self._by_folder.get(parent, []), n=1,
                                          cutoff=0.8)
        return close[0] if close else None


def check_output(out_dir: Path, config: SiteConfig, site: Site | None = None, *,
                 external: bool = False, jobs: int | None = None,
                 display: str | None = None,
                 fetch: Callable[[str, float], tuple[int | None, str]] | None = None,
                 cache_dir: Path | None = None) -> CheckReport:
    """Check a built site in ``out_dir``.

    ``site`` (the model the output was built from) lets problems be traced to content files;
    without it they are reported at output pages. ``display`` is how output paths are shown
    (default: ``out_dir`` relative to the working folder).
    """
    started = time.perf_counter()
    out_dir = Path(out_dir)
    tree = _Tree(out_dir)
    resolver = links.Resolver(config.base_url)
    pages = sorted(f for f in tree.files if f.endswith((".html", ".htm")))
    scan = _scan_all(pages, tree, resolver, external, jobs or os.cpu_count() or 1)
    for name in sorted(tree.files):
        if name.endswith(".css"):
            _scan_css(name, tree, resolver, external, scan)
        elif name.startswith("sitemap") and name.endswith(".xml") and "/" not in name:
            _scan_sitemap(name, tree, resolver, scan)
    pending: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for page, raw, target, fragment in scan.fragments:
        pending[target].append((page, raw, fragment))
    for target, wanted in pending.items():
        try:
            ids = links.html_ids((out_dir / target).read_bytes())
        except OSError:
            ids = set()
        for page, raw, fragment in wanted:
            if fragment not in ids:
                scan.found.append(Found(page, raw, "anchor", f"/{_url(target)}#{fragment}",
                                        fragment))
    checked = 0
    if external and scan.external:
        cache = (cache_dir or config.root / CACHE_DIR) / EXTERNAL_CACHE
        answers = check_external(sorted(scan.external), cache, fetch=fetch)
        checked = len(answers)
        for url, (severity, detail) in answers.items():
            if severity:
                for page, raw in scan.external[url]:
                    scan.found.append(Found(page, raw, "external", url, detail, severity))
    shown = display if display is not None else _display(out_dir)
    diagnostics = _attribute(scan.found, config, site, shown, tree)
    return CheckReport(diagnostics, len(pages), len(tree.files), scan.references, checked,
                       time.perf_counter() - started)


def _url(target: str) -> str:
    return target[: -len("index.html")] if target.endswith("index.html") else target


def _display(out_dir: Path) -> str:
    try:
        return out_dir.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(out_dir)


# ----------------------------------------------------------------------------- reading pages

_WORK: tuple | None = None  # (pages, tree, resolver, external) inherited by forked workers


def _scan_range(bounds: tuple[int, int]) -> _Scan:
    pages, tree, resolver, external = _WORK
    return _scan_pages(pages[bounds[0]:bounds[1]], tree, resolver, external)


def _scan_all(pages: list[str], tree: _Tree, resolver: links.Resolver, external: bool,
              jobs: int) -> _Scan:
    global _WORK
    if jobs <= 1 or len(pages) < PARALLEL_MIN:
        return _scan_pages(pages, tree, resolver, external)
    _WORK = (pages, tree, resolver, external)
    step = max(200, len(pages) // (jobs * 4))
    ranges = [(i, min(i + step, len(pages))) for i in range(0, len(pages), step)]
    total = _Scan()
    try:
        with workers.pool(jobs) as pool:
            for part in pool.imap(_scan_range, ranges):
                total.merge(part)
    finally:
        _WORK = None
    return total


def _scan_pages(pages: list[str], tree: _Tree, resolver: links.Resolver,
                external: bool) -> _Scan:
    scan = _Scan()
    root = tree.root
    # What a reference leads to, by Resolver.key: None when there is nothing more to do, else
    # (resolved, target file or None). Most references repeat across pages (navigation,
    # listings), so most are decided by one dict look-up.
    memo: dict[tuple, tuple | None] = {}
    by_depth: dict[int, dict[str, object]] = defaultdict(dict)
    base = str(root) + os.sep
    key_for = resolver.key
    for page in pages:
        try:
            with open(base + page, "rb") as fh:
                data = fh.read()
        except OSError as exc:
            scan.found.append(Found(page, "", "unreadable", page, exc.strerror or "unreadable"))
            continue
        refs = links.scan_html(data)
        scan.references += len(refs)
        folder = page.rpartition("/")[0]
        depth = folder.count("/") + 1 if folder else 0
        prefix = "../" * depth
        known = by_depth[depth]
        for raw in refs:
            outcome = known.get(raw, _UNSEEN)
            if outcome is _UNSEEN:
                key = key_for(raw, folder, depth, prefix)
                if isinstance(key[0], str):
                    outcome = known[raw] = _PER_FOLDER
                else:  # the same answer on every page at this depth
                    outcome = known[raw] = _outcome(resolver.resolve_in(raw, folder), tree,
                                                    external)
            if outcome is _PER_FOLDER:
                key = (folder, raw)
                outcome = memo.get(key, _UNSEEN)
                if outcome is _UNSEEN:
                    outcome = memo[key] = _outcome(resolver.resolve_in(raw, folder), tree,
                                                   external)
            if outcome is not None:
                _report(page, raw, outcome, data, scan)
    return scan


_UNSEEN = object()
_PER_FOLDER = object()  # what this reference leads to depends on the page's folder


def _outcome(r: links.Resolved, tree: _Tree, external: bool) -> tuple | None:
    if r is None:
        return None
    if isinstance(r, links.Internal):
        target = None if r.path is None else tree.target(r.path)
        if r.path is not None and target is None:
            return (r, None)  # missing
        if r.fragment and r.fragment != "top" and (target is None or
                                                    target.endswith((".html", ".htm"))):
            return (r, target)  # a fragment to look up
        return None
    if isinstance(r, links.External):
        return (r, None) if external else None
    return (r, None)


def _report(page: str, raw: str, outcome: tuple, data: bytes | None, scan: _Scan) -> None:
    r, target = outcome
    if isinstance(r, links.Internal):
        if r.path is not None and target is None:
            scan.found.append(Found(page, raw, "missing", "/" + r.path))
        elif target is None or target == page:
            if data is not None and not links.has_id(data, r.fragment):
                scan.found.append(Found(page, raw, "anchor", "#" + r.fragment, r.fragment))
        else:
            scan.fragments.append((page, raw, target, r.fragment))
    elif isinstance(r, links.External):
        scan.external.setdefault(r.url, []).append((page, raw))
    else:
        scan.found.append(Found(page, raw, r.kind, r.target))


def _scan_css(name: str, tree: _Tree, resolver: links.Resolver, external: bool,
              scan: _Scan) -> None:
    try:
        data = (tree.root / name).read_bytes()
    except OSError:
        return
    refs = links.scan_css(data)
    scan.references += len(refs)
    folder = name.rpartition("/")[0]
    for _attr, raw in refs:
        outcome = _outcome(resolver.resolve_in(raw, folder), tree, external)
        if outcome is not None:
            _report(name, raw, outcome, None, scan)


def _scan_sitemap(name: str, tree: _Tree, resolver: links.Resolver, scan: _Scan) -> None:
    try:
        data = (tree.root / name).read_text("utf-8", "replace")
    except OSError:
        return
    for loc in re.findall(r"<loc>\s*([^<]*?)\s*</loc>", data):
        url = html.unescape(loc)
        scan.references += 1
        r = resolver.resolve(url, name)
        if isinstance(r, links.Internal) and r.path is not None:
            if tree.target(r.path) is None:
                scan.found.append(Found(name, url, "missing", "/" + r.path))
        elif isinstance(r, links.External):
            scan.found.append(Found(name, url, "foreign", url))
        elif isinstance(r, links.Problem):
            scan.found.append(Found(name, url, r.kind, r.target))


# ----------------------------------------------------------------------------- reporting

_MESSAGES = {
    "missing": "link to {shown} not found",
    "anchor": "link to {shown}: {target} has no id {detail!r}",
    "outside": "link to {shown} is outside the site, which is served under {base}",
    "localhost": "link to {shown} points at this computer (localhost)",
    "file": "link to {shown} points at a file on your computer (file:)",
    "invalid": "link to {shown} is not a valid URL",
    "external": "external link to {shown} is broken: {detail}",
    "foreign": "sitemap lists {shown}, which is not under base_url",
    "unreadable": "cannot read {shown}: {detail}",
}
_HINTS = {
    "outside": "start it with {base} or write it relative to the page",
    "localhost": "readers cannot reach your computer; link to the public address",
    "file": "readers cannot open file: links; put the file in static/ and link to it",
}


def _message(f: Found, shown: str, base: str) -> str:
    """The message for one problem, naming the reference as ``shown``."""
    target = "this page" if f.shown.startswith("#") else "the linked page"
    if f.kind == "outside" and shown != f.shown:
        return f"link to {shown} leads to {f.shown}, outside the site, which is served under {base}"
    return _MESSAGES.get(f.kind, "problem with link to {shown}").format(
        shown=shown, detail=f.detail, target=target, base=base)


def _hint(f: Found, base: str, tree: _Tree, written: str | None) -> str | None:
    if f.kind == "missing":
        path = f.shown.lstrip("/")
        if path.split("#")[0].split("?")[0].endswith(".md"):
            return "link to the page's address, e.g. /articles/<slug>/, not to its .md file"
        close = tree.close_match(path)
        if close is not None:
            return f"did you mean {('/' if written and written.startswith('/') else base) + close}?"
        return None
    hint = _HINTS.get(f.kind)
    return hint.format(base=base) if hint else None


def source_map(site: Site | None) -> dict[str, str]:
    """Output page -> the content file it is made from."""
    if site is None:
        return {}
    out = {f"{a.url}index.html": a.path for a in site.articles}
    out.update({f"{t.url}index.html": t.path for t in site.topics.values()})
    out.update({f"{p.url}index.html": p.path for p in site.pages})
    return out


class _Source:
    """A content file's link targets with their lines, read only when a problem needs them."""

    def __init__(self, root: Path, rel: str):
        self.rel = rel
        self.links: list[links.SourceLink] = []
        self.front_lines: list[str] = []
        ref = sources.SourceRef("articles", rel, str(root / rel), 0, 0)
        try:
            src = sources.read(ref)
        except sources.SourceError:
            return
        self.front_lines = src.front_text.split("\n")
        try:
            self.links = links.markdown_links(src.body, src.body_line)
        except RecursionError:
            self.links = []

    def locate(self, forms: list[str]) -> list[tuple[int, str]]:
        """[(line, target as written)] of every Markdown link written as one of ``forms``;
        else the first front matter line holding one (``image: /images/x.jpg``); else []."""
        found = [(link.line, link.target) for link in self.links if link.target in forms]
        if found:
            return found
        for i, text in enumerate(self.front_lines):
            for form in forms:
                if form and form in text:
                    return [(i + 2, form)]  # front matter starts on the file's second line
        return []


def _attribute(found: list[Found], config: SiteConfig, site: Site | None, display: str,
               tree: _Tree) -> list[Diagnostic]:
    """Turn problems into diagnostics: at the Markdown line where known, else at the page."""
    base = config.base_path
    by_source = source_map(site)
    opened: dict[str, _Source] = {}
    located: list[Diagnostic] = []
    # page-level problems, grouped so a template's broken link is one line, not one per page
    grouped: dict[tuple, list[Found]] = defaultdict(list)
    for f in found:
        src_rel = by_source.get(f.page)
        if src_rel is not None and f.kind != "unreadable":
            src = opened.get(src_rel)
            if src is None:
                src = opened[src_rel] = _Source(config.root, src_rel)
            depth = f.page.count("/")
            forms = [f.raw]
            prefix = "../" * depth
            if depth and f.raw.startswith(prefix):
                forms.append("/" + f.raw[len(prefix):])
            places = src.locate(forms)
            for line, written in places:  # the same link written twice: both lines
                shown = f.shown if f.kind == "external" else written
                located.append(Diagnostic(src_rel, line, None, _message(f, shown, base),
                                          _hint(f, base, tree, written), f.severity))
            if places:
                continue
        key = (f.kind, f.shown, f.detail, f.severity)
        grouped[key].append(f)
    for (kind, shown, detail, severity), items in grouped.items():
        first = min(items, key=lambda f: f.page)
        pages = sorted({f.page for f in items})
        if kind == "missing":
            text_shown = base + shown.lstrip("/")
        elif kind == "anchor" and not shown.startswith("#"):
            text_shown = base + shown.lstrip("/")
        else:
            text_shown = shown
        message = _message(first, text_shown, base)
        hint = _hint(first, base, tree, None)
        if len(pages) > 1:
            more = f"also on {len(pages) - 1:,} other page{'s' if len(pages) > 2 else ''}"
            hint = f"{hint}; {more}" if hint else more
        located.append(Diagnostic(f"{display}/{first.page}" if display else first.page, None,
                                  None, message, hint, severity))
    unique = list(dict.fromkeys(located))
    unique.sort(key=lambda d: (d.severity != "error", d.path, d.line or 0, d.message))
    return unique


# ----------------------------------------------------------------------------- external links

def _fetch(url: str, timeout: float) -> tuple[int | None, str]:
    """(HTTP status, problem) for one URL; status None when no answer came."""
    headers = {"User-Agent": f"briefs-link-check/{__version__} (+static site link checker)"}
    last = ""
    for method in ("HEAD", "GET"):
        request = urllib.request.Request(url, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, ""
        except urllib.error.HTTPError as exc:
            if method == "HEAD" and exc.code in (403, 405, 501):
                continue  # some servers refuse HEAD only; ask again with GET
            return exc.code, f"HTTP {exc.code}"
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, OSError) and reason.strerror:
                last = reason.strerror
            else:
                last = str(reason)
            if "timed out" in last:
                last = f"no answer within {timeout:g} s"
            return None, last
        except (TimeoutError, OSError) as exc:
            return None, f"no answer within {timeout:g} s" if isinstance(exc, TimeoutError) \
                else (exc.strerror or str(exc))
        except ValueError as exc:
            return None, str(exc)
    return None, last


def _verdict(status: int | None, problem: str) -> tuple[str | None, str]:
    """(severity or None when fine, what to say). Only clear answers are errors."""
    if status is not None and status < 400:
        return None, ""
    if status in (404, 410):
        return "error", f"HTTP {status}"
    if status is None and ("Name or service not known" in problem or "nodename" in problem
                           or "No address associated" in problem):
        return "error", "host not found"
    return "warning", problem or f"HTTP {status}"


def check_external(urls: list[str], cache_file: Path, *,
                   fetch: Callable[[str, float], tuple[int | None, str]] | None = None,
                   workers: int = EXTERNAL_WORKERS, per_host: int = EXTERNAL_PER_HOST,
                   timeout: float = EXTERNAL_TIMEOUT, fresh: float = EXTERNAL_FRESH,
                   now: float | None = None) -> dict[str, tuple[str | None, str]]:
    """URL -> (severity or None, problem), asking at most ``workers`` at once and ``per_host``
    at once per host. Good answers younger than ``fresh`` seconds are taken from the cache."""
    fetch = fetch or _fetch
    now = time.time() if now is None else now
    cache: dict = {}
    try:
        loaded = json.loads(cache_file.read_text())
        if isinstance(loaded, dict) and loaded.get("version") == 1:
            cache = loaded.get("urls", {})
    except (OSError, ValueError):
        cache = {}
    answers: dict[str, tuple[str | None, str]] = {}
    todo = []
    for url in urls:
        entry = cache.get(url)
        if (isinstance(entry, dict) and entry.get("ok") and
                isinstance(entry.get("checked"), (int, float)) and now - entry["checked"] < fresh):
            answers[url] = (None, "")
        else:
            todo.append(url)
    gates: dict[str, threading.Semaphore] = defaultdict(lambda: threading.Semaphore(per_host))
    lock = threading.Lock()

    def ask(url: str) -> tuple[str, int | None, str]:
        host = (urlsplit(url).hostname or "").lower()
        with lock:
            gate = gates[host]
        with gate:
            status, problem = fetch(url, timeout)
        return url, status, problem

    if todo:
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            for url, status, problem in pool.map(ask, todo):
                severity, detail = _verdict(status, problem)
                answers[url] = (severity, detail)
                cache[url] = {"ok": severity is None, "status": status, "problem": detail,
                              "checked": now}
        try:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache_file.with_suffix(".tmp")
            tmp.write_text(json.dumps({"version": 1, "urls": cache}, indent=0, sort_keys=True))
            os.replace(tmp, cache_file)
        except OSError:
            pass  # a cache we cannot write only costs time next run
    return answers


# ----------------------------------------------------------------------------- the command

def run(site_dir: Path, options, *, build_first: bool = True, external: bool = False,
        notify: Callable[[str], None] | None = None):
    """``briefs check``: build (unless ``build_first`` is False), then check the output.

    Returns (BuildResult or None, CheckReport). Without a build the content is still loaded
    (not rendered) so problems can be traced to their Markdown lines.
    """
    from datetime import datetime, timezone

    from .config import load_config
    from .errors import BuildError
    from .pipeline import Builder, build

    if build_first:
        result = build(site_dir, options, notify=notify)
        report = check_output(result.out_dir, result.config, result.site, external=external,
                              jobs=options.jobs)
        return result, report
    config = load_config(Path(site_dir), base_url=options.base_url)
    out_dir = Path(options.out_dir) if options.out_dir else config.root / "public"
    if not (out_dir / "index.html").is_file():
        raise BuildError(Diagnostic(_display(out_dir), None, None,
                                    "no built site here (index.html is missing)",
                                    "run briefs build first, or briefs check without "
                                    "--no-build"))
    jobs = options.jobs or os.cpu_count() or 1
    builder = Builder(site_dir, options)
    try:
        site, _ = builder.load_site(
            config, jobs, options.now or datetime.now(timezone.utc), config.root / CACHE_DIR)
    except BuildError:
        site = None  # the output can still be checked; problems are shown at output pages
        if notify:
            notify("content has errors (run briefs build to see them); problems are reported "
                   "at output pages")
    finally:
        builder.close()
    return None, check_output(out_dir, config, site, external=external, jobs=options.jobs)
