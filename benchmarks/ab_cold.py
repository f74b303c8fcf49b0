#!/usr/bin/env python3
"""Cold builds of two versions of briefs in turns, on one site: is a change faster?

    python benchmarks/ab_cold.py SITE BASE_TREE [--rounds 3] [--new-tree REPO] [-- BUILD ARGS]

BASE_TREE is another checkout of this repository, e.g. ``git worktree add /tmp/base HEAD~1``
(copy the compiled ``builder/related/_features*.so`` into it, or it runs the slower Python
features). Each round builds SITE once with each tree (``python -m builder build -q
--no-search`` plus BUILD ARGS, with PYTHONPATH set to the tree), after deleting ``public/`` and
``.briefs-cache/`` and calling ``sync``; taking turns spreads the machine's drift over both.
Prints each build's wall time and CPU seconds (user, and user + system, of the build and its
workers), then the medians. This VM's speed moves by 10-30% within minutes, so compare medians
of several rounds, never two single builds.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def cold_build(site: Path, tree: Path, extra: list[str]) -> tuple[float, float, float]:
    for name in ("public", ".briefs-cache"):
        shutil.rmtree(site / name, ignore_errors=True)
    subprocess.run(["sync"], check=False)
    env = dict(os.environ, PYTHONPATH=str(tree))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "builder", "build", "-q", "--no-search", *extra],
                   cwd=site, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    user = after.ru_utime - before.ru_utime
    return wall, user, user + after.ru_stime - before.ru_stime


def main() -> None:
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("site", type=Path)
    ap.add_argument("base_tree", type=Path)
    ap.add_argument("--new-tree", type=Path, default=REPO)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    trees = {"base": args.base_tree.resolve(), "new": args.new_tree.resolve()}
    runs: dict[str, list[tuple[float, float, float]]] = {name: [] for name in trees}
    for r in range(args.rounds):
        for name, tree in trees.items():
            wall, user, cpu = cold_build(args.site.resolve(), tree, extra)
            runs[name].append((wall, user, cpu))
            print(f"round {r + 1} {name}: {wall:.2f} s wall, {user:.2f} s user, {cpu:.2f} s CPU",
                  flush=True)
    for name, got in runs.items():
        print(f"{name}: median {statistics.median(g[0] for g in got):.2f} s wall, "
              f"{statistics.median(g[1] for g in got):.2f} s user, "
              f"{statistics.median(g[2] for g in got):.2f} s CPU")


if __name__ == "__main__":
    main()
