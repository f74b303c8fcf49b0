"""Incremental builds: any sequence of edits gives byte-for-byte the output of a clean build."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import datetime, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builder import stamp
from builder.errors import BuildError
from builder.pipeline import Builder, BuildOptions, BuildResult, build
from conftest import NOW, Site, article, topic

TITLES = ["Rebels attack Aleppo", "Strikes kill 400", "Talks resume", "Hama falls",
          "Aid convoy reaches Idlib", "Ceasefire holds"]
TAGS = ["Syria", "syria", "Russia", "Aleppo", "Gaza", "Iran"]
SOURCES = ["Example Wire", "Other Desk", None]
DATES = ["2024-11-30", "2024-12-01T09:00:00Z", "2024-12-02", "2024-12-02T18:30:00+02:00",
         "2023-06-01", "2026-03-01"]

article_data = st.fixed_dictionaries({
    "title": st.sampled_from(TITLES),
    "date": st.sampled_from(DATES),
    "topics": st.lists(st.sampled_from(["aleppo", "gaza"]), unique=True, max_size=2),
    "tags": st.lists(st.sampled_from(TAGS), max_size=3),
    "source": st.sampled_from(SOURCES),
    "draft": st.booleans(),
    "body": st.sampled_from(["Short body.", "## Heading\n\nText with [a link](/topics/aleppo/).",
                             "Para one.\n\nPara two."]),
})
slugs = st.sampled_from(["a1", "a2", "a3", "a4", "a5"])
operations = st.lists(st.one_of(
    st.tuples(st.just("write"), slugs, article_data),
    st.tuples(st.just("delete"), slugs),
    st.tuples(st.just("rename"), slugs, slugs),
    st.tuples(st.just("topic"), st.sampled_from(["aleppo", "gaza"]), st.sampled_from(["A", "B"])),
    st.tuples(st.just("template"), st.booleans()),
    st.tuples(st.just("per_page"), st.integers(1, 3)),
), min_size=1, max_size=6)


def render_article(data: dict) -> str:
    front = {k: v for k, v in data.items() if k not in ("title", "date", "body") and v}
    return article(data["title"], data["date"], data["body"], **front)


def apply(site: Site, op: tuple) -> None:
    folder = site.root / "content/articles"
    if op[0] == "write":
        site.write(f"content/articles/{op[1]}.md", render_article(op[2]))
    elif op[0] == "delete":
        (folder / f"{op[1]}.md").unlink(missing_ok=True)
    elif op[0] == "rename":
        src, dst = folder / f"{op[1]}.md", folder / f"{op[2]}.md"
        if src.exists() and not dst.exists():
            src.rename(dst)
    elif op[0] == "topic":
        site.write(f"content/topics/{op[1]}.md", topic(f"Topic {op[1]} {op[2]}", starts="2024-11-01"))
    elif op[0] == "template":
        override = site.root / "templates/article.html"
        if op[1]:
            site.write("templates/article.html",
                       '{% extends "base.html" %}{% block main %}<h1>{{ article.title }}</h1>'
                       "{{ body|safe }}{% endblock %}\n")
        else:
            override.unlink(missing_ok=True)
    elif op[0] == "per_page":
        site.write("site.yaml", f"title: T\nbase_url: https://x.org/sub/\nper_page: {op[1]}\n")


def clean_build_digest(site: Site, tmp_path, **options) -> dict:
    clean = tmp_path / "clean"
    shutil.rmtree(clean, ignore_errors=True)
    shutil.copytree(site.root, clean, ignore=shutil.ignore_patterns("public", ".briefs-cache"))
    other = Site.__new__(Site)
    other.root = clean
    other.build(incremental=False, **options)
    return other.tree_digest()


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ops=operations)
def test_incremental_build_equals_clean_build(tmp_path_factory, monkeypatch, ops):
    """``briefs build``'s route: the up-to-date check first, then an incremental build."""
    monkeypatch.setattr(stamp, "SETTLE_NS", 0)  # every build here follows a write at once
    tmp_path = tmp_path_factory.mktemp("inc")
    site = Site(tmp_path / "site", {"title": "T", "base_url": "https://x.org/sub/", "per_page": 2})
    site.write("content/topics/aleppo.md", topic("Aleppo", starts="2024-11-01"))
    site.write("content/topics/gaza.md", topic("Gaza", starts="2024-11-01"))
    for slug, title in (("a1", TITLES[0]), ("a2", TITLES[1])):
        site.write(f"content/articles/{slug}.md", article(title, "2024-12-01", topics=["aleppo"],
                                                          tags=["Syria"]))
    site.build()
    for op in ops:
        apply(site, op)
        found = stamp.look(site.root, BuildOptions(now=NOW, jobs=1))
        if not isinstance(found, BuildResult):  # what the check read is handed on, as by the CLI
            build(site.root, BuildOptions(now=NOW, jobs=1), found=found)
        assert site.tree_digest() == clean_build_digest(site, tmp_path), op


