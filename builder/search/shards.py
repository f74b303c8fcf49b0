"""Records split into bundles ("shards") by date, so no Pagefind process holds the whole site.

Pagefind keeps every page of an index in memory until it writes the bundle (about 0.3 MB for a
1,000-word article), so a 50,000-article index needs ~12 GiB. Shards bound that: each is indexed
on its own and the search page merges them. Shards are runs of consecutive dates, which gives
two properties the design relies on:

- *newest first* across shards is just "newest shard first": the search page concatenates each
  shard's date-sorted results in shard order, no per-result lookups;
- *stable boundaries*: within a year, whole months are packed greedily into shards of at most
  ``shard_size`` records, so editing an article changes one shard, adding the newest article
  changes the last one, and any reshuffle stays inside one year.

A month bigger than a shard is packed by days; a single day bigger than a shard is split into
buckets by a hash of the URL (such records share one date, so their order is a tie anyway).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from itertools import groupby

from .records import SearchRecord


@dataclass(frozen=True)
class Shard:
    id: str
    """Folder name under ``pagefind/``: ``all``, ``2024``, ``2024-03`` (first month),
    ``2024-03-05`` (first day) or ``2024-03-05-b2`` (bucket of one day)."""
    records: tuple[SearchRecord, ...]
    """Sorted by (date, url)."""

    @property
    def first(self) -> str:
        return self.records[0].day if self.records else ""

    @property
    def last(self) -> str:
        return self.records[-1].day if self.records else ""


def plan(records: list[SearchRecord], shard_size: int) -> list[Shard]:
    """Split records into shards of at most ``shard_size``; newest shard first."""
    ordered = sorted(records, key=lambda r: (r.date, r.url))
    if len(ordered) <= shard_size:
        return [Shard("all", tuple(ordered))] if ordered else []
    shards: list[Shard] = []
    for year, items in groupby(ordered, key=lambda r: r.day[:4]):
        items = list(items)
        if len(items) <= shard_size:
            shards.append(Shard(year, tuple(items)))
            continue
        months = [list(g) for _, g in groupby(items, key=lambda r: r.day[:7])]
        shards += _pack(months, shard_size, by_day=True)
    shards.sort(key=lambda s: (s.first, s.id), reverse=True)
    return shards


def _pack(groups: list[list[SearchRecord]], size: int, by_day: bool) -> list[Shard]:
    """Greedy packing of consecutive groups (months or days); oversized groups go one level
    down. A shard is named after its first group."""
    out: list[Shard] = []
    current: list[SearchRecord] = []
    name = ""

    def close():
        nonlocal current
        if current:
            out.append(Shard(name, tuple(current)))
            current = []

    for group in groups:
        key = group[0].day[:7] if by_day else group[0].day
        if len(group) > size:
            close()
            if by_day:
                days = [list(g) for _, g in groupby(group, key=lambda r: r.day)]
                out.extend(_pack(days, size, by_day=False))
            else:
                out.extend(_buckets(group, size, key))
            continue
        if len(current) + len(group) > size:
            close()
        if not current:
            name = key
        current.extend(group)
    close()
    return out


def _buckets(records: list[SearchRecord], size: int, day: str) -> list[Shard]:
    count = -(-len(records) // size) + 1  # one spare so hash luck rarely overfills a bucket
    buckets: list[list[SearchRecord]] = [[] for _ in range(count)]
    for r in records:
        h = int.from_bytes(hashlib.blake2b(r.url.encode(), digest_size=4).digest(), "big")
        buckets[h % count].append(r)
    return [Shard(f"{day}-b{i}", tuple(b)) for i, b in enumerate(buckets) if b]
