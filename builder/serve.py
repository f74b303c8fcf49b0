"""``briefs serve``: live preview with incremental rebuilds, live reload and an error overlay.

Three parts, each owning its own thread:
- the watcher (watchdog) notes changed files and, after a short quiet period that folds a burst
  of saves (editors write a temp file and rename it) into one, asks for a rebuild;
- the builder thread runs the ordinary pipeline (:class:`pipeline.Builder`, kept alive so its
  caches stay in memory) into a preview folder inside ``.briefs-cache/`` — drafts and the reload
  script never reach ``public/`` — then tells every open page through Server-Sent Events:
  ``reload``, or ``problems`` with the ``file:line: message`` lines for the overlay;
- the HTTP server serves the preview under the path of ``base_url``, like production, adding
  the small reload script to HTML responses only.

A content or template error never stops the server; fixing it clears the overlay and reloads.
"""

from __future__ import annotations

import errno
import http.server
import gc
import json
import mimetypes
import os
import queue
import signal
import socketserver
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from urllib.parse import unquote, urlsplit

from .config import load_config
from .errors import BuildError, Diagnostic
from .pipeline import CACHE_DIR, BuildOptions, BuildResult, Builder

EVENTS_PATH = "/__briefs/events"
SCRIPT_PATH = "/__briefs/reload.js"
DEBOUNCE = 0.05  # seconds of quiet before a burst of saves becomes one rebuild

RELOAD_SCRIPT = r"""(() => {
  const overlayId = "briefs-error-overlay";
  function showProblems(lines) {
    let box = document.getElementById(overlayId);
    if (!box) {
      box = document.createElement("div");
      box.id = overlayId;
      box.setAttribute("role", "alert");
      box.style.cssText = "position:fixed;inset:0 0 auto 0;max-height:60vh;overflow:auto;" +
        "z-index:2147483647;background:#3b0a0a;color:#fff;font:14px/1.5 ui-monospace,monospace;" +
        "padding:1rem 1.25rem;border-bottom:4px solid #ff6b6b;white-space:pre-wrap";
      document.body.appendChild(box);
    }
    box.textContent = "briefs: the last change did not build\n\n" + lines.join("\n");
  }
  const source = new EventSource(EVENTS_URL);
  source.addEventListener("reload", () => location.reload());
  source.addEventListener("problems", (e) => showProblems(JSON.parse(e.data)));
})();
"""


@dataclass
class Broadcaster:
    """Fan-out of server-sent events to every connected page."""

    clients: set = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    last_problems: list[str] | None = None

    def subscribe(self) -> queue.Queue:
        q: queue.Queue = queue.Queue()
        with self.lock:
            self.clients.add(q)
            if self.last_problems:  # a page opened while the build is broken shows it at once
                q.put(("problems", json.dumps(self.last_problems)))
        return q

    def unsubscribe(self, q: queue.Queue) -> None:
        with self.lock:
            self.clients.discard(q)

    def send(self, event: str, data: str = "") -> None:
        with self.lock:
            self.last_problems = json.loads(data) if event == "problems" else None
            for q in list(self.clients):
                q.put((event, data))

    def close(self) -> None:
        with self.lock:
            for q in list(self.clients):
                q.put(None)


class PreviewServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def __init__(self, address, root: Path, base_path: str, events: Broadcaster):
        self.root = root
        self.base_path = base_path
        self.events = events
        self.stopping = threading.Event()
        super().__init__(address, Handler)


