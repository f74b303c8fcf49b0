#!/usr/bin/env python3
"""What deleting an output folder costs the next build on ext4, with and without spread().

    python benchmarks/fs_inodes.py [--pages 10000] [--rounds 3] [--dir /tmp]

Each round, for each of "plain" and "spread" (taking turns): writes N folders with one 14 KB
page each (like ``articles/<slug>/index.html``), deletes them, syncs, then times writing N
new ones -- into an ``articles/`` folder that is either plain or marked by
``builder.write.spread`` (ext4's "top directory" flag). ext4 will not hand out an inode freed
in the last minute or so and reads past each such inode to find a free one, for every new
file and folder, so the time grows with what was deleted just before (the system time is the
cost). Prints seconds of wall and system time per variant.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from builder.write import spread  # noqa: E402

PAGE = b"x" * 14000


def write_pages(root: Path, n: int, mark: bool) -> tuple[float, float]:
    (root / "articles").mkdir(parents=True)
    if mark:
        spread(str(root / "articles"))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_stime
    started = time.perf_counter()
    for i in range(n):
        folder = f"{root}/articles/page-{i}"
        os.mkdir(folder)
        fd = os.open(f"{folder}/index.html", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.write(fd, PAGE)
        os.close(fd)
    return time.perf_counter() - started, resource.getrusage(resource.RUSAGE_SELF).ru_stime - before


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=10000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--dir", default="/tmp", help="a folder on the disk to measure")
    args = ap.parse_args()
    work = Path(args.dir) / f"briefs-fs-inodes-{os.getpid()}"
    results: dict[str, list[tuple[float, float]]] = {"plain": [], "spread": []}
    try:
        for _ in range(args.rounds):
            for name in results:
                write_pages(work / "old", args.pages, mark=False)
                subprocess.run(["sync"], check=False)
                shutil.rmtree(work / "old")
                results[name].append(write_pages(work / "new", args.pages, mark=name == "spread"))
                shutil.rmtree(work / "new")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{args.pages:,} folders with a page each, written just after deleting as many:")
    for name, runs in results.items():
        print(f"  {name:7s} wall " + ", ".join(f"{w:.2f}" for w, _ in runs) + " s; system "
              + ", ".join(f"{s:.2f}" for _, s in runs) + " s")


if __name__ == "__main__":
    main()
