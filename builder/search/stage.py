"""The search stage: records in, Pagefind bundles out, rebuilt only where the records changed.

Output layout (inside the output folder)::

    pagefind/shards.json          which bundles exist, newest first (read by the search page)
    pagefind/<shard>/pagefind.js  one complete Pagefind bundle per shard (see shards.py)

Cache layout (inside ``cache_dir``, normally ``.briefs-cache/``)::

    search/state.json             shard id -> key, for people and tools reading the cache
    search/bundles/<key>.pack     one shard's bundle files, concatenated
    search/bundles/<key>.json     its listing: page count, [path, hash, offset, size] per file

A shard is indexed again only when no intact pack exists for its key, which covers the
shard's records (every field, or the given digest instead of the text), the index language,
the text limit, the document format and Pagefind's version. A bundle is kept as one pack
rather than thousands of small files because creating files is the slow part of writing on
the disks measured here, and the writer creates them once more in the output anyway.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import queue
import re
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Callable, Iterable

from ..errors import BuildError, Diagnostic
from . import records as docs
from .config import SearchConfig
from .stable import stabilize
from .records import SearchRecord
from .shards import Shard, plan
from .service import PagefindError, close_index, open_index

from .published import FORMAT, MANIFEST, PAGEFIND_DIR, _listing
"""Bump when the documents or bundle layout change, so every cached bundle is rebuilt."""
BATCH = 64
"""Records per pipe write when records are sent as AddFile requests."""
UNUSED_FILES = ("pagefind-ui.js", "pagefind-ui.css", "pagefind-component-ui.js",
                "pagefind-component-ui.css", "pagefind-modular-ui.js", "pagefind-modular-ui.css",
                "pagefind-highlight.js")
"""Pagefind's stock UIs; the search page has its own (they merge shards by score only)."""

PutFile = Callable[[str, str, Callable[[], bytes]], None]
"""``put(output_rel_path, content_hash, read)``: hand one file to the writer, which calls
``read()`` for the bytes only if it has to write them (during the call, not later)."""


@dataclass
class SearchStats:
    records: int = 0
    """Records given, after ``exclude``."""
    indexed: int = 0
    """Pages in the published index (Pagefind's own count, summed over shards)."""
    shards: int = 0
    shards_built: int = 0
    """Shards indexed by Pagefind in this build (0 when nothing changed)."""
    shards_reused: int = 0
    files: int = 0
    """Files of the published bundles (plus the manifest)."""
    bytes: int = 0
    seconds: float = 0.0
    index_seconds: float = 0.0
    """Time spent in Pagefind (0 when every shard came from the cache)."""
    warnings: list[Diagnostic] = field(default_factory=list)
    outputs: list[tuple[str, str, int]] = field(default_factory=list)
    """Every published file: (path under the output folder, content hash, size)."""


