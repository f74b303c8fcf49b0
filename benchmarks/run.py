#!/usr/bin/env python3
"""briefs against Hugo on the shared bench corpus: one command, one Markdown table.

    python benchmarks/run.py [SIZES ...] [--runs 1] [--out benchmarks/results.md]
                             [--bench ../shared/bench] [--no-hugo-related-above 20000]

For each size (default 1000 10000 50000) it runs the shared harness (``compare.py``, which
generates the corpus, converts it for Hugo and times cold builds and a no-change rebuild with
``/usr/bin/time``) three times on the same corpus:

1. ``briefs build`` (everything on: pages, related stories, feeds, search) beside plain Hugo,
   Hugo with its related content (up to ``--no-hugo-related-above`` articles) and Pagefind run
   on Hugo's output;
2. ``briefs build --no-search`` (pages, related stories, feeds);
3. ``briefs build --no-search --no-related`` (like plain Hugo).

Every briefs cold build deletes ``public/`` and ``.briefs-cache/`` first. Then it times, on the
site the last run left behind, a build after editing one article (a sentence appended), the
median of three. The table gives seconds, peak RSS and the ratios the project's targets are
stated in; the JSON lines stay in the work folder for anything else.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

VARIANTS = [  # (label, briefs command, harness tools)
    ("all", "briefs build -q", "briefs,hugo,hugo-related"),
    ("no-search", "briefs build -q --no-search", "briefs"),
    ("plain", "briefs build -q --no-search --no-related", "briefs"),
]


def harness(bench: Path, n: int, variant: tuple, args, results: Path, first: bool) -> dict:
    label, cmd, tools = variant
    if n > args.no_hugo_related_above:
        tools = tools.replace(",hugo-related", "")
    argv = [sys.executable, str(bench / "compare.py"), str(n), "--runs", str(args.runs),
            "--tools", tools, "--briefs-cmd", cmd, "--briefs-clean", "public,.briefs-cache",
            "--results", str(results), "--work", str(args.work), "--timeout", "3600",
            "--budget", "7200"]
    if not first:
        argv += ["--reuse", "--no-pagefind"]
    before = len(results.read_text().splitlines()) if results.exists() else 0
    # A failed tool run is recorded in the results (status, note); carry on with the others.
    subprocess.run(argv, check=False, stdout=subprocess.DEVNULL if args.quiet else None)
    out = {}
    for line in results.read_text().splitlines()[before:]:
        rec = json.loads(line)
        name = rec["tool"]
        if name == "briefs":
            name = f"briefs-{label}"
        elif name.startswith("pagefind"):
            name = "pagefind"
        out[name] = rec
    return out


def one_edit(site: Path, runs: int = 3) -> float:
    """Median seconds of `briefs build` after appending a sentence to one article.

    An untimed build with the same options comes first: the harness's last build was the
    plain variant (no related stories), and the first build with them renders every page."""
    victim = sorted((site / "content" / "articles").rglob("*.md"))[len(
        list((site / "content" / "articles").rglob("*.md"))) // 2]
    subprocess.run(["briefs", "build", "-q", "--no-search"], cwd=site, check=True)
    times = []
    for i in range(runs):
        with open(victim, "a", encoding="utf-8") as fh:
            fh.write(f"\nOne more sentence, edit {i}.\n")
        t = time.perf_counter()
        subprocess.run(["briefs", "build", "-q", "--no-search"], cwd=site, check=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("sizes", nargs="*", type=int, default=[1000, 10000, 50000])
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--bench", type=Path, default=REPO.parent / "shared" / "bench")
    ap.add_argument("--work", type=Path, default=Path(os.environ.get("BENCH_WORK",
                                                                       "/tmp/briefs-bench")))
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results.md")
    ap.add_argument("--no-hugo-related-above", type=int, default=20000)
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()
    results = args.work / f"briefs-run-{int(time.time())}.jsonl"
    args.work.mkdir(parents=True, exist_ok=True)
    rows = []
    for n in args.sizes:
        recs = {}
        for i, variant in enumerate(VARIANTS):
            recs.update(harness(args.bench, n, variant, args, results, first=(i == 0)))
        site = next(args.work.glob(f"n{n}-s*")) / "site"
        edit = one_edit(site)
        rows.append((n, recs, edit))
        write_table(args.out, rows)
    print(args.out.read_text())


def _s(rec: dict | None, key: str = "cold_median_s") -> float | None:
    return None if rec is None or rec.get(key) is None else float(rec[key])


def _fmt(value: float | None, unit: str = "") -> str:
    return "-" if value is None else f"{value:.2f}{unit}" if value < 10 else f"{value:.1f}{unit}"


def _ratio(a: float | None, b: float | None) -> str:
    return "-" if a is None or not b else f"{a / b:.2f}x"


def write_table(path: Path, rows: list) -> None:
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')} on {os.cpu_count()} cores, "
        f"{platform.machine()}, Python {platform.python_version()} "
        "(one run of `python benchmarks/run.py`; cold = `public/` and `.briefs-cache/` deleted).",
        "",
        "| articles | briefs all on s | briefs no search s | briefs plain s | Hugo s | Hugo related s "
        "| Pagefind on Hugo s | no search / Hugo | no search / Hugo related | plain / Hugo "
        "| no-change rebuild s (Hugo) | one edit s | peak RSS no search MiB (Hugo) |",
        "|" + "---|" * 13,
    ]
    for n, recs, edit in rows:
        b_all, b_ns, b_pl = (recs.get(f"briefs-{k}") for k in ("all", "no-search", "plain"))
        hugo, hrel, pf = recs.get("hugo"), recs.get("hugo-related"), recs.get("pagefind")
        lines.append("| " + " | ".join([
            f"{n:,}", _fmt(_s(b_all)), _fmt(_s(b_ns)), _fmt(_s(b_pl)), _fmt(_s(hugo)),
            _fmt(_s(hrel)), _fmt(_s(pf)),
            _ratio(_s(b_ns), _s(hugo)), _ratio(_s(b_ns), _s(hrel)), _ratio(_s(b_pl), _s(hugo)),
            f"{_fmt(_s(b_ns, 'rebuild_s'))} ({_fmt(_s(hugo, 'rebuild_s'))})", _fmt(edit),
            f"{_fmt(_s(b_ns, 'peak_tree_rss_mib') or _s(b_ns, 'peak_rss_mib'))} "
            f"({_fmt(_s(hugo, 'peak_rss_mib'))})",
        ]) + " |")
    path.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
