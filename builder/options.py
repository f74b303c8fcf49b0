"""What a build is asked to do and what it reports, and the lock that keeps builds apart.

Plain data and no heavy imports: ``briefs build`` reads these before it knows whether the
pipeline (templates, Markdown, workers) has to be loaded at all (see ``builder.stamp``).
"""

from __future__ import annotations

import fcntl
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from .errors import Diagnostic

if TYPE_CHECKING:
    from . import model
    from .config import SiteConfig

CACHE_DIR = ".briefs-cache"


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
    incremental: bool = True
    """Reuse the cache and the previous output; False renders everything."""


def out_dir_of(config: SiteConfig, options: BuildOptions) -> Path:
    """The output folder a build writes: ``options.out_dir`` or ``<site>/public``, absolute."""
    out_dir = Path(options.out_dir) if options.out_dir else config.root / "public"
    return out_dir if out_dir.is_absolute() else Path.cwd() / out_dir


@dataclass
class Overview:
    """What the build report says about the content (kept with the stamp, so a build that
    finds nothing changed can say it again without loading the site)."""

    articles: int
    topics: int
    hidden: int
    """Drafts and future articles left out."""
    notes: list[tuple[str, list[str]]]
    """(what, [examples]): things an editor probably wants to fix (``report.content_notes``)."""


@dataclass
class BuildResult:
    config: SiteConfig
    site: model.Site | None
    """None when the build found nothing to do (``up_to_date``)."""
    out_dir: Path
    pages_by_kind: Counter
    files: int
    timings: dict[str, float]
    warnings: list[Diagnostic] = field(default_factory=list)
    rendered: int = 0
    """Outputs rendered by this build (the rest were carried over)."""
    parsed: int = 0
    """Content files read and parsed (the rest came from the cache)."""
    changed: int = 0
    """Output files whose content differs from the previous build (added or changed)."""
    removed: int = 0
    """Output files of the previous build that this one no longer has."""
    template_times: dict[str, tuple[float, int]] = field(default_factory=dict)
    """Template (or output kind) -> (seconds spent rendering, outputs rendered)."""
    overview: Overview | None = None
    up_to_date: bool = False
    """True: the stamp showed inputs and output exactly as the last build left them, so
    nothing was loaded, rendered or written (``builder.stamp``)."""


@contextmanager
def exclusive(lock_file: Path, waiting: str, notify: Callable[[str], None] | None = None):
    """Hold an exclusive lock on ``lock_file``; if another process holds it, say ``waiting``
    and wait for it (used by builds and publishes: they never interleave)."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_file, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if notify:
                notify(waiting)
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def build_lock(site_root: Path, notify: Callable[[str], None] | None = None):
    """One build per site at a time: a second one waits for the first (never interleaves)."""
    return exclusive(site_root / CACHE_DIR / "build.lock",
                     "another build of this site is running; waiting for it to finish", notify)