def digest(data: bytes) -> str:
    """Same hash as ``builder.write.digest``, so the writer can compare without re-reading."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def pagefind_version() -> str:
    try:
        from importlib.metadata import version
        return version("pagefind_bin")
    except Exception:  # pragma: no cover - a binary found on PATH instead
        return "unknown"


def run_search_stage(records: Iterable[SearchRecord], out_dir: Path | None, config: SearchConfig,
                     cache_dir: Path, *, language: str, put: PutFile | None = None,
                     notify: Callable[[str], None] | None = None,
                     cancel: threading.Event | None = None) -> SearchStats:
    """Index ``records`` into ``out_dir/pagefind/`` (or hand every file to ``put``).

    Raises :class:`BuildError` with one line when Pagefind fails; nothing in ``out_dir`` is
    touched before every shard has been built.
    """
    started = time.perf_counter()
    stats = SearchStats()
    lang = (config.language or language or "en").split("-")[0].lower()
    kept: dict[str, SearchRecord] = {}

    def check_cancel() -> None:  # the preview's next save stops us early (see SearchCancelled)
        if cancel is not None and cancel.is_set():
            raise SearchCancelled("search indexing cancelled")

    for n, record in enumerate(records):
        if n % 512 == 511:
            check_cancel()
        if config.excludes(record.kind, record.url):
            continue
        url = record.url.lstrip("/")
        if url in kept:
            stats.warnings.append(Diagnostic(url, None, None,
                                             "two search records for one URL; the last one is indexed",
                                             severity="warning"))
        kept[url] = record if url == record.url else _replace_url(record, url)
    stats.records = len(kept)
    shards = plan(list(kept.values()), config.shard_size)
    stats.shards = len(shards)

    root = Path(cache_dir) / "search"
    bundles = root / "bundles"
    bundles.mkdir(parents=True, exist_ok=True)
    version = pagefind_version()
    keys = {}
    for s in shards:
        check_cancel()
        keys[s.id] = shard_key(s, lang, config.max_chars, version)
    listings = {key: _listing(bundles, key) for key in set(keys.values())}
    todo = [s for s in shards if listings[keys[s.id]] is None]
    check_cancel()
    stats.shards_reused = len(shards) - len(todo)

    # With a writer (``put``: the pipeline's shadow folder, live only once the build is done),
    # each bundle is handed over as soon as it exists, while Pagefind still indexes the others;
    # into a bare ``out_dir`` nothing is copied before every shard has been built.
    published: set[str] = set()

    def publish(s: Shard) -> None:
        if put is not None:
            _publish_shard(put, bundles, keys[s.id], listings[keys[s.id]], s.id)
            published.add(s.id)

    building = {s.id for s in todo}

    def publish_reused() -> None:
        for s in shards:
            if s.id not in building:
                publish(s)

    if not todo:
        publish_reused()
    else:
        t = time.perf_counter()
        if notify:
            notify(f"search: indexing {sum(len(s.records) for s in todo):,} records "
                   f"in {len(todo)} of {len(shards)} bundle(s)")
        jobs = config.jobs or max(1, min(2, os.cpu_count() or 1))
        by_id = {s.id: s for s in todo}
        cut_urls: dict[str, list[str]] = {}

        def built(sid: str, listing: dict, cut: list[str]) -> None:
            listings[keys[sid]] = listing
            cut_urls[sid] = cut
            publish(by_id[sid])

        try:
            _run_shards(todo, keys, bundles, lang, config.max_chars, jobs, cancel, built,
                        meanwhile=publish_reused)
        except (PagefindError, OSError) as exc:
            hint = getattr(exc, "hint", None) or (
                "the previous site is unchanged; run the build again, "
                "or set `search: {enabled: false}` to build without search")
            raise BuildError(Diagnostic(PAGEFIND_DIR, None, None,
                                        f"search index failed: {exc}", hint)) from None
        for s in todo:  # in shard order, whichever finished first
            for url in cut_urls[s.id]:
                stats.warnings.append(Diagnostic(url, None, None,
                                                 f"body longer than {config.max_chars:,} characters; "
                                                 "search indexes only its beginning",
                                                 "raise search.max_chars to index more",
                                                 severity="warning"))
        stats.shards_built = len(todo)
        stats.index_seconds = time.perf_counter() - t

    # The manifest (which bundles exist, newest first) is the last file handed over.
    shard_list = []
    for s in shards:
        pages = listings[keys[s.id]]["pages"]
        stats.indexed += pages
        shard_list.append({"id": s.id, "path": f"{s.id}/", "first": s.first, "last": s.last,
                           "pages": pages})
    manifest = json.dumps({"version": FORMAT, "language": lang, "shards": shard_list},
                          ensure_ascii=False, indent=1).encode()
    outputs = [(f"{PAGEFIND_DIR}/{MANIFEST}", digest(manifest), len(manifest))]
    for s in shards:
        outputs += [(f"{PAGEFIND_DIR}/{s.id}/{rel}", h, size)
                    for rel, h, _, size in listings[keys[s.id]]["files"]]
    stats.outputs = outputs
    stats.files = len(outputs)
    stats.bytes = sum(size for _, _, size in outputs)

    target = put or (_Copier(Path(out_dir)) if out_dir is not None else None)
    if target is not None:
        for s in shards:
            if s.id not in published:
                _publish_shard(target, bundles, keys[s.id], listings[keys[s.id]], s.id)
        target(outputs[0][0], outputs[0][1], lambda: manifest)

    _atomic_write(root / "state.json",
                  json.dumps({"format": FORMAT, "shards": keys,
                              "outputs": [rel for rel, _, _ in outputs]}, indent=1).encode())
    _drop_unused(bundles, set(keys.values()))
    stats.seconds = time.perf_counter() - started
    return stats


def _publish_shard(target: PutFile, bundles: Path, key: str, listing: dict, sid: str) -> None:
    """Hand one shard's files to ``target``, reading them from the shard's pack on demand."""
    with open(bundles / f"{key}.pack", "rb") as pack:
        fd = pack.fileno()
        for rel, h, offset, size in listing["files"]:
            target(f"{PAGEFIND_DIR}/{sid}/{rel}", h,
                   lambda fd=fd, offset=offset, size=size: os.pread(fd, size, offset))


def _replace_url(record: SearchRecord, url: str) -> SearchRecord:
    from dataclasses import replace
    return replace(record, url=url)


def shard_key(shard: Shard, lang: str, max_chars: int, version: str) -> str:
    """Hash of everything a shard's bundle depends on."""
    h = hashlib.blake2b(repr((FORMAT, version, lang, max_chars, docs.TITLE_WEIGHT, shard.id))
                        .encode(), digest_size=16)
    for r in shard.records:
        # repr of str/dict/list is exact and much faster than json.dumps here
        h.update(repr((r.url, r.kind, r.title, r.date, sorted(r.meta.items()),
                       sorted(r.filters.items()), r.digest)).encode("utf-8", "surrogatepass"))
        if not r.digest:
            h.update(r.text.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()


# ----------------------------------------------------------------------------- building

def _run_shards(todo: list[Shard], keys: dict[str, str], bundles: Path, lang: str,
                max_chars: int, jobs: int, cancel: threading.Event | None,
                built: Callable[[str, dict, list[str]], None],
                meanwhile: Callable[[], None] = lambda: None) -> None:
    """Index ``todo`` and call ``built(shard id, listing, cut URLs)`` for each shard as it is
    done, in the caller's thread, while the other shards are still being indexed; the caller's
    thread runs ``meanwhile()`` first, right after starting the indexing thread.

    Pagefind is driven by an event loop of its own in a thread of its own: the caller's thread
    may run a loop already (``briefs serve``), or hold one that asyncio.run would unset on exit
    (Playwright's sync API does). An exception from ``built`` stops the indexing.
    """
    results: queue.SimpleQueue = queue.SimpleQueue()
    stop = threading.Event()
    box: dict = {}

    def target():
        try:
            asyncio.run(_build_all(todo, keys, bundles, lang, max_chars, jobs,
                                   lambda: stop.is_set() or (cancel is not None and cancel.is_set()),
                                   results.put))
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc
        finally:
            results.put(None)

    thread = threading.Thread(target=target, name="briefs-search")
    thread.start()
    try:
        meanwhile()
        while (item := results.get()) is not None:
            built(*item)
    except BaseException:
        stop.set()
        raise
    finally:
        thread.join()
    if "error" in box:
        raise box["error"]


class SearchCancelled(Exception):
    """The caller set the ``cancel`` event: indexing stopped, Pagefind processes killed, the
    cache and the output unchanged (the preview does this when the editor saves again)."""


async def _build_all(todo: list[Shard], keys: dict[str, str], bundles: Path, lang: str,
                     max_chars: int, jobs: int, stopped: Callable[[], bool],
                     done: Callable[[tuple[str, dict, list[str]]], None]) -> None:
    """Index shards, ``jobs`` at a time, biggest first; ``done((id, listing, cut URLs))`` as
    each one is stored. Raises :class:`SearchCancelled` once ``stopped()`` is true."""
    gate = asyncio.Semaphore(jobs)
    order = sorted(todo, key=lambda s: -len(s.records))
    sweeper = _Sweeper()
    _sweep_stale(_scratch_root(bundles), sweeper)

    async def one(shard: Shard):
        async with gate:
            listing, cut = await _build_shard(shard, bundles, keys[shard.id], lang, max_chars,
                                              sweeper)
            done((shard.id, listing, cut))

    async def cancelled():
        while not stopped():
            await asyncio.sleep(0.05)

    tasks = [asyncio.ensure_future(one(s)) for s in order]
    everything = asyncio.gather(*tasks)
    # Mark its outcome as seen: after a cancel nobody awaits it, and asyncio would complain.
    everything.add_done_callback(lambda f: f.cancelled() or f.exception())
    watcher = asyncio.ensure_future(cancelled())
    try:
        await asyncio.wait({everything, watcher}, return_when=asyncio.FIRST_COMPLETED)
        if watcher.done():
            raise SearchCancelled("search indexing cancelled")
        await everything
        sweeper.join()  # no scratch files are left behind by a finished build
    except BaseException:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    finally:
        watcher.cancel()


class _Sweeper:
    """Removes scratch folders in the background (thousands of small files), while Pagefind
    indexes the next shard; ``join()`` waits for them. The threads are not daemons: a build
    that fails or is interrupted still removes its scratch files before the process exits."""

    def __init__(self):
        self.threads: list[threading.Thread] = []

    def remove(self, path: Path) -> None:
        thread = threading.Thread(target=shutil.rmtree, args=(path, True))
        thread.start()
        self.threads.append(thread)

    def join(self) -> None:
        for thread in self.threads:
            thread.join()


async def _build_shard(shard: Shard, bundles: Path, key: str, lang: str,
                       max_chars: int, sweeper: _Sweeper) -> tuple[dict, list[str]]:
    cut_urls: list[str] = []
    scratch = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-{shard.id}-",
                                    dir=_scratch_root(bundles)))
    try:
        index = await open_index({"force_language": lang, "keep_index_url": False})
        try:
            # Most records become files in a scratch folder (in memory where the system has
            # /dev/shm) that Pagefind reads with add_directory: it parses them on every core,
            # and this costs it ~15% less CPU than one AddFile request per record (which also
            # makes it compare each new URL with every page so far). A URL that is not a plain
            # folder path goes through AddFile with the URL given as is.
            direct: list[tuple[str, str]] = []
            made: set[Path] = set()
            for n, record in enumerate(shard.records):
                if n % 16 == 15:
                    await asyncio.sleep(0)  # let a cancel (the preview's next save) get in
                html, cut = docs.document(record, lang, max_chars)
                if cut:
                    cut_urls.append(record.url)
                if _folder_url(record.url):
                    folder = scratch / record.url
                    if folder not in made:
                        folder.mkdir(parents=True, exist_ok=True)
                        made.add(folder)
                    (folder / "index.html").write_text(html, encoding="utf-8")
                else:
                    direct.append(("/" + record.url, html))  # as add_directory makes them
            if made:
                await index.add_directory(str(scratch))
            service, index_id = index._service, index._index_id
            for start in range(0, len(direct), BATCH):
                await service.add_html_files(index_id, direct[start:start + BATCH])
            # The bundle comes back through the pipe and we store it: Pagefind's own
            # write_files answers before its (tokio) file writes are flushed, so ending the
            # process right after it can leave files empty.
            files = stabilize(await index.get_files())  # same records, same bytes
        finally:
            # Cancelled (a new save in the preview): kill Pagefind rather than wait for it.
            await close_index(index, kill=asyncio.current_task().cancelling() > 0)
    finally:
        # A cancelled build (the preview's next save) does not wait for this.
        sweeper.remove(scratch)
    listing = _write_pack(bundles, key, files)
    # Pagefind leaves out a page with no words at all (a title of symbols, no body), so a
    # bundle may hold fewer pages than records; more would mean records got mixed up.
    if listing["pages"] > len(shard.records):
        for suffix in (".json", ".pack"):  # never to be reused
            (bundles / f"{key}{suffix}").unlink(missing_ok=True)
        raise PagefindError(f"bundle {shard.id} holds {listing['pages']} pages "
                            f"for {len(shard.records)} records")
    return listing, cut_urls


