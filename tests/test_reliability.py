"""Reliability: odd input, kill -9 at random moments, two builds at once, stale caches, fuzzing."""

from __future__ import annotations

import fcntl
import os
import random
import re
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builder import cache
from builder.errors import BuildError
from builder.pipeline import BuildOptions, Builder
from conftest import NOW, Site, article, run_cli, topic

# ----------------------------------------------------------------------------- odd input


def test_a_20_mb_article_is_refused_clearly(site):
    site.write("content/articles/big.md", article("Big", "2024-01-01", "word " * 4_200_000))
    with pytest.raises(BuildError) as info:
        site.build()
    assert [str(d) for d in info.value.diagnostics] == [
        "content/articles/big.md: file is larger than 10 MB (split it into several articles)"]


def test_a_5000_level_nested_list_builds(site):
    body = "- " * 5000 + "deepest\n"  # each "- " opens a list inside the previous item
    site.write("content/articles/deep.md", article("Deep", "2024-01-01", body))
    site.build()
    html = site.read("articles/deep/index.html")
    assert html.count("<ul>") >= 5000 and "deepest" in html and html.rstrip().endswith("</html>")


def test_site_yaml_that_cannot_be_read(tmp_path):
    (tmp_path / "site.yaml").mkdir()  # as root, permissions can't make a file unreadable
    proc = run_cli("build", "--site", str(tmp_path))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "site.yaml: cannot read site.yaml: Is a directory (check the file's permissions)" in proc.stderr


# ----------------------------------------------------------------------------- crash safety

def _tree(folder: Path) -> dict[str, bytes]:
    out = {}
    for dirpath, _, files in os.walk(folder):
        for name in files:
            p = Path(dirpath) / name
            out[p.relative_to(folder).as_posix()] = p.read_bytes()
    return out


def _consistent(public: Path) -> None:
    """Every page the sitemap lists exists, and no HTML file is cut short."""
    sm = ET.fromstring((public / "sitemap.xml").read_bytes())
    for loc in sm.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc"):
        rel = loc.text.split("/news/", 1)[1]
        assert (public / rel / "index.html").is_file(), rel
    for page in public.rglob("*.html"):
        assert page.read_bytes().rstrip().endswith(b"</html>"), page


def _version(s: Site, n: int) -> None:
    """Two different versions of one site: the build after a switch changes many files."""
    for i in range(12):
        s.write(f"content/articles/a{i}.md", article(
            f"Story {i} version {n}", f"2024-0{1 + i % 9}-1{n}", f"Text {i} of version {n}.",
            topics=["t"], tags=[f"tag{(i + n) % 4}"]))
    extra = s.root / "content/articles/only-in-1.md"
    if n == 1:
        s.write("content/articles/only-in-1.md", article("Only in one", "2024-03-03"))
    elif extra.exists():
        extra.unlink()


def test_kill_9_at_random_moments_leaves_old_or_new_output(tmp_path):
    s = Site(tmp_path / "site")
    s.write("content/topics/t.md", topic("Topic", starts="2024-01-01"))
    trees = []
    for n in (0, 1):
        _version(s, n)
        started = time.monotonic()
        assert run_cli("build", "--site", str(s.root), "-q").returncode == 0
        took = time.monotonic() - started  # (a build that switches versions, start-up included)
        trees.append(_tree(s.public))
    assert trees[0] != trees[1]
    rng = random.Random(1234)
    kills = 0
    current = 1
    for attempt in range(150):
        if kills >= 55:
            break
        current = 1 - current
        _version(s, current)
        proc = subprocess.Popen([sys.executable, "-m", "builder", "build", "--site", str(s.root),
                                 "-q"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.0, took))  # any moment of a build, whatever its speed
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
        now = _tree(s.public)
        assert now in trees, f"attempt {attempt}: output is neither the old nor the new build"
        _consistent(s.public)
    assert kills >= 50, kills
    # and the site recovers: the next build completes and is exactly the current version
    assert run_cli("build", "--site", str(s.root), "-q").returncode == 0
    assert _tree(s.public) == trees[current]


