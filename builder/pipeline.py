"""The build, top to bottom: config -> content -> site model -> links -> render -> write -> search.

:func:`build` is the one orchestrator; ``serve``, ``publish`` and ``check`` call it rather than
repeating any of it. Every stage is timed. Content parsing and page rendering run in worker
processes (forked, so they share the parsed templates and the model) when the site is big
enough for that to pay.
"""

from __future__ import annotations

import fcntl
import multiprocessing
import os
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from . import content, feeds, markdown, model, sources, views
from .config import SiteConfig, load_config
from .errors import BuildError, Diagnostic
from .render import THEME, Renderer, article_body
from .write import Generation, Output

CACHE_DIR = ".briefs-cache"
PARALLEL_MIN = 400  # below this many files, worker processes cost more than they save


@dataclass
class BuildOptions:
    out_dir: Path | None = None
    """Output folder; default ``<site>/public``."""
    drafts: bool = False
    future: bool = False
    base_url: str | None = None
    related: bool = True
    search: bool = True
    jobs: int | None = None
    """Worker processes; default: one per core."""
    now: datetime | None = None
    """The moment that decides what is "future" (default: now)."""


@dataclass
class BuildResult:
    config: SiteConfig
    site: model.Site
    out_dir: Path
    pages_by_kind: Counter
    files: int
    timings: dict[str, float]
    warnings: list[Diagnostic] = field(default_factory=list)
    changed: int = 0
    """Output files whose content differs from the previous build (added or changed)."""
    removed: int = 0
    """Output files of the previous build that this one no longer has."""


class Timer:
    def __init__(self):
        self.timings: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.timings[stage] = self.timings.get(stage, 0.0) + now - self._last
        self._last = now