_FOLDER_URL = re.compile(r"(?:[A-Za-z0-9_~-][A-Za-z0-9._~-]*/)*")


def _folder_url(url: str) -> bool:
    """``articles/x/``-style URLs, which a file ``articles/x/index.html`` reproduces exactly."""
    return bool(_FOLDER_URL.fullmatch(url)) and "/../" not in f"/{url}" and "/./" not in f"/{url}"


SCRATCH_PREFIX = "briefs-search-"
_SCRATCH_PID = re.compile(re.escape(SCRATCH_PREFIX) + r"(\d+)-")


def _sweep_stale(root: Path, sweeper: _Sweeper) -> None:
    """Remove scratch folders left by builds that were killed (a killed process cannot clean
    up, and /dev/shm is memory): those named after a process that no longer exists."""
    try:
        entries = list(os.scandir(root))
    except OSError:
        return
    for entry in entries:
        m = _SCRATCH_PID.match(entry.name)
        if m and not _alive(int(m.group(1))):
            sweeper.remove(Path(entry.path))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. another user's process
        return True
    return True


def _scratch_root(bundles: Path) -> Path:
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK | os.X_OK):
        try:
            if shutil.disk_usage(shm).free > 1 << 30:
                return shm
        except OSError:
            pass
    root = bundles.parent / "scratch"
    root.mkdir(parents=True, exist_ok=True)
    return root