class Handler(http.server.BaseHTTPRequestHandler):
    server: PreviewServer
    protocol_version = "HTTP/1.1"
    server_version = "briefs-serve"

    def log_message(self, fmt, *args):  # quiet: the terminal is for build messages
        pass

    def do_HEAD(self):
        self.do_GET(head=True)

    def do_GET(self, head: bool = False):
        raw_path = urlsplit(self.path).path
        if raw_path == EVENTS_PATH:
            return self.stream_events()
        if raw_path == SCRIPT_PATH:
            body = RELOAD_SCRIPT.replace("EVENTS_URL", json.dumps(EVENTS_PATH)).encode()
            return self.send_bytes(200, "text/javascript; charset=utf-8", body, head)
        base = self.server.base_path
        if base != "/" and not raw_path.startswith(base):
            if raw_path in ("/", base.rstrip("/")):
                return self.redirect(base)
            return self.not_found(head)
        target = self.resolve(raw_path[len(base) - 1:])
        if target is None:
            return self.send_bytes(403, "text/plain; charset=utf-8", b"Forbidden\n", head)
        if target.is_dir():
            if not raw_path.endswith("/"):
                return self.redirect(raw_path + "/")
            target = target / "index.html"
        if not target.is_file():
            return self.not_found(head)
        self.send_file(200, target, head)

    def resolve(self, url_path: str) -> Path | None:
        """The file for a URL path inside the preview folder, or None when it would escape."""
        path = unquote(url_path)
        if "\x00" in path or "\\" in path:
            return None
        parts = [p for p in path.split("/") if p]
        if any(p in (".", "..") for p in parts):
            return None
        root = self.server.root
        candidate = root.joinpath(*parts) if parts else root
        try:
            real = candidate.resolve()
            real.relative_to(root.resolve())  # symlinks may not lead outside
        except (ValueError, OSError, RuntimeError):
            return None
        return candidate

    def not_found(self, head: bool):
        page = self.server.root / "404.html"
        if page.is_file():
            return self.send_file(404, page, head)
        return self.send_bytes(404, "text/plain; charset=utf-8", b"Not found\n", head)

    def redirect(self, location: str):
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def send_file(self, status: int, path: Path, head: bool):
        try:
            data = path.read_bytes()
        except OSError:
            return self.send_bytes(404, "text/plain; charset=utf-8", b"Not found\n", head)
        ctype = content_type(path.name)
        if ctype.startswith("text/html"):
            data = inject(data)
        self.send_bytes(status, ctype, data, head)

    def send_bytes(self, status: int, ctype: str, body: bytes, head: bool = False):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def stream_events(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "keep-alive")
        self.end_headers()
        q = self.server.events.subscribe()
        try:
            self.wfile.write(b": connected\n\n")
            self.wfile.flush()
            while not self.server.stopping.is_set():
                try:
                    item = q.get(timeout=15)
                except queue.Empty:
                    self.wfile.write(b": keep-alive\n\n")
                    self.wfile.flush()
                    continue
                if item is None:
                    break
                event, data = item
                self.wfile.write(f"event: {event}\ndata: {data}\n\n".encode())
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass
        finally:
            self.server.events.unsubscribe(q)
            self.close_connection = True


def content_type(name: str) -> str:
    ctype = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if ctype.startswith("text/") or ctype in ("application/javascript", "application/json",
                                              "image/svg+xml", "application/xml"):
        ctype += "; charset=utf-8"
    return ctype


def inject(html: bytes) -> bytes:
    """Add the reload script to a page (served pages only; the built files never have it)."""
    tag = f'<script src="{SCRIPT_PATH}" defer></script>'.encode()
    at = html.rfind(b"</body>")
    return html[:at] + tag + html[at:] if at >= 0 else html + tag


mimetypes.add_type("text/javascript", ".js")
mimetypes.add_type("application/wasm", ".wasm")


