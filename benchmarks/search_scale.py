#!/usr/bin/env python3
"""Time and memory of the search stage on a bench corpus (../shared/bench/gen_corpus.py).

    python benchmarks/search_scale.py SITE_DIR [--shard-size 5000] [--jobs 2] [--runs 1]
                                      [--cache DIR] [--json FILE]

Reads the corpus's articles and topics into SearchRecords the way the pipeline does (front
matter for the facets, the Markdown body flattened to plain text), then runs
``run_search_stage`` cold (empty cache, files handed to the build's writer, which publishes
them into an output folder on the same disk), and once more unchanged, and once with one article
edited. Reports wall time, CPU time (this process + Pagefind processes), the peak of the summed
RSS of the process tree (sampled every 0.1 s from /proc) and the largest single process
(``ru_maxrss``). Loading the corpus is timed separately: the pipeline does that work anyway.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from builder.search import SearchConfig, SearchRecord, run_search_stage  # noqa: E402
from builder.write import Output  # noqa: E402

FRONT = re.compile(r"\A---\n(.*?)\n---\n", re.S)
LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
MARKS = re.compile(r"^(?:#{1,6}|>)\s*|[*_`]+", re.M)


def plain(markdown: str) -> str:
    return MARKS.sub("", LINK.sub(r"\1", markdown)).strip()


def load(site: Path) -> list[SearchRecord]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    topic_titles = {}
    records = []
    for path in sorted((site / "content" / "topics").glob("*.md")):
        text = path.read_text(encoding="utf-8")
        m = FRONT.match(text)
        fm = yaml.load(m.group(1), Loader=loader)
        topic_titles[path.stem] = fm["title"]
        day = str(fm.get("ends") or fm.get("starts") or "")[:10]
        records.append(SearchRecord(url=f"topics/{path.stem}/", kind="topic", title=fm["title"],
                                    text=(fm.get("summary") or "") + "\n\n" + plain(text[m.end():]),
                                    date=day, meta={}, filters={"year": [day[:4]]} if day else {}))
    for path in sorted((site / "content" / "articles").glob("*/*.md")):
        text = path.read_text(encoding="utf-8")
        m = FRONT.match(text)
        fm = yaml.load(m.group(1), Loader=loader)
        day = str(fm["date"])[:10]
        source = fm.get("source") or ""
        records.append(SearchRecord(
            url=f"articles/{fm.get('slug') or path.stem}/", kind="article", title=fm["title"],
            text=plain(text[m.end():]), date=day,
            meta={"source": source} if source else {},
            filters={"topic": [topic_titles.get(t, t) for t in fm.get("topics") or []],
                     "tag": list(fm.get("tags") or []),
                     "source": [source] if source else [], "year": [day[:4]]}))
    return records


class Sampler:
    """Peak of the summed RSS of this process and its descendants, sampled every 0.1 s from
    /proc (the process tree via /proc/PID/task/TID/children: no scan of every process)."""

    def __init__(self, interval: float = 0.1):
        self.peak = 0
        self.interval = interval
        self.page = os.sysconf("SC_PAGE_SIZE")
        self._stop = threading.Event()

    def _tree(self, pid: int) -> list[int]:
        out, todo = [], [pid]
        while todo:
            p = todo.pop()
            out.append(p)
            try:
                for task in os.listdir(f"/proc/{p}/task"):
                    with open(f"/proc/{p}/task/{task}/children") as fh:
                        todo.extend(int(c) for c in fh.read().split())
            except OSError:
                pass
        return out

    def _rss(self, pid: int) -> int:
        try:
            with open(f"/proc/{pid}/statm") as fh:
                return int(fh.read().split()[1]) * self.page
        except (OSError, ValueError, IndexError):
            return 0

    def _run(self):
        me = os.getpid()
        while not self._stop.is_set():
            self.peak = max(self.peak, sum(self._rss(p) for p in self._tree(me)))
            self._stop.wait(self.interval)

    def __enter__(self):
        self.peak = 0
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def cpu() -> tuple[float, float]:
    """(this process, finished child processes) CPU seconds."""
    s = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime, c.ru_utime + c.ru_stime


def measure(label, fn, sampler):
    (p0, c0), t0 = cpu(), time.perf_counter()
    with sampler:
        stats = fn()
    wall = time.perf_counter() - t0
    p1, c1 = cpu()
    child_max = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    row = {"run": label, "wall_s": round(wall, 2), "cpu_s": round(p1 - p0 + c1 - c0, 1),
           "python_cpu_s": round(p1 - p0, 1), "pagefind_cpu_s": round(c1 - c0, 1),
           "tree_rss_mib": round(sampler.peak / 2**20), "pagefind_max_rss_mib": round(child_max),
           "shards": stats.shards, "built": stats.shards_built, "indexed": stats.indexed,
           "files": stats.files, "mib": round(stats.bytes / 2**20, 1)}
    print(json.dumps(row), flush=True)
    return row


def pagefind_cli(site: Path):
    """``pagefind --site SITE`` with pagefind_bin's binary, as ../shared/bench/compare.py runs it."""
    import pagefind_bin
    folder = Path(pagefind_bin.__file__).parent
    binary = next(folder / name for name in ("pagefind_extended", "pagefind")
                  if (folder / name).is_file())
    subprocess.run([str(binary), "--site", str(site)], check=True, stdout=subprocess.DEVNULL)
    pages = json.loads((site / "pagefind" / "pagefind-entry.json").read_text())["languages"]
    files = [f for f in (site / "pagefind").rglob("*") if f.is_file()]
    return SimpleNamespace(shards=1, shards_built=1,
                           indexed=sum(v["page_count"] for v in pages.values()),
                           files=len(files), bytes=sum(f.stat().st_size for f in files))