def test_second_build_renders_only_what_changed(news_site):
    first = news_site.build()
    # every page is rendered; theme assets are copied and the search index is Pagefind's
    assert first.rendered == sum(first.pages_by_kind.values())
    assert first.files > first.rendered
    again = news_site.build()
    assert again.parsed == 0
    assert again.changed == 0 and again.removed == 0
    assert again.rendered == 1  # robots.txt, too cheap to track
    news_site.write("content/articles/2024/talks-resume.md", article(
        "Ceasefire talks resume in Cairo", "2024-12-01", "Delegations met in Cairo.",
        topics=["gaza-talks"], tags=["Gaza"], source="Other Desk"))
    edit = news_site.build()
    assert edit.parsed == 1
    # the article, its topic page and feed, tag, source and month pages, home, site feed,
    # topics index (its latest): not the other 25
    assert edit.rendered <= 11, edit.rendered
    assert "Cairo" in news_site.read("articles/talks-resume/index.html")
    assert "Cairo" in news_site.read("topics/gaza-talks/index.html")


def test_corrupted_cache_is_ignored_and_rebuilt(news_site):
    news_site.build()
    before = news_site.tree_digest()
    for f in (news_site.root / ".briefs-cache").glob("*.pickle"):
        data = bytearray(f.read_bytes())
        data[len(data) // 2] ^= 0xFF
        f.write_bytes(bytes(data))
    (news_site.root / ".briefs-cache/output.json").write_text("{not json")
    result = news_site.build()
    assert result.parsed == 10  # nothing trusted: every file parsed again
    assert news_site.tree_digest() == before


def test_tampered_output_is_repaired(news_site):
    news_site.build()
    before = news_site.tree_digest()
    (news_site.public / "articles/rebels-attack-aleppo/index.html").write_text("vandalised")
    (news_site.public / "topics/index.html").unlink()
    news_site.build()
    assert news_site.tree_digest() == before


# ---------------------------------------------------------------------------- the preview's route

BODIES = ["Short body.", "Para one.\n\nPara two, longer than before.", "Body edited in place."]
preview_operations = st.lists(st.one_of(
    st.tuples(st.just("write"), slugs, article_data),
    st.tuples(st.just("body"), slugs, st.sampled_from(BODIES)),
    st.tuples(st.just("delete"), slugs),
    st.tuples(st.just("rename"), slugs, slugs),
    st.tuples(st.just("topic"), st.sampled_from(["aleppo", "gaza"]), st.sampled_from(["A", "B"])),
    st.tuples(st.just("template"), st.booleans()),
    st.tuples(st.just("list_words"), st.booleans()),
    st.tuples(st.just("clock"), st.booleans()),
    st.tuples(st.just("broken"), slugs),
), min_size=1, max_size=8)


def edit_body(site: Site, slug: str, body: str) -> None:
    """Replace an article's body and keep its front matter: the edit the preview patches."""
    path = site.root / f"content/articles/{slug}.md"
    if path.exists():
        front = path.read_text().split("\n---\n", 1)[0]
        site.write(f"content/articles/{slug}.md", f"{front}\n---\n{body}\n")


LATER = datetime(2026, 6, 1, tzinfo=timezone.utc)  # past the future-dated article of DATES


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ops=preview_operations)
def test_preview_builds_equal_clean_builds(tmp_path_factory, ops):
    """The preview keeps its model in memory and patches it for body edits; after any sequence
    of saves (told to it as file events, as the watcher does) its output equals a clean build."""
    tmp_path = tmp_path_factory.mktemp("preview")
    site = Site(tmp_path / "site", {"title": "T", "base_url": "https://x.org/sub/", "per_page": 2})
    site.write("content/topics/aleppo.md", topic("Aleppo", starts="2024-11-01"))
    site.write("content/topics/gaza.md", topic("Gaza", starts="2024-11-01"))
    for slug, title in (("a1", TITLES[0]), ("a2", TITLES[1]), ("a3", TITLES[2])):
        site.write(f"content/articles/{slug}.md", article(
            title, "2024-12-01", "First body.", topics=["aleppo"], tags=["Syria"]))
    builder = Builder(site.root, BuildOptions(now=NOW, jobs=1), persist=False)
    builder.build()
    for op in ops:
        before = {p: p.stat().st_mtime_ns for p in site.root.rglob("*")
                  if p.is_file() and "public" not in p.parts and ".briefs-cache" not in p.parts}
        if op[0] == "body":
            edit_body(site, op[1], op[2])
        elif op[0] == "list_words":  # a site template showing a body field in a list
            path = site.root / "templates/topic.html"
            if op[1]:
                site.write("templates/topic.html",
                           '{% extends "base.html" %}{% block main %}{% for a in articles %}'
                           "<p>{{ a.title }}: {{ a.word_count }} words</p>{% endfor %}"
                           "{% endblock %}\n")
            else:
                path.unlink(missing_ok=True)
        elif op[0] == "clock":
            builder.options = replace(builder.options, now=LATER if op[1] else NOW)
        elif op[0] == "broken":  # a save with bad front matter: the build fails, then recovers
            site.write(f"content/articles/{op[1]}.md", "---\ntitle: [unclosed\n---\nBody.\n")
        else:
            apply(site, op)
        after = {p for p in site.root.rglob("*")
                 if p.is_file() and "public" not in p.parts and ".briefs-cache" not in p.parts}
        touched = {str(p) for p in after if before.get(p) != p.stat().st_mtime_ns}
        touched |= {str(p) for p in before.keys() - after}
        try:
            builder.build(changed_paths=touched)
        except BuildError:
            with pytest.raises(BuildError):  # a clean build fails too
                clean_build_digest(site, tmp_path, now=builder.options.now)
            continue
        expected = clean_build_digest(site, tmp_path, now=builder.options.now)
        assert site.tree_digest() == expected, op


