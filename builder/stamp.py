"""The up-to-date check: ``briefs build`` with nothing changed does nothing, and says so.

After every successful build the pipeline leaves a stamp in the cache: a fingerprint of
everything the build read, the id of the output generation it made, when the next future
article falls due, and its report. The next ``briefs build`` first computes the same
fingerprint from file metadata, without parsing or loading anything else. It skips the build
when all of these hold:

- the fingerprint is the same: ``site.yaml`` (its bytes), every content file, site template and
  static file, and briefs' own code and theme (path, size and modification time of each), the
  Python running it and its installed packages;
- the build is asked the same thing (output folder, base URL, drafts, future, related, search);
- no future article has come due since (and the clock has not gone back);
- the output folder still is the generation the stamp names, every file with the recorded
  size and modification time (the same check an incremental build makes before it trusts it).

Any doubt means a normal build, which is incremental anyway: the stamp can make a build
faster, never different. Modification time and size are what the content cache already trusts
(as do make and rsync); ``briefs build --clean`` ignores both. A build that starts deletes the
stamp first, so a failed or interrupted build never leaves one behind.

This module is imported before the pipeline, and imports nothing heavy (no Jinja2, Markdown
or related-stories code): at 10,000 articles the whole check takes a fraction of a second.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from . import cache, sources
from .config import CONFIG_FILE, SiteConfig, load_config
from .errors import Diagnostic
from .options import CACHE_DIR, BuildOptions, BuildResult, Overview, build_lock, out_dir_of
from .write import Output, output_key

PACKAGE = Path(__file__).resolve().parent
"""briefs' own code, default theme included: a changed install is a changed input."""
STAMP_KEY = ("stamp", 2)
"""Bump when the stamp's contents change (an older stamp is then ignored)."""
SETTLE_NS = 2_000_000_000
"""A file modified this recently may change again with the same size and modification time
(file systems count time in ticks of up to 2 s): then no stamp is left, as git does for its
"racily clean" files."""


def stamp_path(config: SiteConfig, out_dir: Path) -> Path:
    return config.root / CACHE_DIR / f"stamp-{output_key(out_dir)}.pickle"


def request_key(config: SiteConfig, options: BuildOptions, out_dir: Path) -> tuple:
    """What the build is asked to do (the stamp only stands for the same request)."""
    return (str(config.root), str(out_dir), config.base_url, options.drafts, options.future,
            options.related, options.search)


def settings(site_dir: Path) -> tuple[bytes, int] | None:
    """``site.yaml`` as a build is about to read it: (hash of its bytes, modification time).
    Taken before the configuration is loaded, so the stamp never names settings newer than
    the ones the build used."""
    path = Path(site_dir) / CONFIG_FILE
    try:
        st = os.stat(path)
        return hashlib.blake2b(path.read_bytes(), digest_size=16).digest(), st.st_mtime_ns
    except OSError:
        return None


def _tree(h, label: str, folder: Path) -> int:
    """Hash the metadata of every file under ``folder``; returns the latest modification time."""
    root = os.fspath(folder)
    h.update(f"[{label}]\n".encode())
    latest = 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        rel_dir = os.path.relpath(dirpath, root)
        for name in sorted(filenames):
            st = os.stat(os.path.join(dirpath, name))
            h.update(f"{rel_dir}/{name}\0{st.st_mtime_ns}\0{st.st_size}\n".encode())
            latest = max(latest, st.st_mtime_ns)
    return latest


def _code() -> tuple[bytes, int]:
    """briefs' own files, the Python running it and its installed packages (the mtime of a
    site-packages folder changes whenever a package is installed, upgraded or removed)."""
    h = hashlib.blake2b(f"{sys.version}\0{sys.executable}\n".encode(), digest_size=16)
    latest = _tree(h, "briefs", PACKAGE)
    for entry in sys.path:
        if entry.endswith(("site-packages", "dist-packages")) and os.path.isdir(entry):
            mtime = os.stat(entry).st_mtime_ns
            h.update(f"{entry}\0{mtime}\n".encode())
            latest = max(latest, mtime)
    return h.digest(), latest


CODE = _code()
"""Taken when briefs starts, before the rest of it is imported: the code that runs."""