def into_output(records, out: Path, config, cache: Path):
    """The stage as a build runs it: files go to the writer's shadow folder, which then
    becomes ``out`` (builder.write.Output, the same writer as the pipeline's)."""
    output = Output(out, cache)
    gen = output.begin()
    stats = run_search_stage(records, None, config, cache, language="en", put=gen.put_lazy)
    output.finish(gen, "bench")
    return stats


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("site", type=Path)
    ap.add_argument("--shard-size", type=int, default=SearchConfig.shard_size)
    ap.add_argument("--jobs", type=int, default=None)
    ap.add_argument("--runs", type=int, default=1, help="cold runs")
    ap.add_argument("--cache", type=Path, default=None)
    ap.add_argument("--json", type=Path, default=None, help="append result rows here")
    ap.add_argument("--cold-only", action="store_true", help="skip the unchanged and one-edit runs")
    ap.add_argument("--pagefind-site", type=Path, default=None,
                    help="before each cold run, time `pagefind --site DIR` (e.g. Hugo's output of "
                         "the same corpus from ../shared/bench: WORK/nN-sSEED/out/hugo), "
                         "the way the shared harness does, for a side-by-side ratio")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    records = load(args.site)
    load_s = time.perf_counter() - t0
    print(json.dumps({"run": "load", "records": len(records), "wall_s": round(load_s, 2),
                      "rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}),
          flush=True)
    config = SearchConfig(shard_size=args.shard_size, jobs=args.jobs)
    work = Path(tempfile.mkdtemp(prefix="briefs-search-bench-"))
    cache = args.cache or work / "cache"
    out = work / "out"
    sampler = Sampler()
    rows = []
    try:
        for i in range(args.runs):
            if args.pagefind_site:
                shutil.rmtree(args.pagefind_site / "pagefind", ignore_errors=True)
                os.sync()
                rows.append(measure(f"pagefind-cli{i + 1}",
                                    lambda: pagefind_cli(args.pagefind_site), sampler))
            shutil.rmtree(cache, ignore_errors=True)
            shutil.rmtree(out, ignore_errors=True)
            os.sync()
            rows.append(measure(f"cold{i + 1}", lambda: into_output(
                records, out, config, cache), sampler))
        if args.pagefind_site:
            ours = sorted(r["wall_s"] for r in rows if r["run"].startswith("cold"))
            theirs = sorted(r["wall_s"] for r in rows if r["run"].startswith("pagefind-cli"))
            print(json.dumps({"run": "ratio", "briefs_median_s": ours[len(ours) // 2],
                              "pagefind_cli_median_s": theirs[len(theirs) // 2],
                              "ratio": round(ours[len(ours) // 2] / theirs[len(theirs) // 2], 2)}),
                  flush=True)
        if args.cold_only:
            return
        rows.append(measure("unchanged", lambda: run_search_stage(
            records, None, config, cache, language="en"), sampler))
        articles = [i for i, r in enumerate(records) if r.kind == "article"]
        k = articles[len(articles) // 2]
        records[k] = replace(records[k], text=records[k].text + " An edited sentence.")
        rows.append(measure("one-edit", lambda: run_search_stage(
            records, None, config, cache, language="en"), sampler))
    finally:
        shutil.rmtree(work, ignore_errors=True)
        write_rows(args, rows, records, load_s)


def write_rows(args, rows, records, load_s):
    if args.json:
        with open(args.json, "a") as fh:
            for row in rows:
                fh.write(json.dumps({"site": str(args.site), "records": len(records),
                                     "shard_size": args.shard_size, "jobs": args.jobs,
                                     "load_s": round(load_s, 2), **row}) + "\n")


if __name__ == "__main__":
    main()
