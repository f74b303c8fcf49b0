"""The body store: rendered article bodies live in a file in the build cache, not in memory or
in content.pickle, and every route (fresh parse, cache, edits, compaction, a damaged store)
reads the right body."""

from __future__ import annotations

import os
import pickle

import pytest

from builder import bodies, pipeline
from builder.errors import BuildError
from conftest import NOW, Site, article


def stores(site: Site) -> list:
    return sorted((site.root / ".briefs-cache").glob("bodies-*.bin"))


def marker(i: int, edit: int = 0) -> str:
    return f"Distinctive{i:03d}x{edit:02d} " + "lorem ipsum dolor " * 60


def write_articles(site: Site, n: int, edit: int = 0) -> None:
    for i in range(n):
        site.write(f"content/articles/2024/story-{i}.md",
                   article(f"Story {i}", f"2024-03-{1 + i % 28:02d}", marker(i, edit)))


def test_bodies_go_to_the_store_not_to_the_content_cache(site):
    write_articles(site, 3)
    result = site.build()
    pickled = (site.root / ".briefs-cache" / "content.pickle").read_bytes()
    [store] = stores(site)
    for i in range(3):
        text = marker(i).strip().encode()
        assert text not in pickled
        assert text in store.read_bytes()
        assert marker(i).strip() in site.read(f"articles/story-{i}/index.html")
    stored = next(a for a in result.site.articles if a.slug == "story-1").body_data
    assert isinstance(stored, bodies.Stored)
    # A build's result can still be read after the build closed the store.
    assert marker(1).strip() in next(a for a in result.site.articles if a.slug == "story-1").body_html


def test_a_build_from_the_cache_reads_each_article_its_own_body(site):
    write_articles(site, 4)
    site.build()
    site.write("content/articles/2024/story-2.md", article("Story 2", "2024-03-03", marker(2, 1)))
    result = site.build()
    assert result.parsed == 1
    for a in result.site.articles:
        i = int(a.slug.rsplit("-", 1)[1])
        assert a.body_html.startswith(f"<p>{marker(i, 1 if i == 2 else 0).split()[0]}")
    assert marker(2, 1).split()[0] in site.read("articles/story-2/index.html")
    assert marker(2).split()[0] not in site.read("articles/story-2/index.html")


def test_dead_bodies_are_compacted_away_and_output_matches_a_clean_build(site, tmp_path,
                                                                         monkeypatch):
    monkeypatch.setattr(pipeline, "COMPACT_MIN", 0)
    write_articles(site, 5)
    site.build()
    [first] = stores(site)
    live = first.stat().st_size
    for edit in range(1, 4):  # each round appends five new bodies; the old ones are dead
        write_articles(site, 5, edit)
        site.build()
    [last] = stores(site)
    assert last != first  # compacted into a new file, the old file removed
    assert live - 50 <= last.stat().st_size <= 2 * live + 50
    site.build()  # from the cache, reading the compacted store
    clean = site.clean_copy(tmp_path / "clean")
    clean.build()
    assert site.tree_digest() == clean.tree_digest()
    assert marker(3, 3).split()[0] in site.read("articles/story-3/index.html")


@pytest.mark.parametrize("damage", ["delete", "truncate"])
def test_a_missing_or_short_store_means_parsing_again(site, damage):
    write_articles(site, 3)
    site.build()
    before = site.tree_digest()
    [store] = stores(site)
    if damage == "delete":
        store.unlink()
    else:
        store.write_bytes(store.read_bytes()[:100])
    result = site.build()
    assert result.parsed == 3  # the content cache was not trusted
    assert site.tree_digest() == before
    assert len(stores(site)) == 1


def test_a_store_cut_short_while_in_use_is_a_clear_error(tmp_path):
    store = bodies.BodyStore.create(tmp_path)
    place = store.add(b"x" * 500)
    store.flush()
    os.truncate(store.path, 100)
    with pytest.raises(BuildError) as caught:
        place.read()
    assert "shorter than recorded" in str(caught.value)
    assert "delete the .briefs-cache folder" in str(caught.value)
    store.remove()


def test_places_pickle_compare_and_follow_a_compaction(tmp_path):
    store = bodies.BodyStore.create(tmp_path)
    dead = store.add(b"old body " * 100)
    a, b = store.add(b"alpha"), store.add("b\u00e9ta".encode())
    store.flush()
    shared = [a, a, b]  # one place held twice (a record and the site model) moves once
    assert pickle.loads(pickle.dumps(a)) == a and a != b
    assert store.dead(shared) == dead.size
    new = store.compact(shared)
    store.remove()
    assert [p.name for p in tmp_path.iterdir()] == [new.name]
    assert (a.name, a.offset, b.offset) == (new.name, 0, 5)
    assert a.read() == b"alpha" and bodies.read(b) == "b\u00e9ta".encode()
    assert bodies.read(b"in memory") == b"in memory"
    new.close()
    assert b.read() == "b\u00e9ta".encode()  # a closed store is still read


def test_appends_start_where_the_file_ends(tmp_path):
    # A preview and a `briefs build` can share one store file (each under the build lock):
    # a batch starts at the file's real end, not where this process last wrote.
    store = bodies.BodyStore.create(tmp_path)
    first = store.add(b"first")
    store.flush()
    with open(store.path, "ab") as other:
        other.write(b"written by another process")
    second = store.add(b"second")
    store.flush()
    assert first.read() == b"first" and second.read() == b"second"
    store.remove()


def test_creating_a_store_removes_leftover_store_files(tmp_path):
    (tmp_path / "bodies-0123456789ab.bin").write_bytes(b"left by a crashed build")
    (tmp_path / "keep.bin").write_bytes(b"not ours")
    store = bodies.BodyStore.create(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["keep.bin", store.name])
    store.remove()


def test_a_preview_session_leaves_a_store_the_next_build_reads(site, tmp_path, monkeypatch):
    # The preview appends edited bodies without saving the content cache; closing the session
    # saves it (compacting the store), and `briefs build` then reads every body from it.
    monkeypatch.setattr(pipeline, "COMPACT_MIN", 0)
    write_articles(site, 4)
    preview = pipeline.Builder(site.root, pipeline.BuildOptions(now=NOW, jobs=1), persist=False)
    preview.build()
    for edit in range(1, 6):  # five dead bodies beside four live ones: more than half is dead
        path = site.write("content/articles/2024/story-1.md",
                          article("Story 1", "2024-03-02", marker(1, edit)))
        preview.build(changed_paths={str(path)})
    preview.close()
    [store] = stores(site)
    assert marker(1, 4).split()[0].encode() not in store.read_bytes()  # compacted away
    result = site.build()
    assert result.parsed == 0  # everything came from the cache the preview left
    assert marker(1, 5).split()[0] in site.read("articles/story-1/index.html")
    clean = site.clean_copy(tmp_path / "clean")
    clean.build()
    assert site.tree_digest() == clean.tree_digest()
