#!/usr/bin/env python3
"""Live-preview latency: time from saving an article to the reload event reaching a client.

    python benchmarks/serve_latency.py SITE_DIR [--edits 20] [--hugo HUGO_SITE_DIR]

SITE_DIR is a briefs site, e.g. a bench corpus made by ../shared/bench/gen_corpus.py. Measures:
- cold start of `briefs serve` (no cache), then warm start (a second session, caches present),
  each from running the command to it printing its URL;
- for --edits saves of one article (a sentence appended each time, a pause between saves):
  the time from the file write returning to the `reload` server-sent event arriving at a
  connected client, median and range.
With --hugo, also runs `hugo server` on the converted site (../shared/bench/to_hugo.py) and
reads its own "Total in N ms" rebuild times for the same kind of edit (Hugo's number covers its
rebuild, not the delivery of its reload message, so it slightly favours Hugo).
Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from builder.serve import EVENTS_PATH, Preview  # noqa: E402


class EventClient:
    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.conn.request("GET", EVENTS_PATH)
        self.resp = self.conn.getresponse()
        self.events: list[tuple[float, str]] = []
        self.cond = threading.Condition()
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        try:
            for raw in self.resp:
                line = raw.decode().strip()
                if line.startswith("event: "):
                    with self.cond:
                        self.events.append((time.perf_counter(), line[7:]))
                        self.cond.notify_all()
        except Exception:
            pass

    def wait_after(self, since: float, kind: str, timeout: float = 120) -> float:
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for at, k in self.events:
                    if k == kind and at >= since:
                        return at
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no {kind} event")
                self.cond.wait(left)


def pick_article(site: Path) -> Path:
    return sorted((site / "content" / "articles").rglob("*.md"))[len(
        list((site / "content" / "articles").rglob("*.md"))) // 2]


def cli_start(site: Path) -> float:
    """Seconds from running ``briefs serve`` to it printing its URL (interpreter start, imports
    and the first build included: what a user waits for), then Ctrl-C."""
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "builder", "serve", "--port", "0",
                             "--site", str(site)], cwd=site, stderr=subprocess.PIPE, text=True)
    try:
        for line in proc.stderr:
            if line.startswith("serving "):
                return time.perf_counter() - t
        raise RuntimeError(f"briefs serve ended without serving (exit {proc.wait()})")
    finally:
        # keep reading what it prints, or a full pipe would block it before it can stop
        threading.Thread(target=proc.stderr.read, daemon=True).start()
        proc.send_signal(signal.SIGINT)
        proc.wait(120)


def briefs_runs(site: Path, edits: int, pause: float = 0.3) -> dict:
    shutil.rmtree(site / ".briefs-cache", ignore_errors=True)
    out = {"cold start s": cli_start(site), "warm start s": cli_start(site)}
    p = Preview(site, port=0)
    p.start()
    client = EventClient(p.port)
    time.sleep(2)  # an editor reads the page before saving; the preview prepares meanwhile
    target = pick_article(site)
    original = target.read_text()
    latencies = []
    try:
        for i in range(edits):
            text = original + f"\nEdit number {i} for the latency benchmark.\n"
            t0 = time.perf_counter()
            target.write_text(text)
            t1 = client.wait_after(t0, "reload")
            latencies.append(t1 - t0)
            time.sleep(pause)
    finally:
        target.write_text(original)
        time.sleep(0.5)
        p.stop()
    out["save->reload ms"] = latencies
    return out


def hugo_runs(hugo_site: Path, edits: int) -> dict:
    sys.path.insert(0, "/work/shared/bench")
    hugo = shutil.which("hugo")
    try:
        import compare  # the shared harness knows where the real binary is
        hugo = compare.find_hugo() or hugo
    except Exception:
        pass
    if not hugo:
        return {}
    proc = subprocess.Popen([hugo, "server", "--port", "0", "--renderToMemory",
                             "--config", "hugo.plain.toml", "--disableFastRender"],
                            cwd=hugo_site, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    lines: list[str] = []
    ready = threading.Event()

    def pump():
        for line in proc.stdout:
            lines.append(line)
            if "Press Ctrl+C to stop" in line:
                ready.set()

    threading.Thread(target=pump, daemon=True).start()
    t = time.perf_counter()
    ready.wait(600)
    start = time.perf_counter() - t
    target = sorted((hugo_site / "content" / "articles").rglob("*.md"))[0]
    original = target.read_text()
    totals = []
    try:
        for i in range(edits):
            seen = len(lines)
            target.write_text(original + f"\nEdit number {i}.\n")
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                found = [l for l in lines[seen:] if "Total in" in l]
                if found:
                    totals.append(float(re.search(r"Total in ([0-9.]+) ?ms", found[0]).group(1)) / 1000)
                    break
                time.sleep(0.01)
            time.sleep(0.3)
    finally:
        target.write_text(original)
        proc.terminate()
        proc.wait(30)
    return {"start s": start, "rebuild ms": totals}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("site", type=Path)
    ap.add_argument("--edits", type=int, default=20)
    ap.add_argument("--pause", type=float, default=0.3,
                    help="seconds between a reload and the next save (default 0.3)")
    ap.add_argument("--hugo", type=Path, default=None, help="the same corpus converted for Hugo")
    args = ap.parse_args()
    b = briefs_runs(args.site.resolve(), args.edits, args.pause)
    ms = [x * 1000 for x in b["save->reload ms"]]
    n = len(list((args.site / "content" / "articles").rglob("*.md")))
    print(f"\n## Live preview, {n} articles ({os.cpu_count()} CPUs)\n")
    print("| tool | start, cold s | start, warm s | save -> reload, median ms (min-max) | edits |")
    print("|---|---|---|---|---|")
    print(f"| briefs serve | {b['cold start s']:.2f} | {b['warm start s']:.2f} | "
          f"{statistics.median(ms):.0f} ({min(ms):.0f}-{max(ms):.0f}) | {len(ms)} |")
    if args.hugo:
        h = hugo_runs(args.hugo.resolve(), args.edits)
        if h.get("rebuild ms"):
            hm = [x * 1000 for x in h["rebuild ms"]]
            print(f"| hugo server (its own 'Total in', rebuild only) | {h['start s']:.2f} | - | "
                  f"{statistics.median(hm):.0f} ({min(hm):.0f}-{max(hm):.0f}) | {len(hm)} |")


if __name__ == "__main__":
    main()