def test_body_edit_renders_the_article_not_the_lists(news_site):
    """A save that changes only an article's body (not its title, summary or dates) renders
    its own page and feeds, not the topic, tag, source or archive pages listing it."""
    builder = Builder(news_site.root, BuildOptions(now=NOW, jobs=1), persist=False)
    builder.build()
    path = news_site.root / "content/articles/2024/talks-resume.md"
    front, body = path.read_text().split("\n---\n", 1)
    path.write_text(f"{front}\n---\n{body}\n\nA new closing paragraph about Cairo.\n")
    result = builder.build(changed_paths={str(path)})
    assert builder.edited and builder.edited[0].slug == "talks-resume"  # patched, not rebuilt
    assert "closing paragraph" in news_site.read("articles/talks-resume/index.html")
    # its own page, its topic's feed and the site feed (the body is in them), robots.txt
    assert result.rendered <= 4, result.rendered
    # a title edit changes the lists
    path.write_text(path.read_text().replace("title: ", "title: Updated ", 1))
    result = builder.build(changed_paths={str(path)})
    assert "Updated " in news_site.read("topics/gaza-talks/index.html")
    assert result.rendered > 4


def test_generations_share_unchanged_files_and_a_write_never_shows_through(news_site,
                                                                          monkeypatch):
    """After a build into an empty shadow, the shadow holds hard links to the live files
    rather than copies. Writing a changed page into the shadow must replace its file, not
    write over it, or the change would show in public/ before the swap (or after a failed
    build)."""
    import os

    from builder import pipeline
    from builder.errors import Diagnostic
    news_site.build()
    news_site.write("content/articles/2024/talks-resume.md", article(
        "Talks resume", "2024-12-01", "First version.", topics=["gaza-talks"]))
    news_site.build()  # the shadow (the first build) was empty: it got the unchanged pages
    (shadow,) = (news_site.root / ".briefs-cache").glob("shadow-*")
    page = "articles/rebels-reach-hama/index.html"
    assert os.path.samefile(shadow / page, news_site.public / page)
    before = news_site.tree_digest()
    hama = "content/articles/2024/rebels-reach-hama.md"
    news_site.write(hama, news_site.root.joinpath(hama).read_text().replace(
        "outskirts", "centre"))

    def fail(*args, **kwargs):
        raise BuildError(Diagnostic("static", None, None, "disk full"))
    with monkeypatch.context() as m:
        m.setattr(pipeline, "copy_files", fail)
        with pytest.raises(BuildError):
            news_site.build()
    assert "centre" in (shadow / page).read_text()  # rendered into the shadow
    assert news_site.tree_digest() == before  # and not into public/
    news_site.build()
    assert "centre" in news_site.read(page)
    assert "outskirts" in (shadow / page).read_text()  # the old generation kept its bytes