def fingerprint(config: SiteConfig, seen: tuple[bytes, int] | None,
                refs: list[sources.SourceRef], seen_at: int) -> str | None:
    """Hash of the metadata of every input: site.yaml (``seen``, from :func:`settings`), the
    content files (``refs``, as the content stage found them), the site's templates and static
    files, and ``CODE``. None when a file cannot be read (the build will say what is wrong) or
    was modified less than ``SETTLE_NS`` before ``seen_at`` (``time.time_ns()`` taken before
    any of them was looked at)."""
    if seen is None:
        return None
    h = hashlib.blake2b(seen[0] + CODE[0], digest_size=16)
    latest = max(seen[1], CODE[1])
    try:
        for ref in refs:
            h.update(f"{ref.rel}\0{ref.mtime_ns}\0{ref.size}\n".encode())
            latest = max(latest, ref.mtime_ns)
        for label, folder in (("templates", config.root / "templates"),
                              ("static", config.root / "static")):
            latest = max(latest, _tree(h, label, folder))
    except OSError:
        return None
    return h.hexdigest() if latest < seen_at - SETTLE_NS else None


def save(config: SiteConfig, options: BuildOptions, out_dir: Path, inputs: str | None,
         live_id: str, now: datetime, next_due: datetime | None, result: BuildResult) -> None:
    """Called by the pipeline after a successful build, ``inputs`` being the fingerprint taken
    as the build read its inputs and ``now`` the moment that decided what was future."""
    if inputs is None:
        return
    cache.save(stamp_path(config, out_dir), STAMP_KEY, {
        "request": request_key(config, options, out_dir), "inputs": inputs, "live_id": live_id,
        "now": now, "next_due": next_due, "pages_by_kind": dict(result.pages_by_kind),
        "files": result.files, "warnings": result.warnings, "overview": result.overview})


def forget(config: SiteConfig, out_dir: Path) -> None:
    """A build starts: until it succeeds, no stamp vouches for the output."""
    try:
        os.unlink(stamp_path(config, out_dir))
    except FileNotFoundError:
        pass


@dataclass
class Inputs:
    """What an up-to-date check that failed read on the way, for the build that follows to
    use rather than read again: ``site.yaml``'s hash (:func:`settings`), the time taken before
    it, the configuration, and the content files found (None when the check stopped before
    walking the content folder)."""

    seen: tuple[bytes, int] | None
    seen_at: int
    config: SiteConfig
    refs: list[sources.SourceRef] | None = None
    warnings: list[Diagnostic] | None = None
    """What the walk that found ``refs`` warned about."""


def check(site_dir: Path, options: BuildOptions,
          notify: Callable[[str], None] | None = None) -> BuildResult | None:
    """The last build's result, if nothing changed since it; else None (build as usual)."""
    found = look(site_dir, options, notify)
    return found if isinstance(found, BuildResult) else None


def look(site_dir: Path, options: BuildOptions,
         notify: Callable[[str], None] | None = None) -> BuildResult | Inputs | None:
    """As :func:`check`, but on a change returns what it read (:class:`Inputs`), which
    ``pipeline.build`` takes instead of reading it again (None: nothing worth passing on)."""
    started, seen_at = time.perf_counter(), time.time_ns()
    if not options.incremental:
        return None
    seen = settings(site_dir)
    config = load_config(site_dir, base_url=options.base_url)
    found = Inputs(seen, seen_at, config)
    out_dir = out_dir_of(config, options)
    path = stamp_path(config, out_dir)
    if not path.is_file():
        return found
    with build_lock(config.root, notify):
        stamp = cache.load(path, STAMP_KEY)
        if not isinstance(stamp, dict) or stamp["request"] != request_key(config, options, out_dir):
            return found
        now = options.now or datetime.now(timezone.utc)
        if now < stamp["now"] or (stamp["next_due"] is not None and now >= stamp["next_due"]):
            return found  # (a clock set back, or a future article come due)
        refs, problems = sources.discover(config.root)
        if any(p.severity == "error" for p in problems):
            return found
        found.refs, found.warnings = refs, problems
        if fingerprint(config, seen, refs, seen_at) != stamp["inputs"]:
            return found
        output = Output(out_dir, config.root / CACHE_DIR)
        if output.live_id != stamp["live_id"] or not output.live_manifest():
            return found
    overview: Overview = stamp["overview"]
    return BuildResult(config, None, out_dir, Counter(stamp["pages_by_kind"]), stamp["files"],
                       {"check": time.perf_counter() - started}, list(stamp["warnings"]),
                       overview=overview, up_to_date=True)