def settle_memory() -> None:
    """Once the editor pauses: collect garbage, then freeze what is left.

    A preview holds the whole site in memory; Python's cycle collector would otherwise walk all
    of it again and again during the next rebuild (about 0.1 s a save at 10,000 articles).
    Frozen objects that die later are still freed by reference counting. The full collection
    itself takes ~0.15 s at 10,000 articles and holds every thread, so it waits for a pause
    (``SETTLE_IDLE``); right after a build only ``gc.freeze()`` runs, which costs nothing."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def wait_for_signal() -> None:
    """Block the main thread until a signal's Python handler runs (Ctrl-C raises
    KeyboardInterrupt here).

    Not ``time.sleep``: the kernel hands a signal sent to the process to any of its threads
    that does not block it, and the preview runs several (HTTP, rebuild, watcher). When one
    of those takes it, CPython only marks it pending for the main thread, which would sleep on
    until its timeout and never stop. The handler also writes to the wakeup fd, which wakes a
    read here whichever thread took the signal."""
    r, w = os.pipe()
    os.set_blocking(w, False)
    old = signal.set_wakeup_fd(w)
    try:
        while True:
            os.read(r, 64)  # the pending handler runs right after this returns
    finally:
        signal.set_wakeup_fd(old)
        os.close(r)
        os.close(w)


SEARCH_IDLE = 1.0
"""Seconds without a save before the preview brings the search index up to date."""
SETTLE_IDLE = 1.0
"""Seconds without a save before the preview tidies its memory (``settle_memory``)."""


class Rebuilder:
    """Runs builds one at a time on its own thread; folds bursts of changes into one build."""

    def __init__(self, builder: Builder, events: Broadcaster,
                 report: Callable[[BuildResult | None, list[Diagnostic], float], None]):
        self.builder = builder
        self.events = events
        self.report = report
        self.wake = threading.Event()
        self.stop = threading.Event()
        self.idle = threading.Event()
        self.idle.set()
        self.builds = 0
        self.prepare = False
        self.lock = threading.Lock()
        self.paths: set[str] | None = None
        """Files changed since the last build began; None: unknown (walk everything)."""
        self.thread = threading.Thread(target=self.run, name="briefs-rebuild", daemon=True)

    def start(self):
        self.thread.start()

    def request(self, paths: list[str] | None = None, folder: bool = False):
        """A change happened (at ``paths``; ``folder``: a folder changed, walk everything)."""
        cancel = self.builder.search_cancel
        if cancel is not None:
            cancel.set()  # a search update in progress yields to the new save
        with self.lock:
            if paths is None or folder:
                self.paths = None
            elif self.paths is not None:
                self.paths.update(paths)
        self.idle.clear()
        self.wake.set()

    def take_paths(self) -> set[str] | None:
        with self.lock:
            paths, self.paths = self.paths, set()
        return paths

    def run(self):
        while not self.stop.is_set():
            if self.prepare:  # while nobody has saved anything yet
                self.prepare = False
                try:
                    if self.builder.prepare() is None:
                        self.request(None)  # the preview folder was tampered with: repair it
                except Exception:  # only an optimisation: the next build works without it
                    pass
            if not self.wake.wait(0.2):
                continue
            # debounce: wait until no change arrived for DEBOUNCE seconds
            while True:
                self.wake.clear()
                if not self.wake.wait(DEBOUNCE):
                    break
            if self.stop.is_set():
                break
            self.build_once()
            gc.freeze()  # what the build left is not walked by the next one's collections
            # Search catches up once the editor pauses: a burst of saves is not held up by
            # Pagefind re-indexing after each one.
            if self.builder.search_pending and not self.wake.wait(SEARCH_IDLE):
                self.update_search()
            if not self.wake.wait(SETTLE_IDLE):
                settle_memory()
            if not self.wake.is_set():
                self.idle.set()

    def build_once(self) -> bool:
        started = time.perf_counter()
        try:
            result = self.builder.build(defer_search=True, changed_paths=self.take_paths())
        except BuildError as exc:
            lines = [str(d) for d in exc.diagnostics]
            self.events.send("problems", json.dumps(lines))
            self.report(None, exc.diagnostics, time.perf_counter() - started)
            return False
        except Exception as exc:  # never let a surprise kill the preview
            detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            diag = Diagnostic("briefs", None, None, f"internal error: {detail}",
                              "please report it; the preview keeps running")
            self.events.send("problems", json.dumps([str(diag)]))
            self.report(None, [diag], time.perf_counter() - started)
            return False
        finally:
            self.builds += 1
        self.events.send("reload")
        self.report(result, result.warnings, time.perf_counter() - started)
        return True

    def update_search(self) -> None:
        """After the reload: bring the search index up to date (the pages are carried as they
        are). A search typed after this finds the edit; the page need not reload for it."""
        self.builder.search_cancel = threading.Event()
        try:
            self.builder.build(changed_paths=self.take_paths())
        except BuildError as exc:
            self.events.send("problems", json.dumps([str(d) for d in exc.diagnostics]))
        except Exception:  # cancelled by a save, or failed: the index stays; the next idle retries
            pass
        finally:
            self.builder.search_cancel = None


def ignored(path: str, site_root: Path) -> bool:
    name = os.path.basename(path)
    if name.startswith((".#", "#")) or name.endswith(("~", ".swp", ".swx", ".tmp", ".part")):
        return True
    try:
        rel = Path(path).resolve().relative_to(site_root.resolve()).as_posix()
    except (ValueError, OSError):
        return True
    top = rel.split("/", 1)[0]
    return top not in ("content", "templates", "static", "site.yaml")


def watch(site_root: Path, on_change: Callable[..., None]):
    """Start a watchdog observer on the site's sources; returns it (call .stop())."""
    from watchdog.events import FileSystemEventHandler
    from watchdog.observers import Observer

    class Events(FileSystemEventHandler):
        def on_any_event(self, event):
            if event.event_type in ("opened", "closed_no_write"):
                return
            paths = [p for p in (event.src_path, getattr(event, "dest_path", "") or "")
                     if p and not ignored(p, site_root)]
            if event.is_directory and event.event_type == "modified":
                return  # comes with the events of the files in it, which say what changed
            if paths:  # a folder created, deleted or moved: walk the content again
                on_change([os.fsdecode(p) for p in paths], folder=event.is_directory)

    observer = Observer()
    handler = Events()
    observer.schedule(handler, str(site_root), recursive=False)  # site.yaml
    for folder in ("content", "templates", "static"):
        path = site_root / folder
        if path.is_dir():
            observer.schedule(handler, str(path), recursive=True)
    observer.daemon = True
    observer.start()
    return observer