def test_without_hard_links_the_shadow_gets_copies(news_site, monkeypatch):
    """On a filesystem that refuses hard links (vfat says EPERM) the pages are copied, once
    the first refusal is seen, and the build is the same."""
    import errno
    import os

    from builder import write
    calls = []

    def refuse(src, dst):
        calls.append(dst)
        raise OSError(errno.EPERM, "Operation not permitted")
    news_site.build()
    news_site.write("content/articles/2024/talks-resume.md", article(
        "Talks resume", "2024-12-01", "First version.", topics=["gaza-talks"]))
    monkeypatch.setattr(write.os, "link", refuse)
    news_site.build()
    (shadow,) = (news_site.root / ".briefs-cache").glob("shadow-*")
    page = "articles/rebels-reach-hama/index.html"
    assert len(calls) == 1  # not tried again after the refusal
    assert not os.path.samefile(shadow / page, news_site.public / page)
    assert (shadow / page).read_bytes() == (news_site.public / page).read_bytes()
    monkeypatch.undo()
    before = news_site.tree_digest()
    shutil.rmtree(news_site.public)
    shutil.rmtree(news_site.root / ".briefs-cache")
    news_site.build()
    assert news_site.tree_digest() == before


def test_tampered_shadow_is_checked_before_it_goes_live(news_site):
    """The shadow folder is checked lazily (an unchanged build checks nothing); a build that
    swaps it in must still not publish a file someone changed or removed there."""
    news_site.build()
    news_site.write("content/articles/2024/talks-resume.md", article(
        "Talks resume", "2024-12-01", "First version.", topics=["gaza-talks"]))
    news_site.build()  # the shadow now holds the first build's files
    shadows = list((news_site.root / ".briefs-cache").glob("shadow-*"))
    assert len(shadows) == 1
    (shadows[0] / "articles/rebels-attack-aleppo/index.html").write_text("vandalised")
    (shadows[0] / "tags/index.html").unlink()
    news_site.write("content/articles/2024/talks-resume.md", article(
        "Talks resume", "2024-12-01", "Second version.", topics=["gaza-talks"]))
    news_site.build()
    assert "vandalised" not in news_site.read("articles/rebels-attack-aleppo/index.html")
    assert (news_site.public / "tags/index.html").is_file()
    assert "Second version." in news_site.read("articles/talks-resume/index.html")


def test_saved_state_holds_each_dependency_key_once(news_site):
    # Every page names its keys ("a:slug", "n:tag:syria", ...); the state written for the next
    # build must share one string per key, or its file and its save's memory grow with the
    # number of pages times their keys.
    import pickle

    from builder import cache
    news_site.build()
    news_site.write("content/articles/2024/talks-resume.md", article(
        "Ceasefire talks resume in Doha", "2024-12-01", "Delegations met in Doha again.",
        topics=["gaza-talks"], tags=["Gaza"], source="Other Desk"))
    news_site.build()  # an incremental build: carried pages' keys too
    (path,) = (news_site.root / ".briefs-cache").glob("state-*.pickle")
    state = pickle.loads(path.read_bytes()[len(cache.MAGIC) + 48:])
    seen: dict[str, int] = {}
    for keys in state["deps"].values():
        for key in keys:
            assert seen.setdefault(key, id(key)) == id(key), key
    assert sum(len(keys) for keys in state["deps"].values()) > 2 * len(seen)
    assert all(id(k) == seen[k] for k in state["signature"] if k in seen)


def _topdir(folder) -> bool | None:
    """Whether ext4's "top directory" flag is set (None: the filesystem has no such flags)."""
    import fcntl
    import os
    import struct
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        flags = struct.unpack("l", fcntl.ioctl(fd, 0x80086601, struct.pack("l", 0)))[0]
    except OSError:
        return None
    finally:
        os.close(fd)
    return bool(flags & 0x00020000)


def test_page_folders_are_spread_over_the_disk_where_ext4_allows(news_site, monkeypatch):
    """The folders holding one folder per page (articles/, tags/...) are marked as top
    directories for ext4's allocator (write.spread: new files after a big delete are
    slow otherwise); a filesystem without the flag builds all the same."""
    import sys
    if not sys.platform.startswith("linux"):
        pytest.skip("the flag is Linux's")
    news_site.build()
    flags = {name: _topdir(news_site.public / name) for name in ("articles", "tags", "topics")}
    if None in flags.values():
        pytest.skip("this filesystem has no inode flags (not ext4)")
    assert flags == {"articles": True, "tags": True, "topics": True}
    assert _topdir(news_site.public / "articles" / "rebels-attack-aleppo") is False
    expected = news_site.tree_digest()

    import errno

    from builder import write

    def refuse(fd, request, arg):
        raise OSError(errno.ENOTTY, "not a typewriter")
    monkeypatch.setattr(write.fcntl, "ioctl", refuse)
    shutil.rmtree(news_site.public)
    shutil.rmtree(news_site.root / ".briefs-cache")
    news_site.build()
    assert news_site.tree_digest() == expected
