"""The search stage: records in, Pagefind bundles out, rebuilt only where the records changed.

Output layout (inside the output folder)::

    pagefind/shards.json          which bundles exist, newest first (read by the search page)
    pagefind/<shard>/pagefind.js  one complete Pagefind bundle per shard (see shards.py)

Cache layout (inside ``cache_dir``, normally ``.briefs-cache/``)::

    search/state.json             shard id -> key (hash of everything its bundle depends on)
    search/bundles/<key>/         the bundle built for that key, with files.json (path, hash)

A shard whose key is in the state and whose bundle folder is intact is not indexed again:
its files are handed to the writer as they are. The key covers the shard's records (every
field), the index language, the text limit, the document format and Pagefind's version.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from ..errors import BuildError, Diagnostic
from . import records as docs
from .config import SearchConfig
from .records import SearchRecord
from .shards import Shard, plan
from .service import PagefindError, close_index, open_index

PAGEFIND_DIR = "pagefind"
MANIFEST = "shards.json"
FORMAT = 1
"""Bump when the documents or bundle layout change, so every cached bundle is rebuilt."""
IN_FLIGHT = 32
"""Requests sent ahead to one Pagefind process: enough to keep it busy, bounded memory."""
UNUSED_FILES = ("pagefind-ui.js", "pagefind-ui.css", "pagefind-component-ui.js",
                "pagefind-component-ui.css", "pagefind-modular-ui.js", "pagefind-modular-ui.css",
                "pagefind-highlight.js")
"""Pagefind's stock UIs; the search page has its own (they merge shards by score only)."""

PutFile = Callable[[str, Path, str], None]
"""``put_file(output_rel_path, source_path, content_hash)``: hand a file to the writer."""


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
    outputs: list[tuple[str, Path, str]] = field(default_factory=list)
    """Every published file: (path under the output folder, file in the cache, content hash)."""


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
                     cache_dir: Path, *, language: str, put_file: PutFile | None = None,
                     notify: Callable[[str], None] | None = None) -> SearchStats:
    """Index ``records`` into ``out_dir/pagefind/`` (or hand the files to ``put_file``).

    Raises :class:`BuildError` with one line when Pagefind fails; nothing in ``out_dir`` is
    touched before every shard has been built.
    """
    started = time.perf_counter()
    stats = SearchStats()
    lang = (config.language or language or "en").split("-")[0].lower()
    kept: dict[str, SearchRecord] = {}
    for record in records:
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
    state = _load_state(root)
    version = pagefind_version()
    keys = {s.id: shard_key(s, lang, config.max_chars, version) for s in shards}
    todo = [s for s in shards if not _intact(bundles / keys[s.id])]
    stats.shards_reused = len(shards) - len(todo)

    if todo:
        t = time.perf_counter()
        if notify:
            notify(f"search: indexing {sum(len(s.records) for s in todo):,} records "
                   f"in {len(todo)} of {len(shards)} bundle(s)")
        jobs = config.jobs or max(1, min(2, os.cpu_count() or 1))
        try:
            built = _run(_build_all(todo, keys, bundles, lang, config.max_chars, jobs))
        except (PagefindError, OSError) as exc:
            hint = getattr(exc, "hint", None) or (
                "the previous site is unchanged; run the build again, "
                "or set `search: {enabled: false}` to build without search")
            raise BuildError(Diagnostic(PAGEFIND_DIR, None, None,
                                        f"search index failed: {exc}", hint)) from None
        for sid, cut in built.items():
            for url in cut:
                stats.warnings.append(Diagnostic(url, None, None,
                                                 f"body longer than {config.max_chars:,} characters; "
                                                 "search indexes only its beginning",
                                                 "raise search.max_chars to index more",
                                                 severity="warning"))
        stats.shards_built = len(todo)
        stats.index_seconds = time.perf_counter() - t

    # Publish: the manifest first in the list, then every bundle, newest shard first.
    shard_list = []
    outputs: list[tuple[str, Path, str]] = []
    for s in shards:
        folder = bundles / keys[s.id]
        meta = json.loads((folder / "files.json").read_text())
        stats.indexed += meta["pages"]
        shard_list.append({"id": s.id, "path": f"{s.id}/", "first": s.first, "last": s.last,
                           "pages": meta["pages"]})
        for rel, h, size in meta["files"]:
            outputs.append((f"{PAGEFIND_DIR}/{s.id}/{rel}", folder / rel, h))
            stats.bytes += size
    manifest = json.dumps({"version": FORMAT, "language": lang, "shards": shard_list},
                          ensure_ascii=False, indent=1).encode()
    manifest_path = root / MANIFEST
    if not manifest_path.is_file() or manifest_path.read_bytes() != manifest:
        _atomic_write(manifest_path, manifest)
    outputs.insert(0, (f"{PAGEFIND_DIR}/{MANIFEST}", manifest_path, digest(manifest)))
    stats.outputs = outputs
    stats.files = len(outputs)

    if put_file is not None:
        for rel, path, h in outputs:
            put_file(rel, path, h)
    elif out_dir is not None:
        _copy_out(outputs, Path(out_dir))

    _save_state(root, {"format": FORMAT, "shards": {s.id: keys[s.id] for s in shards}})
    _drop_unused(bundles, set(keys.values()))
    stats.seconds = time.perf_counter() - started
    return stats


def _replace_url(record: SearchRecord, url: str) -> SearchRecord:
    from dataclasses import replace
    return replace(record, url=url)


