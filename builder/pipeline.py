"""The build, top to bottom: config -> content -> site model -> links -> render -> write -> search.

:func:`build` is the one orchestrator; ``serve``, ``publish`` and ``check`` call it rather than
repeating any of it. Every stage is timed.

Incremental by default: parsed content is cached per file (by modification time and size, then
hash), and a page is rendered only when something it depends on changed since the build that
produced the current output (``deps.py``); every other page is carried over. A clean build and
any sequence of incremental builds produce the same bytes. Content parsing and page rendering
run in worker processes (forked, so they share the parsed templates and the model) when there
is enough work for that to pay; a build that renders everything starts the pages that show no
related list in a forked process before the related stage, which leaves a core idle for much
of its time (:class:`EarlyRender`). Rendered bodies live in a file in the cache
(``bodies.py``), not in memory. A build that parsed few files saves its big caches in a forked process while it
goes on, and waits for it before the output goes live (:meth:`Builder.wait_for_saves`).
"""

from __future__ import annotations

import os
import re
import secrets
import stat
import threading
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

from . import bodies, cache, content, deps, model, report, sources, stamp, views, workers
from .config import SiteConfig, load_config
from .errors import BuildError, Diagnostic
from .options import CACHE_DIR, BuildOptions, BuildResult, build_lock, out_dir_of  # noqa: F401
from .relate import RelatedStage, features_of
from .render import THEME, Renderer
from .write import Generation, Output, foreign_folder

PARALLEL_MIN = 400  # below this many items, worker processes cost more than they save
CHUNK_MAX = 500  # content files parsed per task in a worker process (see parse_all)
COMPACT_MIN = 8 << 20  # dead body bytes below which the body store is never compacted


class Timer:
    def __init__(self):
        self.timings: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.timings[stage] = self.timings.get(stage, 0.0) + now - self._last
        self._last = now


