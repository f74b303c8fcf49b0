"""Time the related-stories stage on a site folder (e.g. the bench corpus), and its updates.

    python -m builder.related.bench SITE [--jobs 2] [--edits 5] [--verify]

Reports, separately: reading the Markdown (not part of the stage), ``features()`` for every
article (the pipeline runs it in worker processes while parsing, and caches it), building the
index, asking every article's related()/later() (what rendering does), pickling, and
``update()`` after editing one article, with the peak memory the stage adds. ``--verify``
checks every update against a clean build (slow at 50k). CPU seconds are given next to wall
seconds because this machine is shared and wall time swings with other people's jobs.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import pickle
import random
import sys
import threading
import time
from typing import Callable

from .. import workers
from . import RelatedConfig, RelatedIndex, features
from .corpus import load_site


class PeakRSS:
    """Samples this process's resident memory every 5 ms; .peak is the largest seen."""

    def __init__(self) -> None:
        self.peak = self.current()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def current() -> int:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def _run(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, self.current())

    def __enter__(self) -> "PeakRSS":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.current())


def timed(fn: Callable, *args):
    w, c = time.perf_counter(), time.process_time()
    out = fn(*args)
    return out, time.perf_counter() - w, time.process_time() - c


_CONFIG = RelatedConfig()


def _features_chunk(items):
    return [features(it, _CONFIG) for it in items]


def machine_speed() -> float:
    """Seconds for a fixed pure-Python loop, to tell a slow run from a busy machine."""
    t = time.perf_counter()
    x = 0
    for i in range(3_000_000):
        x += i
    return time.perf_counter() - t


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("site")
    ap.add_argument("--jobs", type=int, default=2, help="worker processes for features()")
    ap.add_argument("--edits", type=int, default=5, help="single-article updates to time")
    ap.add_argument("--verify", action="store_true", help="compare each update to a rebuild")
    args = ap.parse_args(argv)
    config = _CONFIG
    print(f"machine speed check (3M-step Python loop): {machine_speed():.2f} s")
    corpus, w, c = timed(lambda: load_site(args.site, jobs=2))
    items = list(corpus.items)
    n = len(items)
    print(f"{n} articles; reading Markdown {w:.1f} s (not part of the stage)")

    chunks = [items[k:k + 500] for k in range(0, n, 500)]
    t = time.perf_counter()
    if args.jobs > 1:
        with workers.pool(args.jobs) as pool:
            feats_list = [f for chunk in pool.map(_features_chunk, chunks) for f in chunk]
    else:
        feats_list = [f for chunk in chunks for f in _features_chunk(chunk)]
    fw = time.perf_counter() - t
    feats = {it.slug: f for it, f in zip(items, feats_list)}
    sample = items[: min(n, 2000)]
    _, sw, sc = timed(lambda: [features(it, config) for it in sample])
    print(f"features(): {fw:.1f} s wall with {args.jobs} processes; "
          f"{1000 * sc / len(sample):.2f} ms CPU per article in one process")

    base = PeakRSS.current()
    with PeakRSS() as mem:
        index, bw, bc = timed(RelatedIndex.build, items, feats, config, corpus.topic_titles)
    print(f"RelatedIndex.build: {bw:.1f} s wall, {bc:.1f} s CPU; "
          f"peak RSS +{(mem.peak - base) / 2**20:.0f} MiB over the {base / 2**20:.0f} MiB before")

    def ask_all():
        return sum(len(index.related(it.slug)) + len(index.later(it.slug)) for it in items)

    links, aw, ac = timed(ask_all)
    print(f"related()+later() for every article: {aw:.1f} s wall, {ac:.1f} s CPU "
          f"({links} links with reasons)")
    blob, pw, _ = timed(pickle.dumps, index, pickle.HIGHEST_PROTOCOL)
    _, lw, _ = timed(pickle.loads, blob)
    print(f"pickle: {len(blob) / 2**20:.0f} MiB, dump {pw:.2f} s, load {lw:.2f} s")

    rnd = random.Random(7)
    for k in range(args.edits):
        victim = items[rnd.randrange(n)]
        other = items[rnd.randrange(n)]
        edited = dataclasses.replace(victim, text=victim.text + "\n\n" + other.text[:400])
        f, fw1, _ = timed(features, edited, config)
        feats[edited.slug] = f
        changed, uw, uc = timed(index.update, [edited], {edited.slug: f}, [])
        items[items.index(victim)] = edited
        line = (f"update #{k + 1} (one article edited): {1000 * uw:.0f} ms wall, "
                f"{1000 * uc:.0f} ms CPU, features {1000 * fw1:.1f} ms; "
                f"{len(changed)} slugs changed")
        if args.verify:
            fresh = RelatedIndex.build(items, feats, config, corpus.topic_titles)
            same = all(index.related(it.slug) == fresh.related(it.slug)
                       and index.later(it.slug) == fresh.later(it.slug) for it in items)
            line += f"; equal to a clean build: {same}"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
