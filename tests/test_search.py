"""The search stage on records: what the Pagefind bundles hold, bad input, incremental rebuilds,
failures. Reads Pagefind's own output (pagefind-entry.json and the page fragments)."""

from __future__ import annotations

import gzip
import json
import os
import stat
from dataclasses import replace
from pathlib import Path

import pytest

from builder.errors import BuildError, Diagnostic
from builder.search import SearchConfig, SearchRecord, run_search_stage
from builder.search.shards import plan


def rec(i: int, date: str, *, text: str | None = None, title: str | None = None,
        topic: str = "Syria offensive, Dec 2024", kind: str = "article", **kw) -> SearchRecord:
    return SearchRecord(
        url=kw.pop("url", f"articles/a{i}/"), kind=kind, title=f"Report number {i}" if title is None else title,
        text=f"Paragraph about item{i} and Aleppo.\n\nSecond paragraph." if text is None else text,
        date=date, meta=kw.pop("meta", {"source": "Wire Service", "date": date}),
        filters=kw.pop("filters", {"topic": [topic], "tag": ["conflict", f"t{i % 3}"],
                                   "source": ["Wire Service"], "year": [date[:4]]}), **kw)


def fragments(out: Path) -> dict[str, dict]:
    """url -> fragment JSON (url, content, meta, filters) of every page in every bundle."""
    pages = {}
    for path in (out / "pagefind").glob("*/fragment/*.pf_fragment"):
        raw = gzip.decompress(path.read_bytes())
        assert raw.startswith(b"pagefind_dcd")
        data = json.loads(raw[len(b"pagefind_dcd"):])
        assert data["url"].startswith("/")  # site-relative; the page adds its base path
        url = data["url"][1:]
        assert url not in pages
        pages[url] = data
    return pages


def entry_counts(out: Path) -> dict[str, int]:
    counts = {}
    for entry in (out / "pagefind").glob("*/pagefind-entry.json"):
        data = json.loads(entry.read_text())
        counts[entry.parent.name] = sum(v["page_count"] for v in data["languages"].values())
    return counts


def run(records, tmp_path, **config):
    out = tmp_path / "out"
    stats = run_search_stage(records, out, SearchConfig(**config), tmp_path / "cache",
                             language="en")
    return out, stats


# ----------------------------------------------------------------------------- config

def test_config_from_mapping_accepts_every_key():
    cfg, problems = SearchConfig.from_mapping({
        "enabled": False, "language": "AR", "exclude": ["topic", "/about/"], "shard_size": 800,
        "jobs": 1, "max_chars": 5000})
    assert problems == []
    assert cfg == SearchConfig(enabled=False, language="ar", exclude=("topic", "/about/"),
                               shard_size=800, jobs=1, max_chars=5000)


def test_config_reports_every_problem_with_a_hint():
    cfg, problems = SearchConfig.from_mapping({
        "enabeld": True, "language": "English", "exclude": [3], "shard_size": 10, "jobs": True})
    keys = dict(problems)
    assert keys["enabeld"] == "unknown key 'enabeld'; did you mean 'enabled'?"
    assert "language code" in keys["language"]
    assert "URL globs" in keys["exclude"]
    assert keys["shard_size"] == "must be a whole number from 100 to 1000000"
    assert "jobs" in keys
    assert cfg == SearchConfig()  # bad values keep their defaults


def test_config_excludes_kinds_and_url_globs():
    cfg = SearchConfig(exclude=("topic", "articles/2019-*", "/about/"))
    assert cfg.excludes("topic", "topics/x/")
    assert cfg.excludes("article", "articles/2019-budget/")
    assert cfg.excludes("article", "about/")
    assert not cfg.excludes("article", "articles/2020-budget/")


def test_site_yaml_search_section_is_validated(tmp_path):
    from builder.config import load_config
    (tmp_path / "site.yaml").write_text(
        "title: T\nbase_url: https://example.org/\nsearch:\n  shard_size: 5\n  exclud: [topic]\n")
    with pytest.raises(BuildError) as err:
        load_config(tmp_path)
    lines = str(err.value).splitlines()
    assert any(line.startswith("site.yaml:4:") and "search.shard_size" in line for line in lines)
    assert any(line.startswith("site.yaml:5:") and "did you mean 'exclude'" in line for line in lines)


# ----------------------------------------------------------------------------- shards