def test_a_second_build_waits_for_the_first(tmp_path):
    s = Site(tmp_path / "site")
    s.write("content/articles/a.md", article("A", "2024-01-01"))
    (s.root / ".briefs-cache").mkdir()
    with open(s.root / ".briefs-cache/build.lock", "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # as if another build were running
        proc = subprocess.Popen([sys.executable, "-m", "builder", "build", "--site", str(s.root)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(2)
        assert proc.poll() is None, "the second build did not wait"
        assert not s.public.exists()
        fcntl.flock(held, fcntl.LOCK_UN)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0
    assert "another build of this site is running; waiting for it to finish" in err
    assert (s.public / "articles/a/index.html").is_file()


def test_cache_from_another_version_is_not_trusted(news_site, monkeypatch):
    news_site.build()
    monkeypatch.setattr(cache, "__version__", "0.0.0-another")
    result = news_site.build()
    assert result.parsed == 10 and result.rendered == sum(result.pages_by_kind.values())


# ----------------------------------------------------------------------------- fuzzing

text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)
odd_value = st.one_of(
    text, st.none(), st.booleans(), st.integers(-10**30, 10**30),
    st.floats(allow_nan=True), st.lists(text, max_size=3),
    st.dictionaries(text, text, max_size=2), st.just("2024-02-30"), st.just("2024-01-01"),
    st.just("2024-01-01T10:00:00+05:30"), st.just(""))
OPTIONAL_KEYS = {k: odd_value for k in ("title", "date", "slug", "summary", "topics", "tags",
                                         "source", "source_url", "author", "updated", "draft",
                                         "image", "image_caption", "related", "extra",
                                         "unknown_key")}
front = st.one_of(
    # anything at all where every key may be odd
    st.fixed_dictionaries({}, optional=OPTIONAL_KEYS),
    # a valid title and date, the rest odd: exercises rendering of odd but accepted values
    st.fixed_dictionaries({"title": text.filter(str.strip), "date": st.sampled_from(
        ["2024-01-01", "2023-12-31T23:59:59Z", "2024-02-29 10:00"])},
        optional={k: v for k, v in OPTIONAL_KEYS.items() if k not in ("title", "date", "unknown_key")}),
)
markdown_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=300) | \
    st.sampled_from(["# H\n\n- a\n  - b\n", "[x](javascript:alert(1))", "<script>x</script>",
                     "| a |\n|---|\n| b |", "```\ncode\n", "> q\n> > q", "\x00\x01\x7f"])


def _front_matter_yaml(data: dict) -> str:
    import yaml
    try:
        return yaml.safe_dump(data, allow_unicode=True)
    except Exception:
        return "title: x\n"


FUZZ_CASES = int(os.environ.get("BRIEFS_FUZZ_CASES", "10000"))


@pytest.mark.slow
def test_fuzzed_content_builds_or_fails_with_located_errors(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz")
    s = Site(root / "site")
    s.write("content/topics/t.md", topic("T"))
    builder = Builder(s.root, BuildOptions(jobs=1, now=NOW))
    s.write("content/articles/fuzz.md", article("Seed", "2024-01-01"))
    outside_before = sorted(p for p in root.rglob("*") if ".briefs-cache" not in p.parts
                            and "public" not in p.parts)
    seen = {"ok": 0, "errors": 0}

    @settings(max_examples=FUZZ_CASES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(data=front, body=markdown_text, raw=st.booleans(), junk=st.binary(max_size=40))
    def case(data, body, raw, junk):
        path = s.root / "content/articles/fuzz.md"
        if raw:  # not even valid front matter: arbitrary bytes
            path.write_bytes(b"---\n" + junk + b"\n---\n" + body.encode("utf-8", "replace"))
        else:
            path.write_text("---\n" + _front_matter_yaml(data) + "---\n" + body, encoding="utf-8")
        try:
            builder.build()
            seen["ok"] += 1
        except BuildError as exc:
            seen["errors"] += 1
            for d in exc.diagnostics:
                assert d.path and d.message, d
                assert d.path.startswith(("content/", "site.yaml", "templates/")), d
                assert "Traceback" not in str(d)

    case()
    outside_after = sorted(p for p in root.rglob("*") if ".briefs-cache" not in p.parts
                           and "public" not in p.parts)
    assert outside_after == outside_before, "the build wrote outside its output and cache"
    assert seen["ok"] + seen["errors"] >= FUZZ_CASES
    assert seen["ok"] > 0 and seen["errors"] > 0, seen
    for page in s.public.rglob("*.html"):
        assert "<script>x</script>" not in page.read_text()