def shard_key(shard: Shard, lang: str, max_chars: int, version: str) -> str:
    h = hashlib.blake2b(digest_size=16)
    h.update(json.dumps([FORMAT, version, lang, max_chars, docs.TITLE_WEIGHT, shard.id]).encode())
    for r in shard.records:
        h.update(json.dumps([r.url, r.kind, r.title, r.date, sorted(r.meta.items()),
                             sorted((k, list(v)) for k, v in r.filters.items())],
                            ensure_ascii=False).encode("utf-8", "surrogatepass"))
        if r.digest:
            h.update(b"digest:" + r.digest.encode())
        else:
            h.update(r.text.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()


# ----------------------------------------------------------------------------- building

def _run(coro):
    """Run a coroutine to completion, also when the caller already runs an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    box: dict = {}

    def target():
        try:
            box["value"] = asyncio.run(coro)
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=target, name="briefs-search")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


async def _build_all(todo: list[Shard], keys: dict[str, str], bundles: Path, lang: str,
                     max_chars: int, jobs: int) -> dict[str, list[str]]:
    """Index shards, ``jobs`` at a time, biggest first; returns shard id -> URLs cut short."""
    gate = asyncio.Semaphore(jobs)
    order = sorted(todo, key=lambda s: -len(s.records))

    async def one(shard: Shard):
        async with gate:
            return shard.id, await _build_shard(shard, bundles / keys[shard.id], lang, max_chars)

    tasks = [asyncio.ensure_future(one(s)) for s in order]
    try:
        return dict(await asyncio.gather(*tasks))
    except BaseException:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


async def _build_shard(shard: Shard, target: Path, lang: str, max_chars: int) -> list[str]:
    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    cut_urls: list[str] = []
    index = await open_index({"force_language": lang, "keep_index_url": False})
    try:
        window = asyncio.Semaphore(IN_FLIGHT)
        failures: list[BaseException] = []

        async def add(record: SearchRecord):
            try:
                html, cut = docs.document(record, lang, max_chars)
                if cut:
                    cut_urls.append(record.url)
                await index.add_html_file(content=html, url=record.url)
            except BaseException as exc:
                failures.append(exc)
            finally:
                window.release()

        tasks = []
        for record in shard.records:
            await window.acquire()
            if failures:
                break
            tasks.append(asyncio.ensure_future(add(record)))
        await asyncio.gather(*tasks)
        if failures:
            raise failures[0]
        # The bundle comes back through the pipe and we write it: Pagefind's own write_files
        # answers before its (tokio) file writes are flushed, so ending the process right
        # after it can leave files empty.
        files = await index.get_files()
    finally:
        await close_index(index)
    pages = _write_bundle(tmp, files)
    del files
    if pages != len(shard.records):
        raise PagefindError(f"bundle {shard.id} holds {pages} pages for {len(shard.records)} records")
    shutil.rmtree(target, ignore_errors=True)
    os.rename(tmp, target)
    return cut_urls


def _write_bundle(folder: Path, files: list[dict]) -> int:
    """Write a bundle (minus the stock UIs) with files.json (path, hash, size); returns the
    page count from pagefind-entry.json."""
    listing = []
    pages = None
    made: set[Path] = set()
    for f in sorted(files, key=lambda f: f["path"]):
        rel = Path(f["path"]).as_posix().lstrip("/")
        if rel in UNUSED_FILES or rel.startswith("playground/"):
            continue
        if ".." in rel.split("/"):
            raise PagefindError(f"unexpected file in the bundle: {rel}")
        data = f["content"]
        path = folder / rel
        if path.parent not in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            made.add(path.parent)
        path.write_bytes(data)
        listing.append((rel, digest(data), len(data)))
        if rel == "pagefind-entry.json":
            entry = json.loads(data)
            pages = sum(lang.get("page_count", 0) for lang in entry.get("languages", {}).values())
    if pages is None:
        raise PagefindError("the bundle has no pagefind-entry.json")
    (folder / "files.json").write_text(json.dumps({"pages": pages, "files": listing}))
    return pages


# ----------------------------------------------------------------------------- cache and output

def _intact(folder: Path) -> bool:
    """A cached bundle is used only when every file it listed is there with its size."""
    try:
        meta = json.loads((folder / "files.json").read_text())
        return all(os.stat(folder / rel).st_size == size for rel, _, size in meta["files"])
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _load_state(root: Path) -> dict:
    try:
        state = json.loads((root / "state.json").read_text())
        return state if state.get("format") == FORMAT else {}
    except (OSError, ValueError):
        return {}


def _save_state(root: Path, state: dict) -> None:
    _atomic_write(root / "state.json", json.dumps(state, indent=1).encode())


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _drop_unused(bundles: Path, keep: set[str]) -> None:
    for entry in bundles.iterdir():
        if entry.name not in keep:
            shutil.rmtree(entry, ignore_errors=True)


def _copy_out(outputs: list[tuple[str, Path, str]], out_dir: Path) -> None:
    """Without a writer: put the bundles into ``out_dir`` ourselves, replacing an old index."""
    target = out_dir / PAGEFIND_DIR
    shutil.rmtree(target, ignore_errors=True)
    made: set[Path] = set()
    for rel, src, _ in outputs:
        dest = out_dir / rel
        if dest.parent not in made:
            dest.parent.mkdir(parents=True, exist_ok=True)
            made.add(dest.parent)
        shutil.copyfile(src, dest)