def dated(n: int, start: int = 0) -> list[SearchRecord]:
    """n records spread over 2023-2024, a few a day."""
    from datetime import date, timedelta
    first = date(2023, 1, 1)
    return [rec(i, (first + timedelta(days=(i * 731) // max(n, 1))).isoformat())
            for i in range(start, start + n)]


def test_shards_are_disjoint_date_runs_newest_first_and_bounded():
    records = dated(3000)
    shards = plan(records, 400)
    assert sum(len(s.records) for s in shards) == 3000
    assert all(len(s.records) <= 400 for s in shards)
    assert len({s.id for s in shards}) == len(shards)
    for newer, older in zip(shards, shards[1:]):
        assert older.last <= newer.first  # consecutive, non-overlapping, newest first
    assert plan(records[:300], 400)[0].id == "all"


def test_shard_plan_is_stable_under_edits_and_new_articles():
    records = dated(3000)
    before = {s.id: {r.url for r in s.records} for s in plan(records, 400)}
    edited = [replace(r, text=r.text + " more") if i % 7 == 0 else r for i, r in enumerate(records)]
    assert {s.id: {r.url for r in s.records} for s in plan(edited, 400)} == before
    newest = rec(99999, "2024-12-31")
    after = {s.id: {r.url for r in s.records} for s in plan(records + [newest], 400)}
    changed = [sid for sid in after if after[sid] != before.get(sid)]
    assert len(changed) == 1 and "articles/a99999/" in after[changed[0]]


def test_one_day_bigger_than_a_shard_is_split_into_buckets():
    records = [rec(i, "2024-05-05") for i in range(250)]
    shards = plan(records + dated(50), 100)
    assert all(len(s.records) <= 100 for s in shards)
    assert sum(len(s.records) for s in shards) == 300
    assert any(s.id.startswith("2024-05-05-b") for s in shards)


# ----------------------------------------------------------------------------- the index

def test_index_holds_exactly_the_records_with_their_filters_and_meta(tmp_path):
    records = [rec(i, f"2024-0{1 + i % 9}-1{i % 10}") for i in range(12)]
    records.append(SearchRecord(url="topics/syria/", kind="topic", title="Syria offensive, Dec 2024",
                                text="The rebel offensive.", date="2024-12-02",
                                meta={"count": "12 articles"}, filters={}))
    out, stats = run(records, tmp_path)
    assert stats.indexed == 13 and stats.records == 13 and stats.shards == 1
    assert entry_counts(out) == {"all": 13}
    pages = fragments(out)
    assert set(pages) == {r.url for r in records}
    a3 = pages["articles/a3/"]
    assert a3["filters"] == {"topic": ["Syria offensive, Dec 2024"], "tag": ["conflict", "t0"],
                             "source": ["Wire Service"], "year": ["2024"]}
    assert a3["meta"] == {"title": "Report number 3", "kind": "article", "iso": "2024-04-13",
                          "source": "Wire Service", "date": "2024-04-13"}
    assert "item3" in a3["content"] and "Report number 3" in a3["content"]
    assert pages["topics/syria/"]["filters"] == {}
    assert pages["topics/syria/"]["meta"]["kind"] == "topic"
    manifest = json.loads((out / "pagefind" / "shards.json").read_text())
    assert manifest["shards"] == [{"id": "all", "path": "all/", "first": "2024-01-10",
                                   "last": "2024-12-02", "pages": 13}]
    # only what the search page uses; Pagefind's stock UIs are dropped
    bundle = {p.name for p in (out / "pagefind" / "all").iterdir()}
    assert {"pagefind.js", "pagefind-worker.js", "pagefind-entry.json", "wasm.en.pagefind",
            "index", "fragment", "filter"} <= bundle
    assert "pagefind-ui.js" not in bundle and "files.json" not in bundle


def test_same_records_give_byte_identical_bundles(tmp_path):
    """Pagefind orders filters by a randomly seeded hash map; the stage sorts them, so
    indexing the same records twice (from scratch) writes the same bytes."""
    records = [rec(i, f"2024-0{1 + i % 9}-1{i % 10}") for i in range(20)]
    trees = []
    for n in range(3):
        out, _ = run(records, tmp_path / f"run{n}")
        trees.append({p.relative_to(out).as_posix(): p.read_bytes()
                      for p in (out / "pagefind").rglob("*") if p.is_file()})
    assert trees[0] == trees[1] == trees[2]
    assert any(path.endswith(".pf_filter") for path in trees[0])


def test_stabilized_filters_still_hold_every_value(tmp_path):
    from builder.search.stable import _load
    records = [rec(i, f"2024-0{1 + i % 9}-1{i % 10}") for i in range(9)]
    out, _ = run(records, tmp_path)
    filters = {}
    for path in (out / "pagefind" / "all" / "filter").glob("*.pf_filter"):
        name, values = _load(path.read_bytes())
        assert [v[0] for v in values] == sorted(v[0] for v in values)
        filters[name] = {v[0]: len(v[1]) for v in values}
    assert filters["tag"] == {"conflict": 9, "t0": 3, "t1": 3, "t2": 3}
    assert sum(filters["year"].values()) == 9


def test_a_record_without_words_is_left_out_not_an_error(tmp_path):
    """Found by the fuzz test: title '×' and an empty body give Pagefind nothing to index."""
    records = [rec(1, "2024-01-01"), rec(2, "2024-01-02", title="×", text="")]
    out, stats = run(records, tmp_path)
    assert set(fragments(out)) == {"articles/a1/"}
    assert stats.records == 2


def test_cancel_stops_indexing_quickly_and_keeps_the_cache_sound(tmp_path):
    """The preview cancels a search update when the editor saves again."""
    import threading
    import time
    from builder.search.stage import SearchCancelled
    records = [rec(i, f"2024-0{1 + i % 9}-1{i % 10}", text=f"Paragraph {i} " * 200)
               for i in range(3000)]
    cancel = threading.Event()
    threading.Timer(0.5, cancel.set).start()
    started = time.monotonic()
    with pytest.raises(SearchCancelled):
        run_search_stage(records, tmp_path / "out", SearchConfig(), tmp_path / "cache",
                         language="en", cancel=cancel)
    assert time.monotonic() - started < 10
    assert not (tmp_path / "out" / "pagefind").exists()
    out, stats = run(records[:50], tmp_path)  # the same cache works afterwards
    assert stats.indexed == 50


def test_exclude_and_duplicate_urls(tmp_path):
    records = [rec(1, "2024-01-01"), rec(2, "2024-01-02", url="about/"),
               rec(3, "2024-01-03", kind="topic", url="topics/x/"),
               rec(4, "2024-01-04", url="articles/a1/", title="Second record, same URL")]
    out, stats = run(records, tmp_path, exclude=("topic", "about/"))
    pages = fragments(out)
    assert set(pages) == {"articles/a1/"}
    assert pages["articles/a1/"]["meta"]["title"] == "Second record, same URL"
    assert [w.message for w in stats.warnings] == [
        "two search records for one URL; the last one is indexed"]


def test_bad_input_indexes_without_errors(tmp_path):
    huge = ("word " * 60_000) + "needleattheend"
    records = [
        rec(1, "2024-01-01", text=""),
        rec(2, "2024-01-02", text="", title=""),
        rec(3, "2024-01-03", text=huge),
        rec(4, "2024-01-04", title="قصف حلب", text="قالت وزارة الدفاع السورية إن حلب تعرضت لقصف.",
            topic="سوريا"),
        rec(5, "2024-01-05", title="<script>alert(1)</script> & co",
            text="<b>bold</b> <script>document.write('x')</script> &amp; AT&T </p>",
            meta={"source": 'Reuters, "London": <i>', "image": "media/a b.jpg"},
            filters={"tag": ["a:b, c", "<tag>"], "source": ['Reuters, "London": <i>']}),
        rec(6, "2024-01-06", text="nul\x00 bell\x07 lone \udcff surrogate ___PAGEFIND_WEIGHT___9 x"),
        rec(7, "not a date", text="undated"),
        rec(8, "2024-01-08", url="odd url/with space?x=1&y=<2>"),  # not a folder: sent as is
        rec(9, "2024-01-09", url="feed.xml"),
    ]
    out, stats = run(records, tmp_path, max_chars=20_000)
    pages = fragments(out)
    assert set(pages) == {r.url for r in records}
    assert pages["articles/a2/"]["meta"]["title"] == "articles/a2/"  # an empty title falls back
    assert len(pages["articles/a3/"]["content"]) < 21_000
    assert "needleattheend" not in pages["articles/a3/"]["content"]
    assert [w.path for w in stats.warnings] == ["articles/a3/"]
    assert "longer than 20,000 characters" in stats.warnings[0].message
    assert pages["articles/a4/"]["filters"]["topic"] == ["سوريا"]
    assert "حلب" in pages["articles/a4/"]["content"]
    a5 = pages["articles/a5/"]
    assert "<script>document.write('x')</script>" in a5["content"]  # text, shown escaped
    assert a5["meta"]["title"] == "<script>alert(1)</script> & co"
    assert a5["meta"]["source"] == 'Reuters, "London": <i>'
    assert a5["filters"] == {"tag": ["a:b, c", "<tag>"], "source": ['Reuters, "London": <i>']}
    assert pages["articles/a7/"]["meta"]["iso"] == "0000-00-00"


def test_unchanged_records_are_not_indexed_again(tmp_path):
    records = dated(600)
    out, first = run(records, tmp_path, shard_size=200)
    assert first.shards == first.shards_built >= 3
    before = {p: p.read_bytes() for p in (out / "pagefind").rglob("*") if p.is_file()}
    out, again = run(records, tmp_path, shard_size=200)
    assert again.shards_built == 0 and again.shards_reused == first.shards
    assert again.index_seconds == 0
    after = {p: p.read_bytes() for p in (out / "pagefind").rglob("*") if p.is_file()}
    assert after == before


def test_one_changed_article_rebuilds_only_its_shard(tmp_path):
    records = dated(600)
    out, first = run(records, tmp_path, shard_size=200)
    records[300] = replace(records[300], text="A correction: the bridge reopened.")
    out, second = run(records, tmp_path, shard_size=200)
    assert second.shards_built == 1 and second.shards_reused == first.shards - 1
    assert "correction" in fragments(out)["articles/a300/"]["content"]
    assert sum(entry_counts(out).values()) == 600


def test_digest_stands_in_for_text_and_text_loads_only_when_needed(tmp_path):
    calls = []

    def lazy(i):
        def load():
            calls.append(i)
            return f"lazy text {i}"
        return load

    records = [replace(rec(i, "2024-02-0%d" % (1 + i)), text="", digest=f"d{i}", load_text=lazy(i))
               for i in range(3)]
    out, _ = run(records, tmp_path)
    assert sorted(calls) == [0, 1, 2]
    assert "lazy text 1" in fragments(out)["articles/a1/"]["content"]
    calls.clear()
    run(records, tmp_path)
    assert calls == []


def test_put_receives_every_file_with_its_hash(tmp_path):
    from builder.write import digest
    got = {}
    stats = run_search_stage([rec(1, "2024-01-01")], None, SearchConfig(), tmp_path / "cache",
                             language="en", put=lambda rel, h, read: got.setdefault(rel, (h, read())))
    assert "pagefind/shards.json" in got and "pagefind/all/pagefind.js" in got
    assert len(got) == stats.files
    for rel, (h, data) in got.items():
        assert digest(data) == h, rel
    assert not (tmp_path / "out").exists()
    # the cache holds one pack per bundle, not thousands of files
    assert sorted(p.suffix for p in (tmp_path / "cache" / "search" / "bundles").iterdir()) == [".json", ".pack"]


def test_carry_index_keeps_the_last_published_files(tmp_path):
    from builder.search.published import carry_index

    class Gen:
        def __init__(self, live):
            self.live, self.carried = live, []

        def carry_many(self, rels):
            self.carried.extend(rels)

    assert not carry_index(Gen({}), tmp_path / "cache")  # nothing built yet
    published = {}
    run_search_stage(dated(300), None, SearchConfig(shard_size=100), tmp_path / "cache",
                     language="en", put=lambda rel, h, read: published.setdefault(rel, h))
    gen = Gen(published)
    assert carry_index(gen, tmp_path / "cache")
    assert sorted(gen.carried) == sorted(published)
    del published["pagefind/shards.json"]
    assert not carry_index(Gen(published), tmp_path / "cache")  # live output lacks a file


def test_empty_index(tmp_path):
    out, stats = run([], tmp_path)
    assert stats.indexed == 0
    assert json.loads((out / "pagefind" / "shards.json").read_text())["shards"] == []


# ----------------------------------------------------------------------------- failures

def fake_pagefind(tmp_path: Path, script: str) -> Path:
    path = tmp_path / "fake-pagefind"
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


@pytest.mark.parametrize("script", [
    'echo "pagefind: failed to allocate index: out of space" >&2; exit 3\n',
    'head -c 10 >/dev/null; echo "thread main panicked at index.rs:42" >&2; exit 101\n',
    'head -c 100 >/dev/null\n',  # reads a little, answers nothing, exits 0
])
def test_pagefind_failure_is_one_clear_error_and_keeps_the_old_index(tmp_path, monkeypatch, script):
    records = [rec(i, "2024-01-0%d" % (1 + i)) for i in range(5)]
    out, _ = run(records, tmp_path)
    old = {p: p.read_bytes() for p in (out / "pagefind").rglob("*") if p.is_file()}
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(fake_pagefind(tmp_path, script)))
    records[0] = replace(records[0], text="changed, so the shard must be indexed again")
    with pytest.raises(BuildError) as err:
        run(records, tmp_path)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith("pagefind: search index failed: Pagefind stopped")
    if "out of space" in script:
        assert "out of space" in message and "exit code 3" in message
    if "panicked" in script:
        assert "panicked at index.rs:42" in message
    if "head -c 100" in script:
        assert "ended without answering" in message
    assert {p: p.read_bytes() for p in (out / "pagefind").rglob("*") if p.is_file()} == old
    monkeypatch.delenv("PAGEFIND_BINARY_PATH")
    _, stats = run(records, tmp_path)  # the cache was not poisoned: it builds again
    assert stats.shards_built == 1


def test_missing_pagefind_binary_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(tmp_path / "does-not-exist"))
    with pytest.raises(BuildError) as err:
        run([rec(1, "2024-01-01")], tmp_path)
    assert "\n" not in str(err.value)
    assert str(err.value).startswith("pagefind: search index failed: cannot start Pagefind")
    assert "pip install" in str(err.value)


def test_each_bundle_reaches_the_writer_while_other_shards_index(tmp_path, monkeypatch):
    """A built shard's files go to the writer at once: here the second shard's indexing waits
    until the first shard's files have arrived, which could not happen if they came only at
    the end."""
    import asyncio
    import threading
    from builder.search import stage
    first_files = threading.Event()
    started: list[str] = []
    real = stage._build_shard

    async def build_shard(shard, *args):
        started.append(shard.id)
        if len(started) > 1:
            assert await asyncio.to_thread(first_files.wait, 10), "no file reached the writer"
        return await real(shard, *args)

    monkeypatch.setattr(stage, "_build_shard", build_shard)
    got: dict[str, str] = {}

    def put(rel, h, read):
        got[rel] = h
        assert read()  # the bytes can be read during the call
        first_files.set()

    records = [rec(i, f"{2021 + i % 3}-03-0{1 + i % 5}") for i in range(30)]
    stats = run_search_stage(records, None, SearchConfig(shard_size=10, jobs=1),
                             tmp_path / "cache", language="en", put=put)
    assert len(started) == stats.shards == 3
    assert set(got) == {rel for rel, _, _ in stats.outputs}
    assert list(got)[-1] == "pagefind/shards.json"  # the manifest last, once all exist


def test_a_writer_failure_stops_the_indexing(tmp_path, monkeypatch):
    """The first shard's files reach a writer that fails: the shards still waiting to be
    indexed are dropped at once, and nothing of them is cached."""
    import asyncio
    import time
    from builder.search import stage
    real = stage._build_shard
    started: list[str] = []

    async def build_shard(shard, *args):
        started.append(shard.id)
        if len(started) > 1:
            await asyncio.sleep(60)  # would be indexed long after the failure
        return await real(shard, *args)

    monkeypatch.setattr(stage, "_build_shard", build_shard)

    def put(rel, h, read):
        raise BuildError(Diagnostic("pagefind/x", None, None, "disk full"))

    records = [rec(i, f"{2021 + i % 3}-03-0{1 + i % 5}") for i in range(30)]
    begun = time.monotonic()
    with pytest.raises(BuildError, match="disk full"):
        run_search_stage(records, None, SearchConfig(shard_size=10, jobs=2),
                         tmp_path / "cache", language="en", put=put)
    assert time.monotonic() - begun < 30
    assert len(list((tmp_path / "cache" / "search" / "bundles").glob("*.pack"))) == 1


def test_scratch_left_by_a_killed_build_is_removed(tmp_path):
    """A build killed mid-way (SIGKILL, out of memory) leaves its scratch folder in /dev/shm;
    the next indexing removes folders of processes that no longer exist, and no others."""
    import subprocess
    import sys
    from builder.search.stage import SCRATCH_PREFIX, _scratch_root
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    root = _scratch_root(tmp_path / "cache" / "search" / "bundles")
    stale = root / f"{SCRATCH_PREFIX}{dead.pid}-all-test"
    live = root / f"{SCRATCH_PREFIX}{os.getpid()}-all-test"
    for folder in (stale, live):
        (folder / "articles" / "x").mkdir(parents=True)
        (folder / "articles" / "x" / "index.html").write_text("<p>left over</p>")
    try:
        run([rec(1, "2024-01-01")], tmp_path)
        assert not stale.exists()
        assert live.exists()  # this process's own folders may be in use
    finally:
        import shutil
        shutil.rmtree(stale, ignore_errors=True)
        shutil.rmtree(live, ignore_errors=True)