def _write_pack(bundles: Path, key: str, files: list[dict]) -> dict:
    """Store a bundle (minus the stock UIs) as <key>.pack + <key>.json; returns the listing."""
    listing: list[tuple[str, str, int, int]] = []
    pages = None
    offset = 0
    pack_path = bundles / f"{key}.pack"
    tmp = pack_path.with_name(pack_path.name + ".tmp")
    with open(tmp, "wb") as out:
        for f in sorted(files, key=lambda f: f["path"]):
            rel = PurePosixPath(f["path"]).as_posix().lstrip("/")
            if rel in UNUSED_FILES or rel.startswith("playground/"):
                continue
            if ".." in rel.split("/"):
                raise PagefindError(f"unexpected file in the bundle: {rel}")
            data = f["content"]
            out.write(data)
            listing.append((rel, digest(data), offset, len(data)))
            offset += len(data)
            if rel == "pagefind-entry.json":
                entry = json.loads(data)
                pages = sum(v.get("page_count", 0) for v in entry.get("languages", {}).values())
    if pages is None:
        os.unlink(tmp)
        raise PagefindError("the bundle has no pagefind-entry.json")
    meta = {"pages": pages, "size": offset, "files": listing}
    _atomic_write(bundles / f"{key}.json", json.dumps(meta).encode())
    os.replace(tmp, pack_path)  # last: a pack exists only with its listing
    return meta


# ----------------------------------------------------------------------------- cache and output

def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _drop_unused(bundles: Path, keep: set[str]) -> None:
    for entry in bundles.iterdir():
        if entry.name.split(".", 1)[0] not in keep:
            try:
                entry.unlink()
            except IsADirectoryError:
                shutil.rmtree(entry, ignore_errors=True)
            except FileNotFoundError:
                pass


class _Copier:
    """Without a writer: put the bundles into ``out_dir`` ourselves, replacing an old index."""

    def __init__(self, out_dir: Path):
        self.out_dir = out_dir
        shutil.rmtree(out_dir / PAGEFIND_DIR, ignore_errors=True)
        self.made: set[Path] = set()

    def __call__(self, rel: str, _hash: str, read: Callable[[], bytes]) -> None:
        dest = self.out_dir / rel
        if dest.parent not in self.made:
            dest.parent.mkdir(parents=True, exist_ok=True)
            self.made.add(dest.parent)
        dest.write_bytes(read())
