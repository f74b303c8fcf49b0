"""The up-to-date check (builder.stamp): a build with nothing changed does nothing, and any change
to an input, the request or the output makes it build as usual."""

from __future__ import annotations

import os
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from builder import stamp
from builder.pipeline import BuildOptions
from conftest import NOW, article, run_cli


def age(root: Path, seconds: int = 3600) -> None:
    """Date every input file an hour back: files modified moments ago never get a stamp."""
    past = time.time() - seconds
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in ("public", ".briefs-cache")]
        for name in filenames:
            os.utime(Path(dirpath) / name, (past, past))


def check(site, **options):
    options.setdefault("now", NOW)
    return stamp.check(site.root, BuildOptions(**options))


@pytest.fixture
def built(news_site):
    age(news_site.root)
    news_site.build()
    return news_site


def test_unchanged_site_is_up_to_date_and_untouched(built):
    before = {p: p.stat().st_mtime_ns for p in built.public.rglob("*")}
    result = check(built)
    assert result is not None and result.up_to_date
    assert result.site is None and result.rendered == 0
    assert result.overview.articles == 5  # the report of the last build, said again
    assert sum(result.pages_by_kind.values()) > 10
    assert {p: p.stat().st_mtime_ns for p in built.public.rglob("*")} == before


@pytest.mark.parametrize("change", [
    "edit", "add", "delete", "template", "static", "config", "public-edit", "public-delete",
])
def test_any_change_means_a_real_build(built, change):
    root, public = built.root, built.public
    changed = None
    if change == "edit":
        changed = built.write("content/articles/2024/talks-resume.md", article(
            "Ceasefire talks resume in Cairo", "2024-12-01", "Delegations met in Cairo.",
            topics=["gaza-talks"]))
    elif change == "add":
        changed = built.write("content/articles/2024/new.md", article("New piece", "2024-12-04"))
    elif change == "delete":
        (root / "content/articles/2023/old-story.md").unlink()
    elif change == "template":
        changed = built.write("templates/partials/footer-extra.html", "<p>hi</p>")
    elif change == "static":
        changed = built.write("static/robots-extra.txt", "x")
    elif change == "config":
        text = (root / "site.yaml").read_text()
        changed = built.write("site.yaml", text.replace("Tiny test site", "Tiny test site!"))
    elif change == "public-edit":
        (public / "articles/rebels-attack-aleppo/index.html").write_text("vandalised")
    elif change == "public-delete":
        (public / "topics/index.html").unlink()
    if changed is not None:  # settled: only its metadata tells the change
        past = time.time() - 60
        os.utime(changed, (past, past))
    assert check(built) is None
    result = built.build()
    assert not result.up_to_date and result.site is not None
    assert check(built) is not None  # the new build left a stamp of its own


def test_a_clock_set_back_is_not_up_to_date(built):
    assert check(built, now=datetime(2025, 5, 31, tzinfo=timezone.utc)) is None


def test_a_different_request_is_not_up_to_date(built):
    assert check(built, search=False) is None
    assert check(built, related=False) is None
    assert check(built, drafts=True) is None
    assert check(built, out_dir=built.root / "elsewhere") is None
    assert check(built, incremental=False) is None
    assert check(built) is not None


def test_a_future_article_coming_due_means_a_real_build(built):
    assert check(built, now=datetime(2025, 12, 31, tzinfo=timezone.utc)) is not None
    assert check(built, now=datetime(2026, 1, 2, tzinfo=timezone.utc)) is None


def test_files_modified_moments_ago_leave_no_stamp(news_site):
    news_site.build()  # the fixture wrote every file just now
    assert check(news_site) is None
    age(news_site.root)
    news_site.build()
    assert check(news_site) is not None


def test_another_build_into_the_folder_voids_the_stamp(built):
    built.build(search=False)  # same folder, other options: the folder now lacks the index
    assert not (built.public / "pagefind").exists()
    assert check(built) is None
    assert check(built, search=False) is not None


def test_a_failed_build_leaves_no_stamp(built):
    built.write("content/articles/2024/talks-resume.md", "---\ntitle: [broken\n---\n")
    age(built.root)
    with pytest.raises(Exception):
        built.build()
    assert not list((built.root / ".briefs-cache").glob("stamp-*"))
    assert check(built) is None


def test_cli_says_nothing_changed(built):
    first = run_cli("build", "--site", str(built.root))
    assert first.returncode == 0, first.stderr
    assert "nothing changed" not in first.stdout  # run_cli's real clock differs from NOW
    second = run_cli("build", "--site", str(built.root))
    assert second.returncode == 0, second.stderr
    assert "nothing changed since the last one" in second.stdout
    assert "built 6 articles" in second.stdout  # the future one has come due by now
    assert "check" in run_cli("build", "--site", str(built.root), "--profile").stdout
    clean = run_cli("build", "--site", str(built.root), "--clean")
    assert "nothing changed" not in clean.stdout


def test_a_build_after_a_failed_check_uses_what_the_check_read(built, monkeypatch):
    # `briefs build` after an edit: the content folder is walked once, by the check, and the
    # build takes the files it found (and site.yaml's hash and the configuration) from it.
    from builder import pipeline, sources
    walks = []
    discover = sources.discover
    monkeypatch.setattr(sources, "discover", lambda root: walks.append(root) or discover(root))
    changed = built.write("content/articles/2024/talks-resume.md", article(
        "Ceasefire talks resume in Cairo", "2024-12-01", "Delegations met in Cairo.",
        topics=["gaza-talks"]))
    os.utime(changed, (time.time() - 60, time.time() - 60))  # settled: a stamp may follow
    found = stamp.look(built.root, BuildOptions(now=NOW))
    assert isinstance(found, stamp.Inputs) and len(found.refs) == 10
    result = pipeline.build(built.root, BuildOptions(now=NOW, jobs=1), found=found)
    assert len(walks) == 1 and result.parsed == 1
    assert "Delegations met in Cairo." in built.read("articles/talks-resume/index.html")
    assert check(built) is not None  # the build's stamp covers the files the check found