class Builder:
    """Builds one site into one output folder, again and again.

    ``briefs build`` uses a builder once; ``briefs serve`` keeps one alive so that parsed
    content, the previous build's signature, the output record and the parsed templates stay in
    memory between rebuilds (``persist=False``: the disk cache is written when the session
    ends, and meanwhile marked as unknown, so a crashed session costs a full build, never a
    wrong one).
    """

    def __init__(self, site_dir: Path, options: BuildOptions | None = None, *,
                 notify: Callable[[str], None] | None = None, persist: bool = True,
                 progress: Callable[[str, int, int], None] | None = None):
        self.site_dir = Path(site_dir)
        self.options = options or BuildOptions()
        self.notify = notify
        self.progress = progress
        self.persist = persist
        self._content: dict | None = None
        self._saving: list[cache.Saving] = []  # cache saves still running in the background
        self._store: bodies.BodyStore | None = None  # where _content's bodies are
        self._state: dict | None = None
        self._output: Output | None = None
        self._renderer: tuple | None = None  # (key, Renderer)
        self._related: RelatedStage | None = None
        self._refs: list[sources.SourceRef] | None = None  # the last build's content files
        self._site: model.Site | None = None  # the last model, to patch
        self._site_in_state = False  # True: _site is the model of the last state saved
        self._dependents: deps.Dependents | None = None  # the preview's reverse of page deps
        self._planner: views.Planner | None = None  # the preview's, for the patched model
        self.edited: list[model.Article] | None = None
        """Published articles this build patched into the last model; None: model built anew."""
        self.search_cancel: threading.Event | None = None
        """Set from another thread to stop this build's search indexing (the preview)."""
        self.search_pending = False
        """True when the live search index lags the content (a build deferred it)."""
        self.source_warnings: list[Diagnostic] = []
        """Warnings about the content folders from the last walk (``sources.discover``)."""
        self.parsed_features: dict = {}
        """The related-stories features of the articles this build parsed, by file hash."""

    def build(self, defer_search: bool = False, changed_paths: set[str] | None = None,
              found: stamp.Inputs | None = None) -> BuildResult:
        """One build. ``defer_search`` (the preview) keeps the live search index as it is and
        remembers whether it is now stale (``search_pending``); the next build without the flag
        brings it up to date, so a reload need not wait for Pagefind. ``changed_paths`` (the
        preview's file events) lists every file changed since the last build, so content
        folders need not be walked again. ``found``: what the up-to-date check read before
        it (``stamp.look``), so it is not read again."""
        self.edited = None
        try:
            return self._build(defer_search, changed_paths, found)
        except BaseException:
            self.wait_for_saves(check=False)
            # The next build starts from the model again: patching the one this build made
            # would skip what this build never recorded in its state. (A build that changed
            # no published article, such as the preview's cancelled search update, made the
            # same model as the last good build: that one stands.)
            if self.edited == []:
                self._site_in_state = True
            else:
                self._site = None
            raise

    def _build(self, defer_search: bool, changed_paths: set[str] | None,
               found: stamp.Inputs | None) -> BuildResult:
        options = self.options
        timer = Timer()
        if found is None:
            seen_at = time.time_ns()  # before any input is looked at (see stamp.fingerprint)
            seen = stamp.settings(self.site_dir)  # (site.yaml's hash: the state key uses it)
            found = stamp.Inputs(seen, seen_at,
                                 load_config(self.site_dir, base_url=options.base_url))
        settings, seen_at, config = found.seen, found.seen_at, found.config
        out_dir = out_dir_of(config, options)
        jobs = options.jobs or os.cpu_count() or 1
        now = options.now or datetime.now(timezone.utc)
        cache_dir = config.root / CACHE_DIR
        timer.lap("config")
        if self.persist:  # (the preview's folder is in the cache: its own)
            problem = foreign_folder(out_dir, config.root,
                                     "--out" if options.out_dir else out_dir.name)
            if problem is not None:
                raise BuildError(problem)
        with build_lock(config.root, self.notify):
            if self.persist:
                stamp.forget(config, out_dir)
            if found.refs is not None:
                self.source_warnings = found.warnings or []
            site, parsed = self.load_site(config, jobs, now, cache_dir, changed_paths,
                                          found.refs)
            inputs = (stamp.fingerprint(config, settings, self._refs, seen_at)
                      if self.persist and self._refs else None)
            timer.lap("content")
            templates = deps.template_hashes([config.root / "templates", THEME / "templates"])
            renderer = self.renderer(config, templates, cache_dir)
            output = self.output(out_dir, cache_dir)
            gen = output.begin()
            state_key = build_key(config, options, out_dir, settings)
            state_path = cache_dir / f"state-{output.key}.pickle"
            state = self._state
            if state is None and options.incremental:
                state = cache.load(state_path, state_key)
            if state is not None and state.get("key") != state_key:
                state = None
            # The last build's record fits the output folder as it is: only what changed is
            # rendered. Otherwise everything is.
            reusable = bool(state and gen.live and state["live_id"] == output.live_id)
            listing = deps.listing_key(config.root / "templates")
            early = None
            if jobs > 1 and len(site.articles) >= PARALLEL_MIN and not reusable:
                # Everything will be rendered: the pages that show no related list start now,
                # on the core the related stage leaves idle for much of its time.
                early = EarlyRender(views.Planner(site, None, listing), renderer, gen)
            timer.lap("plan")
            try:
                related = None
                if config.related.enabled and options.related:
                    related = self.related_stage(cache_dir).run(
                        site, jobs, options.incremental, self.progress, edits=self.edited,
                        parsed=self.parsed_features)
                self.parsed_features = {}  # (taken over by the links stage's cache)
                timer.lap("related")
                patched = None
                if state and self.edited is not None:  # the preview patched the model
                    patched = deps.patch_signature(state["signature"], self.edited, related)
                if patched is not None:
                    signature, changed = patched
                else:
                    signature = deps.signature(site, related)
                    changed = (deps.changed_keys(state["signature"], signature) if reusable
                               else None)
                if reusable:
                    changed |= deps.template_keys(state["templates"], templates)
                else:
                    changed = None  # render everything
                old_deps = state["deps"] if changed is not None else {}
                article_stale = changed is None or bool(
                    changed & {"tpl:shared", "tpl:article.html"})

                # The preview's patched model has the same pages as the last build: the article
                # pages to look at are the ones depending on a changed key (an index kept in
                # memory).
                patching = patched is not None and not article_stale and not self.persist
                if patching:
                    hit = self.dependents(old_deps).affected(changed)

                    def unchanged(path: str) -> bool:
                        return path not in hit and path in gen.live
                else:
                    self._dependents = None

                    def unchanged(path: str) -> bool:
                        keys = old_deps.get(path)
                        return (not article_stale and keys is not None and path in gen.live
                                and changed.isdisjoint(keys))

                planner = self._planner
                if patched is not None and planner is not None and planner.listing == listing:
                    planner.rebase(site, related)
                elif early is not None:  # (its pages planned already)
                    planner = early.planner
                    planner.rebase(site, related)
                else:
                    planner = views.Planner(site, related, listing)
                self._planner = None if self.persist else planner
                specs = planner.plan(unchanged)
                timer.lap("plan")
                todo = []
                if patching:
                    page_deps = dict(old_deps)
                    self._dependents.add(s for s in specs if s.kind == "article")
                else:
                    page_deps = {path: old_deps[path] for path in planner.carried}
                carried = list(planner.carried)
                for spec in specs:
                    page_deps[spec.path] = spec.deps
                    if early is not None and spec.path in early.paths:
                        continue
                    if needs_render(spec, changed, gen.live):
                        todo.append(spec)
                    else:
                        carried.append(spec.path)
                if self.persist:
                    # The previous state's pages share their keys already (see shared_keys).
                    shared = state is not None and state.get("shared") and changed is not None
                    page_deps, signature = deps.shared_keys(
                        page_deps, signature, [s.path for s in specs] if shared else None,
                        state["signature"] if shared else None)
                gen.carry_many(carried)
                stage_warnings: list[Diagnostic] = []
                render_pages(todo, renderer, gen, jobs, self.progress, early)
                timer.lap("render")
                files = copy_files(config, gen, state.get("files", {}) if state else {})
                if config.search.enabled and options.search:
                    stage_warnings += self.search(site, gen, cache_dir, changed, defer_search)
                    timer.lap("search")
            except BaseException:
                if early is not None:
                    early.stop()
                output.abort(gen)
                raise
            self.wait_for_saves()  # the caches are saved before the output goes live
            live_id = secrets.token_hex(8)
            new_state = {"key": state_key, "live_id": live_id, "signature": signature,
                         "templates": templates, "files": files, "deps": page_deps,
                         "shared": self.persist}
            # The state is saved before the swap, under the new generation's id: if the swap
            # never happens, the ids differ next time and everything is rendered again.
            if self.persist:
                cache.save(state_path, state_key, new_state)
            elif self._state is None:
                state_path.unlink(missing_ok=True)
            changed_files, removed = gen.changed(), gen.removed()
            output.finish(gen, live_id, differs=bool(changed_files or removed))
            self._state = new_state if not self.persist else None
            self._site_in_state = True
            self._state_path = state_path
            timer.lap("write")
            kinds = Counter(s.kind for s in specs)
            kinds["article"] += len(planner.carried)
            result = BuildResult(config, site, out_dir, +kinds, len(gen.hashes), timer.timings,
                                 self.source_warnings + list(site.warnings) + stage_warnings,
                                 rendered=len(todo) + (len(early.paths) if early else 0),
                                 parsed=parsed, changed=len(changed_files), removed=len(removed),
                                 template_times={k: (v, renderer.counts[k])
                                                 for k, v in renderer.times.items()})
            if self.persist:  # (the preview saves no stamp: its folder is its own)
                result.overview = report.overview(site)
                stamp.save(config, options, out_dir, inputs, live_id, now, site.next_due, result)
        return result

    def prepare(self) -> int | None:
        """The preview, while idle: check the output folder (None: it was changed behind our
        back, so build again: everything is rendered), then make the next build fast: bring
        the output's shadow copy up to date (returns the files copied)."""
        if self._output is None:
            return 0
        if not self._output.check_live():
            self._state = None
            return None
        if self._state is not None:  # ready for the first patched build
            self.dependents(self._state["deps"])
        if self._related is not None:
            self._related.preload()
        config = load_config(self.site_dir, base_url=self.options.base_url)
        with build_lock(config.root, self.notify):
            return self._output.sync_shadow()

    def close(self) -> None:
        """End of a preview session: write what memory knows to the disk cache. (After any
        build: close the body store; the articles' bodies can still be read.)"""
        self.wait_for_saves(check=False)  # (a build waits itself; check's load_site does not)
        if not self.persist:
            if self._output is not None:
                self._output.close()
            if self._state is not None:
                cache.save(self._state_path, self._state["key"], self._state)
            if self._content is not None:
                self._save_content()
            if self._related is not None:
                self._related.close()
        if self._store is not None:
            self._store.close()
            self._store = None
            self._content = None  # (the records go with their store: read both again)

    def search(self, site: model.Site, gen: Generation, cache_dir: Path,
               changed: set[str] | None, defer: bool) -> list[Diagnostic]:
        """The search stage (``builder.search``); returns its warnings.

        The live index is carried as it is when nothing indexed changed, and also when the
        preview defers the work (``defer``; ``search_pending`` then says it lags); otherwise
        the shards whose records changed are indexed again.
        """
        from .search.published import carry_index
        stale = (changed is None or self.search_pending
                 or any(k.startswith(SEARCH_KEYS) for k in changed))
        if (defer or not stale) and carry_index(gen, cache_dir):
            self.search_pending = stale
            return []
        from .search.collect import index_site
        warnings = index_site(site, gen, cache_dir, cancel=self.search_cancel).warnings
        self.search_pending = False
        return warnings

    def dependents(self, page_deps: dict[str, tuple[str, ...]]) -> deps.Dependents:
        """Which article pages depend on each key, for the last build's ``page_deps``."""
        if self._dependents is None:
            self._dependents = deps.Dependents(
                (path, keys) for path, keys in page_deps.items() if path.startswith("articles/"))
        return self._dependents

    def related_stage(self, cache_dir: Path) -> RelatedStage:
        if self._related is None:
            self._related = RelatedStage(cache_dir, persist=self.persist)
        return self._related

    def output(self, out_dir: Path, cache_dir: Path) -> Output:
        if self._output is None or self._output.out_dir != out_dir.absolute():
            self._output = Output(out_dir, cache_dir, persist=self.persist)
        return self._output

    def renderer(self, config: SiteConfig, templates: dict, cache_dir: Path) -> Renderer:
        key = (config, tuple(sorted(templates.items())))
        if self._renderer is None or self._renderer[0] != key:
            folder = cache_dir / "templates"
            folder.mkdir(exist_ok=True)
            self._renderer = (key, Renderer(config, cache_dir=folder))
        return self._renderer[1]

    # ------------------------------------------------------------------------- content stage

    def load_site(self, config: SiteConfig, jobs: int, now: datetime, cache_dir: Path,
                  changed_paths: set[str] | None = None,
                  refs: list[sources.SourceRef] | None = None) -> tuple[model.Site, int]:
        """Content files -> validated model. Returns (site, number of files parsed).
        ``refs``: every content file, as just found without problems."""
        options = self.options
        touched, previous, problems = None, self._refs, []
        if refs is None and changed_paths is not None and self._refs is not None:
            touched = {}  # the content files the file events name
            refs, problems = sources.refresh(config.root, self._refs, changed_paths, touched), []
        if refs is None:
            touched = None  # look at every file
            refs, problems = sources.discover(config.root)
            self.source_warnings = [p for p in problems if p.severity == "warning"]
            problems = [p for p in problems if p.severity != "warning"]
        self._refs = None if problems else refs
        key = ("content", 5, config.timezone)
        if self._content is None or self._content_key != key:
            # The parsed files, and the model the last build made of them (when it used the
            # same drafts/future options): patched below instead of built again. Their bodies
            # are in a store beside them (bodies.py), which must be as long as it was.
            loaded = cache.load(cache_dir / "content.pickle", key) if options.incremental else None
            store = loaded and bodies.BodyStore.attach(cache_dir, *loaded["bodies"])
            if not store:
                loaded, store = None, bodies.BodyStore.create(cache_dir)
            if self._store is not None and self._store is not store:
                self._store.close()
            self._store = store
            loaded = loaded or {"records": {}, "site": None}
            self._content, self._content_key = loaded["records"], key
            self._content_path = cache_dir / "content.pickle"
            same = loaded.get("options") == (options.drafts, options.future)
            self._site, self._site_in_state = loaded["site"] if same else None, False
        cached = self._content
        base, self._site = self._site, None  # set again once this build's model stands
        # Only a model this Builder made in its last good build matches the state it saved;
        # one from the disk cache matches the parsed files (saved with them), not the state.
        in_state, self._site_in_state = self._site_in_state, False
        if touched is not None and len(cached) != len(previous):
            touched = None  # some file of the last build is not in the cache (it failed): all
        todo: list[sources.SourceRef] = []
        for ref in (refs if touched is None else [r for r in touched.values() if r]):
            hit = cached.get(ref.rel)
            if hit is None or hit[0] != ref.mtime_ns or hit[1] != ref.size:
                todo.append(ref)
        before = [cached.get(ref.rel, (0, 0, None))[2] for ref in todo]  # None: a new file
        failed = 0
        store = self._store
        # Features of the articles parsed now go to the links stage (see _parse_one).
        wanted = config.related if config.related.enabled and options.related else None
        self.parsed_features = {}
        for ref, outcome in zip(todo, parse_all(todo, config.tz, jobs, self.progress, wanted),
                                strict=True):
            if isinstance(outcome, list):
                problems.extend(outcome)
                cached.pop(ref.rel, None)
                failed += 1
            else:
                if isinstance(outcome, tuple):
                    outcome, feat = outcome
                    self.parsed_features[outcome.digest] = feat
                if isinstance(outcome, model.Article):
                    # The body goes to the store, the record keeps its place there. The record
                    # was made (or unpickled) just now and nothing else holds it, so it is set
                    # in place: dataclasses.replace took 10 us an article, on the main
                    # process's time, while the workers parse.
                    object.__setattr__(outcome, "body_data", store.add(outcome.body_data))
                cached[ref.rel] = (ref.mtime_ns, ref.size, outcome)
        store.flush()
        # Every file found is now in the cache unless it failed; more entries means files went.
        removed = len(cached) != len(refs) - failed
        if removed:
            for rel in cached.keys() - {ref.rel for ref in refs}:
                del cached[rel]
        stale = bool(todo or removed)
        if any(p.severity == "error" for p in problems):
            if stale and self.persist:
                self._save_content()
            raise BuildError(problems)
        if base is not None and base.config == config and not removed:
            patched = model.patch_site(
                base, [(old, cached[ref.rel][2]) for old, ref in zip(before, todo)],
                drafts=options.drafts, future=options.future, now=now)
            if patched is not None:
                self._site, edited = patched
                self.edited = edited if in_state else None
                if stale and self.persist:
                    self._save_content(later=len(todo) < PARALLEL_MIN)
                return self._site, len(todo)
        results = [cached[ref.rel][2] for ref in refs if ref.rel in cached]
        articles = [r for r in results if isinstance(r, model.Article)]
        topics = [r for r in results if isinstance(r, model.Topic)]
        pages = [r for r in results if isinstance(r, model.Page)]
        root = str(config.root)
        site, more = model.build_site(
            config, articles, topics, pages, drafts=options.drafts, future=options.future,
            now=now, locate=lambda rel, keys: content.locate(root, rel, keys))
        problems += more
        if site is None or any(p.severity == "error" for p in problems):
            if self.persist:
                self._save_content()
            raise BuildError(problems)
        self._site = site  # the next build (or the next run, from the cache) patches it
        if self.persist:
            self._save_content(later=len(todo) < PARALLEL_MIN)
        return site, len(todo)

    def _save_content(self, later: bool = False) -> None:
        """Save the parsed files and their model. ``later``: in the background, on the other
        core (see :meth:`wait_for_saves`), for a build that parsed few files and so has an
        idle core; a build that parsed many keeps both busy in its later stages anyway."""
        store, old = self._store, None
        live = [r[2].body_data for r in self._content.values() if isinstance(r[2], model.Article)]
        if store.dead(live) > max(store.length // 2, COMPACT_MIN):  # mostly old bodies
            old, store = store, store.compact(live)
            self._store = store
        store.flush()
        save = (self._content_path, self._content_key,
                {"records": self._content, "site": self._site,
                 "bodies": (store.name, store.length),
                 "options": (self.options.drafts, self.options.future)})
        if later and old is None:
            self._saving.append(cache.save_later([save]))
        else:
            cache.save(*save)
            if old is not None:
                old.remove()

    def wait_for_saves(self, check: bool = True) -> None:
        """Wait for the cache saves running in the background (this build's content cache and
        related-stories index, pickled while the build goes on). ``check``: raise when one
        failed."""
        saving = self._saving + (self._related.saving if self._related else [])
        self._saving = []
        if self._related:
            self._related.saving = []
        failed = None
        for job in saving:
            try:
                job.wait()
            except OSError as exc:
                failed = failed or exc
        if failed and check:
            raise failed


def build(site_dir: Path, options: BuildOptions | None = None,
          notify: Callable[[str], None] | None = None,
          progress: Callable[[str, int, int], None] | None = None,
          found: stamp.Inputs | None = None) -> BuildResult:
    """Build once (``briefs build``; ``found``: see :meth:`Builder.build`)."""
    builder = Builder(site_dir, options, notify=notify, progress=progress)
    try:
        return builder.build(found=found)
    finally:
        builder.close()


# Dependency keys whose values reach a search record: the article or topic itself, and the
# names of the tags and sources it is filed under (facets).
SEARCH_KEYS = ("a:", "t:", "n:")


def needs_render(spec: views.PageSpec, changed: set[str] | None, live: dict) -> bool:
    if changed is None or spec.always or spec.path not in live:
        return True
    if spec.template is not None and ("tpl:shared" in changed or f"tpl:{spec.template}" in changed):
        return True
    return not changed.isdisjoint(spec.deps)


def build_key(config: SiteConfig, options: BuildOptions, out_dir: Path,
              settings: tuple[bytes, int] | None) -> tuple:
    """What every page depends on: the settings (site.yaml's hash, from ``stamp.settings``)
    and the options that shape the whole site."""
    return (settings[0].hex() if settings else None, str(config.root), str(out_dir),
            config.base_url, options.drafts, options.future)


# ----------------------------------------------------------------------------- parsing

def _parse_one(ref: sources.SourceRef, tz, related=None) -> Any:
    """One content file -> Article/Topic/Page, or a list of diagnostics. With ``related``
    (the related-stories settings), an article comes as (Article, its plain text), which
    :func:`_parse_chunk` turns into (Article, its Features)."""
    try:
        src = sources.read(ref)
        if ref.kind == "articles":
            parsed = content.parse_article(src, tz)
            if related is None:
                return parsed.article
            return parsed.article, parsed.text
        if ref.kind == "topics":
            return content.parse_topic(src, tz)
        return content.parse_page(src)
    except sources.SourceError as exc:
        return [exc.diagnostic]
    except content.ContentError as exc:
        return exc.diagnostics
    except RecursionError:
        return [Diagnostic(ref.rel, None, None, "content nested too deeply to read")]


def _parse_chunk(args) -> list:
    """Outcomes of a chunk of files. With ``related``, an article comes as (Article, its
    Features): the text is at hand here, in a worker process, so the links stage need not
    read it again. The features are worked out after the whole chunk is parsed, not file by
    file: the two alternating evict each other's data from the CPU caches (3,000 bench
    articles in one process: 0.46-0.49 ms an article interleaved, 0.40-0.41 ms so)."""
    refs, tz, related = args
    out = [_parse_one(r, tz, related) for r in refs]
    if related is not None:
        out = [(o[0], features_of(o[0].title, o[1], related)) if isinstance(o, tuple) else o
               for o in out]
    return out


def parse_all(refs: list[sources.SourceRef], tz, jobs: int,
              progress: Callable[[str, int, int], None] | None = None,
              related=None) -> Iterator:
    """The outcome of each of ``refs``, in order, as they come (so that a large site's bodies
    go to the store one batch at a time); ``related``: see :func:`_parse_chunk`."""
    if jobs <= 1 or len(refs) < PARALLEL_MIN:
        for i in range(0, len(refs), CHUNK_MAX):
            yield from _parse_chunk((refs[i:i + CHUNK_MAX], tz, related))
        return
    # Chunks of at most CHUNK_MAX files: a worker sends each chunk's records back as one
    # message, and bigger ones cost the workers more than they save (50k bench articles:
    # 27-30 s for the content stage with 3,125-file chunks, 21.6-22.4 s with 500).
    size = max(50, min(len(refs) // (jobs * 8), CHUNK_MAX))
    chunks = [(refs[i:i + size], tz, related) for i in range(0, len(refs), size)]
    with workers.pool(jobs) as pool:
        done = 0
        for part in pool.imap(_parse_chunk, chunks):
            yield from part
            done += len(part)
            if progress:
                progress("content", done, len(refs))


# ----------------------------------------------------------------------------- render stage

_WORK: tuple | None = None  # (renderer, specs, generation) inherited by forked workers


def _render_range(bounds: tuple[int, int]) -> tuple[dict, list[Diagnostic], dict, dict]:
    renderer, specs, parent = _WORK
    # This process's share only: the parent merges the shares.
    gen = Generation(parent.root, parent.known, parent.live, unchecked=parent.unchecked)
    renderer.times, renderer.counts = {}, {}
    problems = _render_into(gen, renderer, specs[bounds[0]:bounds[1]])
    return gen.share(), problems, renderer.times, renderer.counts


def _render_into(gen: Generation, renderer: Renderer, specs) -> list[Diagnostic]:
    problems: list[Diagnostic] = []
    for spec in specs:
        try:
            gen.put(spec.path, renderer.render(spec))
        except BuildError as exc:
            problems.extend(exc.diagnostics)
            if len(problems) > 50:
                break
    return problems


class EarlyRender:
    """The pages that show no related-stories list (``Planner.unrelated``: listings, feeds,
    sitemap...), rendered by a forked process while the related stage runs, in a build that
    renders everything: most of that stage runs on one core. :func:`render_pages` takes the
    results over (:meth:`collect`); the pages are the same as the plan's, byte for byte."""

    def __init__(self, planner: views.Planner, renderer: Renderer, gen: Generation):
        global _WORK
        self.planner = planner
        specs = planner.unrelated()
        self.paths = {spec.path for spec in specs}
        _WORK = (renderer, specs, gen)  # inherited by the forked worker
        try:
            self._pool = workers.pool(1)
            self._pending = self._pool.apply_async(_render_range, ((0, len(specs)),))
        finally:
            _WORK = None

    def collect(self, gen: Generation, renderer: Renderer) -> list[Diagnostic]:
        """Wait for the pages; merge them into ``gen``; return the problems found."""
        try:
            share, problems, times, counts = self._pending.get()
        finally:
            self.stop()
        gen.merge(share)
        for name, seconds in times.items():
            renderer.times[name] = renderer.times.get(name, 0.0) + seconds
            renderer.counts[name] = renderer.counts.get(name, 0) + counts[name]
        return problems

    def stop(self) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None


def render_pages(specs: list[views.PageSpec], renderer: Renderer, gen: Generation,
                 jobs: int, progress: Callable[[str, int, int], None] | None = None,
                 early: EarlyRender | None = None) -> None:
    """Render ``specs`` into ``gen`` (in worker processes when there are many), and take over
    the pages ``early`` rendered."""
    global _WORK
    clashes = [p for p, n in Counter(s.path for s in specs).items() if n > 1]
    if clashes:
        raise BuildError([Diagnostic(p, None, None, "two pages want the same URL")
                          for p in clashes])
    total = len(specs) + (len(early.paths) if early else 0)
    if jobs <= 1 or len(specs) < PARALLEL_MIN:
        problems = _render_into(gen, renderer, specs)
        if progress:
            progress("render", len(specs), total)
    else:
        _WORK = (renderer, specs, gen)
        step = max(20, len(specs) // (jobs * 16))
        ranges = [(i, min(i + step, len(specs))) for i in range(0, len(specs), step)]
        problems = []
        try:
            done = 0
            with workers.pool(jobs) as pool:
                for share, found, times, counts in pool.imap_unordered(_render_range, ranges):
                    gen.merge(share)  # also what failed workers managed to write
                    problems.extend(found)
                    for name, seconds in times.items():
                        renderer.times[name] = renderer.times.get(name, 0.0) + seconds
                        renderer.counts[name] = renderer.counts.get(name, 0) + counts[name]
                    done += len(share["hashes"])
                    if progress:
                        progress("render", done, total)
        finally:
            _WORK = None
    if early is not None:
        problems.extend(early.collect(gen, renderer))
        if progress:
            progress("render", total, total)
    if problems:
        raise BuildError(_one_per_mistake(problems))


_RENDERING = re.compile(r" \(while rendering (/[^()]*)\)$")


def _one_per_mistake(problems: list[Diagnostic]) -> list[Diagnostic]:
    """One line for a template mistake, however many pages it broke (a typo in the footer
    breaks every page): the first page is named, the others counted."""
    groups: dict[tuple, list[Diagnostic]] = {}
    for d in problems:
        m = _RENDERING.search(d.message)
        what = d.message[:m.start()] if m else d.message
        groups.setdefault((d.path, d.line, d.col, what, d.hint), []).append(d)
    out = []
    for (path, line, column, what, hint), found in groups.items():
        pages = sorted(m.group(1) for m in map(_RENDERING.search, (d.message for d in found)) if m)
        if len(pages) < 2:  # one page, or the same line again: say it once
            out.append(found[0])
            continue
        more = len(pages) - 1
        out.append(Diagnostic(path, line, column,
                              f"{what} (while rendering {pages[0]} and "
                              f"{'at least ' if len(problems) > 50 else ''}{more} other "
                              f"page{'s' if more != 1 else ''})", hint))
    return out


# ----------------------------------------------------------------------------- files

def copy_files(config: SiteConfig, gen: Generation, before: dict) -> dict:
    """Theme assets (``assets/``) and the site's ``static/`` folder, copied verbatim.

    A file whose modification time and size are as recorded last time is carried over without
    being read. Returns the new record: output path -> (mtime_ns, size, hash).
    """
    record: dict[str, tuple[int, int, str]] = {}
    trees = [(THEME / "assets", "assets/"), (config.root / "static", "")]
    site_root = os.path.realpath(config.root) + os.sep
    for folder, prefix in trees:
        if not folder.is_dir():
            continue
        own = prefix == ""  # the site's static/, where links must stay inside the site
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                if name.startswith("."):
                    continue
                path = Path(dirpath) / name
                rel = prefix + path.relative_to(folder).as_posix()
                st = _static_stat(path, config)
                if own and not os.path.realpath(path).startswith(site_root):
                    # (a cloned site's link to ~/.ssh/id_rsa must never be published)
                    raise BuildError(Diagnostic(_shown(path, config), None, None,
                                                "links to a file outside the site folder",
                                                "copy the file into static/ instead"))
                seen = before.get(rel)
                live = gen.live.get(rel)
                if (seen and seen[0] == st.st_mtime_ns and seen[1] == st.st_size and live
                        and live[0] == seen[2]):
                    if rel in gen.hashes:
                        raise BuildError(Diagnostic(_shown(path, config), None, None,
                                                    f"static file clashes with the page /{rel}"))
                    gen.carry(rel)
                    record[rel] = seen
                    continue
                data = _static_bytes(path, config)
                try:
                    gen.put(rel, data)
                except BuildError:
                    raise BuildError(Diagnostic(_shown(path, config), None, None,
                                                f"static file clashes with the page /{rel}",
                                                "rename or move the file")) from None
                record[rel] = (st.st_mtime_ns, st.st_size, gen.hashes[rel])
    return record


def _static_stat(path: Path, config: SiteConfig) -> os.stat_result:
    """The stat of a file to copy; a located error for a broken link or for anything that is
    not a plain file (a named pipe would block the build for ever)."""
    try:
        st = path.stat()
    except OSError as exc:
        hint = "remove the link or point it at a file" if path.is_symlink() else None
        raise BuildError(Diagnostic(_shown(path, config), None, None,
                                    f"cannot read the static file: {exc.strerror or exc}",
                                    hint)) from None
    if not stat.S_ISREG(st.st_mode):
        raise BuildError(Diagnostic(_shown(path, config), None, None,
                                    "not a plain file (a pipe, socket or device)",
                                    "remove it from static/"))
    return st


def _static_bytes(path: Path, config: SiteConfig) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise BuildError(Diagnostic(_shown(path, config), None, None,
                                    f"cannot read the static file: {exc.strerror or exc}")
                         ) from None


def _shown(path: Path, config: SiteConfig) -> str:
    try:
        return path.relative_to(config.root).as_posix()
    except ValueError:
        return str(path)