def _import_watchdog() -> None:
    import watchdog.events  # noqa: F401
    import watchdog.observers  # noqa: F401


class PortInUse(Exception):
    pass


@dataclass
class Preview:
    """A running preview: server, watcher and builder. Used by the CLI and by tests."""

    site_dir: Path
    port: int = 8000
    bind: str = "127.0.0.1"
    drafts: bool = False
    future: bool = False
    report: Callable = lambda result, problems, seconds: None

    def start(self) -> str:
        """Build, then serve and watch. Returns the preview URL."""
        # The watcher's modules load while the first build runs (a tenth of a second of
        # a warm start spent mostly reading files).
        threading.Thread(target=_import_watchdog, daemon=True).start()
        config = load_config(Path(self.site_dir))
        self.root = config.root
        self.out_dir = self.root / CACHE_DIR / "preview"
        options = BuildOptions(out_dir=self.out_dir, drafts=self.drafts, future=self.future)
        self.builder = Builder(self.root, options, persist=False)
        self.events = Broadcaster()
        self.rebuilder = Rebuilder(self.builder, self.events, self.report)
        self.rebuilder.build_once()  # a broken site still serves: the overlay says why
        if self.builder.search_pending:
            self.rebuilder.request([])  # the index lags the content: catch up when idle
        self.rebuilder.prepare = True
        self.out_dir.mkdir(parents=True, exist_ok=True)
        try:
            self.server = PreviewServer((self.bind, self.port), self.out_dir, config.base_path,
                                        self.events)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortInUse(f"port {self.port} on {self.bind} is in use "
                                "(choose another with --port, or --port 0 for any free port)")
            raise
        self.port = self.server.server_address[1]
        self.server_thread = threading.Thread(target=self.server.serve_forever,
                                              kwargs={"poll_interval": 0.2},
                                              name="briefs-http", daemon=True)
        self.server_thread.start()
        self.rebuilder.start()
        self.observer = watch(self.root, self.rebuilder.request)
        host = "127.0.0.1" if self.bind in ("0.0.0.0", "") else self.bind
        return f"http://{host}:{self.port}{config.base_path}"

    def stop(self) -> None:
        self.observer.stop()
        self.rebuilder.stop.set()
        self.rebuilder.wake.set()
        self.server.stopping.set()
        self.events.close()
        self.server.shutdown()
        self.server.server_close()
        self.observer.join(5)
        self.rebuilder.thread.join(30)
        self.server_thread.join(5)
        self.builder.close()