@contextmanager
def build_lock(site_root: Path, notify: Callable[[str], None] | None = None):
    """One build per site at a time: a second one waits for the first (never interleaves)."""
    cache = site_root / CACHE_DIR
    cache.mkdir(exist_ok=True)
    with open(cache / "build.lock", "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if notify:
                notify("another build of this site is running; waiting for it to finish")
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def build(site_dir: Path, options: BuildOptions | None = None,
          notify: Callable[[str], None] | None = None) -> BuildResult:
    options = options or BuildOptions()
    timer = Timer()
    config = load_config(Path(site_dir), base_url=options.base_url)
    out_dir = Path(options.out_dir) if options.out_dir else config.root / "public"
    out_dir = out_dir if out_dir.is_absolute() else Path.cwd() / out_dir
    jobs = options.jobs or os.cpu_count() or 1
    now = options.now or datetime.now(timezone.utc)
    timer.lap("config")
    with build_lock(config.root, notify):
        site = load_site(config, options, jobs, now)
        timer.lap("content")
        related = None  # filled by the related-stories stage (issue 4)
        timer.lap("related")
        specs = views.plan(site, related)
        renderer = Renderer(config)
        output = Output(out_dir, config.root / CACHE_DIR)
        gen = output.begin()
        try:
            render_pages(specs, renderer, gen, jobs)
            timer.lap("render")
            write_extras(site, gen)
            timer.lap("write")
        except BaseException:
            output.abort(gen)
            raise
        changed, removed = gen.changed(), gen.removed()
        output.finish(gen)
        timer.lap("commit")
    return BuildResult(config, site, out_dir, Counter(s.kind for s in specs), len(gen.hashes),
                       timer.timings, list(site.warnings), changed=len(changed),
                       removed=len(removed))


# ----------------------------------------------------------------------------- content stage

def load_site(config: SiteConfig, options: BuildOptions, jobs: int, now: datetime) -> model.Site:
    refs, problems = sources.discover(config.root)
    tz = config.tz
    articles: list[model.Article] = []
    topics: list[model.Topic] = []
    pages: list[model.Page] = []
    article_refs = [r for r in refs if r.kind == "articles"]
    for outcome in parse_all(article_refs, tz, jobs):
        if isinstance(outcome, list):
            problems.extend(outcome)
        else:
            articles.append(outcome)
    for ref in refs:
        if ref.kind == "articles":
            continue
        try:
            src = sources.read(ref)
            if ref.kind == "topics":
                topics.append(content.parse_topic(src, tz))
            else:
                pages.append(content.parse_page(src))
        except sources.SourceError as exc:
            problems.append(exc.diagnostic)
        except content.ContentError as exc:
            problems.extend(exc.diagnostics)
    if any(p.severity == "error" for p in problems):
        raise BuildError(problems)
    root = str(config.root)
    site, more = model.build_site(
        config, articles, topics, pages, drafts=options.drafts, future=options.future, now=now,
        locate=lambda rel, keys: content.locate(root, rel, keys))
    problems += more
    if site is None or any(p.severity == "error" for p in problems):
        raise BuildError(problems)
    return site


def _parse_one(ref: sources.SourceRef, tz) -> model.Article | list[Diagnostic]:
    try:
        parsed = content.parse_article(sources.read(ref), tz)
    except sources.SourceError as exc:
        return [exc.diagnostic]
    except content.ContentError as exc:
        return exc.diagnostics
    except RecursionError:
        return [Diagnostic(ref.rel, None, None, "content nested too deeply to read")]
    return parsed.article


def _parse_chunk(args) -> list:
    refs, tz = args
    return [_parse_one(r, tz) for r in refs]


def parse_all(refs: list[sources.SourceRef], tz, jobs: int) -> list:
    if jobs <= 1 or len(refs) < PARALLEL_MIN:
        return [_parse_one(r, tz) for r in refs]
    size = max(50, len(refs) // (jobs * 8))
    chunks = [(refs[i:i + size], tz) for i in range(0, len(refs), size)]
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        out = []
        for part in pool.imap(_parse_chunk, chunks):
            out.extend(part)
    return out


# ----------------------------------------------------------------------------- render stage

_WORK: tuple | None = None  # (renderer, specs, generation) inherited by forked workers


def _render_range(bounds: tuple[int, int]) -> tuple[dict, list[Diagnostic]]:
    renderer, specs, parent = _WORK
    # This process's share only: the parent merges the shares.
    gen = Generation(parent.root, parent.known, parent.live)
    problems = []
    for spec in specs[bounds[0]:bounds[1]]:
        try:
            gen.put(spec.path, renderer.render(spec))
        except BuildError as exc:
            problems.extend(exc.diagnostics)
            if len(problems) > 50:
                break
    return gen.share(), problems


def render_pages(specs: list[views.PageSpec], renderer: Renderer, gen: Generation,
                 jobs: int) -> None:
    global _WORK
    paths = Counter(s.path for s in specs)
    clashes = [p for p, n in paths.items() if n > 1]
    if clashes:
        raise BuildError([Diagnostic(p, None, None, "two pages want the same URL") for p in clashes])
    if jobs <= 1 or len(specs) < PARALLEL_MIN:
        problems = []
        for spec in specs:
            try:
                gen.put(spec.path, renderer.render(spec))
            except BuildError as exc:
                problems.extend(exc.diagnostics)
                if len(problems) > 50:
                    break
        if problems:
            raise BuildError(problems)
        return
    _WORK = (renderer, specs, gen)
    step = max(20, len(specs) // (jobs * 16))
    ranges = [(i, min(i + step, len(specs))) for i in range(0, len(specs), step)]
    problems = []
    try:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            for share, found in pool.imap_unordered(_render_range, ranges):
                gen.merge(share)  # also what failed workers managed to write
                problems.extend(found)
    finally:
        _WORK = None
    if problems:
        raise BuildError(problems)


def write_extras(site: model.Site, gen: Generation) -> None:
    """Feeds, sitemap, robots.txt, theme assets and the site's static files."""
    config = site.config
    body = feeds.feed_body(site, lambda a: article_body(config, a, "/"))
    gen.put("feed.xml", feeds.site_feed(site, body))
    for slug in site.topics:
        gen.put(f"topics/{slug}/feed.xml", feeds.topic_feed(site, slug, body))
    for name, data in feeds.sitemaps(site, sitemap_urls(site)).items():
        gen.put(name, data)
    gen.put("robots.txt", feeds.robots(site))
    copy_tree(THEME / "assets", "assets/", gen)
    static = config.root / "static"
    if static.is_dir():
        copy_tree(static, "", gen)


def copy_tree(folder: Path, prefix: str, gen: Generation) -> None:
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            path = Path(dirpath) / name
            rel = prefix + path.relative_to(folder).as_posix()
            gen.put(rel, path.read_bytes())


def sitemap_urls(site: model.Site) -> list[tuple[str, datetime | None]]:
    newest = site.articles[0].date if site.articles else None
    urls: list[tuple[str, datetime | None]] = [("", newest)]
    urls += [(a.url, a.updated or a.date) for a in site.articles]
    for slug, topic in site.topics.items():
        span = site.topic_span(slug)
        urls.append((topic.url, span[1] if span else None))
    urls += [(p.url, None) for p in site.pages]
    return urls
