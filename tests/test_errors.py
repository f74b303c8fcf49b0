"""Bad input: one located line per problem, exit code 1, no traceback, public/ untouched.

Table-driven: each case writes a few files into a fresh site and names the message it expects.
"""

from __future__ import annotations

import pytest

from builder.errors import BuildError
from conftest import Site, article, run_cli, topic

GOOD_TOPIC = topic("Aleppo offensive", starts="2024-11-30")
A = "content/articles/2024/a.md"

CASES = [
    # (id, {path: content}, expected message fragment)
    ("unclosed-quote", {A: '---\ntitle: "Broken\ndate: 2024-01-01\n---\nBody\n'},
     f"{A}:2:8: a quoted value is not closed (add the closing quote)"),
    ("tab-indentation", {A: "---\ntitle: T\ndate: 2024-01-01\ntags:\n\t- x\n---\nBody\n"},
     f"{A}:5:1: a tab character is used for indentation (indent YAML with spaces)"),
    ("duplicate-key", {A: "---\ntitle: T\ndate: 2024-01-01\ntitle: U\n---\nBody\n"},
     f"{A}:4:1: duplicate key 'title' (it is first given on line 2; keep one)"),
    ("front-matter-not-closed", {A: "---\ntitle: T\ndate: 2024-01-01\nBody\n"},
     f"{A}:1:1: front matter is not closed"),
    ("no-front-matter", {A: "Just text\n"},
     f"{A}:1:1: no front matter: the file must start with a '---' line"),
    ("missing-title", {A: "---\ndate: 2024-01-01\n---\nBody\n"}, f"{A}:1: missing title"),
    ("empty-title", {A: "---\ntitle: ''\ndate: 2024-01-01\n---\nBody\n"}, f"{A}:2:1: title is empty"),
    ("missing-date", {A: "---\ntitle: T\n---\nBody\n"}, f"{A}:1: missing date"),
    ("impossible-date", {A: "---\ntitle: T\ndate: 2024-13-40\n---\n"},
     f"{A}:3:1: date: '2024-13-40' is not a valid date (month must be in 1..12)"),
    ("word-date", {A: "---\ntitle: T\ndate: yesterday\n---\n"},
     f"{A}:3:1: date: 'yesterday' is not an ISO 8601 date"),
    ("bad-offset", {A: "---\ntitle: T\ndate: 2024-01-01T10:00:00+25:00\n---\n"},
     f"{A}:3:1: date: '2024-01-01T10:00:00+25:00' is not a valid date and time"),
    ("boolean-date", {A: "---\ntitle: T\ndate: true\n---\n"}, f"{A}:3:1: date: True is not a date"),
    ("unknown-topic", {"content/topics/aleppo-offensive.md": GOOD_TOPIC,
                       A: "---\ntitle: T\ndate: 2024-01-01\ntopics:\n  - aleppo-offensive\n  - alepo-offensive\n---\n"},
     f"{A}:6:5: unknown topic 'alepo-offensive' (did you mean 'aleppo-offensive'?)"),
    ("topic-without-title", {"content/topics/t.md": "---\nsummary: S\n---\nIntro\n"},
     "content/topics/t.md:1: missing title"),
    ("duplicate-explicit-slug", {
        "content/articles/2023/x.md": article("X", "2023-01-01", slug="same"),
        "content/articles/2024/y.md": article("Y", "2024-01-01", slug="same")},
     "content/articles/2024/y.md:4:1: duplicate slug 'same': content/articles/2023/x.md has it too"),
    ("slug-asked-for-is-another-files-name", {
        "content/articles/2023/same.md": article("X", "2023-01-01"),
        "content/articles/2024/y.md": article("Y", "2024-01-01", slug="same")},
     "content/articles/2024/y.md:4:1: duplicate slug 'same': content/articles/2023/same.md has "
     "it (its file name)"),
    ("slug-with-slash", {A: article("T", "2024-01-01", slug="a/b")}, f"{A}:4:1: invalid slug 'a/b'"),
    ("slug-with-dots", {A: article("T", "2024-01-01", slug="../../etc")}, f"{A}:4:1: invalid slug '../../etc'"),
    ("slug-with-space", {A: article("T", "2024-01-01", slug="my slug")}, f"{A}:4:1: invalid slug 'my slug'"),
    ("slug-uppercase", {A: article("T", "2024-01-01", slug="Big")}, f"{A}:4:1: invalid slug 'Big'"),
    ("file-name-not-a-slug", {"content/articles/My Story.md": article("T", "2024-01-01")},
     "content/articles/My Story.md: file name 'My Story' is not a valid slug"),
    ("non-utf8", {A: b"---\ntitle: caf\xe9\ndate: 2024-01-01\n---\n"},
     f"{A}:2:11: not valid UTF-8 (byte 0xe9) (save the file as UTF-8)"),
    ("empty-file", {A: ""}, f"{A}:1:1: file is empty"),
    ("unknown-front-matter-key", {A: "---\ntitle: T\ndate: 2024-01-01\ntpoics: [x]\n---\n"},
     f"{A}:4:1: unknown front matter key 'tpoics' (did you mean 'topics'?)"),
    ("topics-not-a-list", {A: "---\ntitle: T\ndate: 2024-01-01\ntopics: {a: 1}\n---\n"},
     f"{A}:4:1: topics must be a list, not a mapping"),
    ("javascript-source-url", {A: article("T", "2024-01-01", source_url="javascript:alert(1)")},
     f"{A}:4:1: source_url must be an http(s) URL"),
    ("image-escaping-the-site", {A: article("T", "2024-01-01", image="../../secret.png")},
     f"{A}:4:1: image must not contain '..'"),
    ("ends-before-starts", {"content/topics/t.md": topic("T", starts="2024-02-01", ends="2024-01-01")},
     "content/topics/t.md:4:1: ends is before starts"),
    ("unknown-site-key", {"site.yaml": "title: T\nbase_url: https://x.org/\nper_pgae: 5\n"},
     "site.yaml:3:1: unknown key 'per_pgae'; did you mean 'per_page'? (see the configuration keys in the README)"),
    ("bad-base-url", {"site.yaml": "title: T\nbase_url: /briefs/\n"},
     "site.yaml:2:1: base_url: must be an absolute http(s) URL"),
    ("bad-timezone", {"site.yaml": "title: T\nbase_url: https://x.org/\ntimezone: Mars/Olympus\n"},
     "site.yaml:3:1: timezone: unknown time zone 'Mars/Olympus'"),
    ("bad-section-key", {"site.yaml": "title: T\nbase_url: https://x.org/\nrelated:\n  cuont: 3\n"},
     "site.yaml:4:3: related.cuont: unknown key 'cuont'; did you mean 'count'?"),
    ("template-syntax-error", {"templates/home.html": "{% extends 'base.html' %}\n{% block main %}\n{% if %}\n{% endblock %}\n"},
     "templates/home.html:3: template syntax error"),
    ("template-undefined-variable", {"templates/home.html": "{% extends 'base.html' %}\n{% block main %}\n<p>{{ nonsense.title }}</p>\n{% endblock %}\n"},
     "templates/home.html:3: 'nonsense' is undefined (while rendering /)"),
    ("nul-byte", {A: b"---\ntitle: T\ndate: 2024-01-01\n---\nText\x00more\n"},
     f"{A}:5: file contains a NUL byte (is this a binary file? remove it from content/)"),
    ("static-file-clashes-with-a-page", {"static/feed.xml": "<rss/>"},
     "static/feed.xml: static file clashes with the page /feed.xml (rename or move the file)"),
    ("page-takes-a-reserved-url", {"content/pages/tags.md": "---\ntitle: Tags\n---\n"},
     "content/pages/tags.md: page slug 'tags' is used by the site itself"),
    # a date Python can hold but not move to another zone, or chart a year past
    ("date-out-of-range", {A: "---\ntitle: T\ndate: 9999-12-31T23:00:00-05:00\n---\n"},
     f"{A}:3:1: date: '9999-12-31T23:00:00-05:00' is out of range (years 2 to 9998)"),
    ("topic-ends-in-year-9999", {"content/topics/t.md": topic("T", starts="2024-01-01",
                                                              ends="9999-12-31")},
     "content/topics/t.md:4:1: ends: '9999-12-31' is out of range (years 2 to 9998)"),
    ("template-not-utf8", {"templates/footer.html": b"<p>ok</p>\n<p>caf\xe9</p>\n"},
     "templates/footer.html:2:7: not valid UTF-8 (byte 0xe9) (save the file as UTF-8)"),
    ("base-url-breaking-out-of-attributes",
     {"site.yaml": 'title: T\nbase_url: "https://x.org/a\\"><script>/"\n'},
     "site.yaml:2:1: base_url: must not contain '\"', '<', '>' (percent-encode them"),
    ("content-articles-is-a-file", {"content/articles": "not a folder\n"},
     "content/articles: is not a folder"),
    ("nested-setting-out-of-range",
     {"site.yaml": "title: T\nbase_url: https://x.org/\nrelated:\n  weights:\n    text: 1\n"
                   "    title: -1\n"},
     "site.yaml:6:5: related.weights.title: must be at least 0, got -1"),
    ("cname-that-is-not-a-domain",
     {"site.yaml": "title: T\nbase_url: https://x.org/\npublish:\n  cname: 'https://x.org/ a'\n"},
     "site.yaml:4:3: publish.cname: must be a domain name such as news.example.org"),
]


def make(tmp_path, files) -> Site:
    s = Site(tmp_path / "site")
    if "content/articles" not in files:
        s.write("content/articles/2024/fine.md", article("Fine", "2024-01-02"))
    for rel, text in files.items():
        s.write(rel, text)
    return s


@pytest.mark.parametrize("case_id,files,expected", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_reported_with_its_location(tmp_path, case_id, files, expected):
    s = make(tmp_path, files)
    with pytest.raises(BuildError) as info:
        s.build()
    messages = [str(d) for d in info.value.diagnostics if d.severity == "error"]
    assert any(m.startswith(expected) for m in messages), messages


def test_every_error_is_reported_in_one_run(tmp_path):
    s = make(tmp_path, {"content/articles/a.md": "---\ntitle: A\n---\n",
                        "content/articles/b.md": "---\ntitle: B\ndate: nope\n---\n",
                        "content/articles/c.md": "no front matter\n"})
    with pytest.raises(BuildError) as info:
        s.build()
    paths = sorted({d.path for d in info.value.diagnostics})
    assert paths == ["content/articles/a.md", "content/articles/b.md", "content/articles/c.md"]


def test_cli_prints_one_line_per_error_and_exits_1(tmp_path):
    s = make(tmp_path, {"content/articles/b.md": "---\ntitle: B\ndate: nope\n---\n"})
    proc = run_cli("build", "--site", str(s.root))
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[0] == ("error: content/articles/b.md:3:1: date: 'nope' is not an ISO 8601 date "
                        "(write an ISO 8601 date such as 2024-12-02 or 2024-12-02T14:30:00+01:00)")
    assert lines[-1].startswith("build failed: 1 error;")


def test_missing_site_yaml(tmp_path):
    proc = run_cli("build", "--site", str(tmp_path))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "site.yaml: site.yaml not found" in proc.stderr


@pytest.mark.parametrize("case_id,files,expected",
                         [c for c in CASES if c[0] in ("impossible-date", "template-syntax-error",
                                                       "template-undefined-variable", "unknown-topic")],
                         ids=lambda v: v if isinstance(v, str) and "/" not in v and ":" not in v else "")
def test_failed_build_leaves_previous_output_untouched(tmp_path, case_id, files, expected):
    s = make(tmp_path, {"content/topics/aleppo-offensive.md": GOOD_TOPIC})
    s.build()
    s.build()  # two good builds, so the shadow generation exists too
    before = s.tree_digest()
    for rel, text in files.items():
        s.write(rel, text)
    with pytest.raises(BuildError):
        s.build()
    assert s.tree_digest() == before
    # and the next good build still produces a correct site
    for rel in files:
        (s.root / rel).unlink()
    s.build()
    assert "Fine" in s.read("articles/fine/index.html")


SCRIPT = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_script_in_content_never_reaches_pages_or_feeds_unescaped(tmp_path):
    s = Site(tmp_path / "site")
    s.write("content/topics/t.md", topic(f"Topic {SCRIPT}", summary=SCRIPT, body=SCRIPT))
    s.write("content/articles/a.md", article(
        f"Title {SCRIPT}", "2024-01-01", f"Body {SCRIPT}\n\n[click](javascript:alert(1))",
        summary=f"Summary {SCRIPT}", tags=[f"tag {SCRIPT}"], source=f"Src {SCRIPT}",
        topics=["t"], author=SCRIPT))
    s.build()
    for path in s.public.rglob("*"):
        if path.suffix in (".html", ".xml"):
            text = path.read_text()
            assert "<script>" not in text, path
            assert "<img src=x" not in text, path
            assert 'href="javascript:' not in text, path
    html = s.read("articles/a/index.html")
    assert "&lt;script&gt;" in html


def test_bad_site_yaml_reports_every_problem_at_once(tmp_path):
    s = Site(tmp_path / "site")
    s.write("site.yaml", "title: ''\nbase_url: nope\nper_page: 0\nlanguage: 12\ncolour: red\n")
    with pytest.raises(BuildError) as info:
        s.build()
    lines = sorted(d.line for d in info.value.diagnostics)
    assert lines == [1, 2, 3, 4, 5]


def test_symlink_loop_in_content_is_an_error_not_a_hang(tmp_path):
    s = make(tmp_path, {})
    (s.root / "content/articles/2024/loop").symlink_to(s.root / "content/articles")
    with pytest.raises(BuildError) as info:
        s.build()
    assert any(str(d).startswith("content/articles/2024/loop: symbolic link loop in content")
               for d in info.value.diagnostics)


def test_one_folder_linked_twice_is_named_as_such_not_as_a_loop(tmp_path):
    s = make(tmp_path, {})
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "x.md").write_text(article("X", "2024-01-05"))
    (s.root / "content/articles/one").symlink_to(shared)
    (s.root / "content/articles/two").symlink_to(shared)
    assert failures(s) == ["content/articles/one: the same folder as content/articles/two "
                           "(through a symbolic link) (keep one of the two)"]
    (s.root / "content/articles/two").unlink()
    s.build()
    assert "X" in s.read("articles/x/index.html")


def test_file_deleted_during_the_build(tmp_path, monkeypatch):
    """A file that vanishes between discovery and reading is reported, not a traceback."""
    from builder import sources
    s = make(tmp_path, {"content/articles/2024/gone.md": article("Gone", "2024-01-03")})
    real = sources.discover

    def discover_then_delete(root):
        refs, problems = real(root)
        (s.root / "content/articles/2024/gone.md").unlink()
        return refs, problems

    monkeypatch.setattr(sources, "discover", discover_then_delete)
    with pytest.raises(BuildError) as info:
        s.build()
    assert [str(d) for d in info.value.diagnostics] == [
        "content/articles/2024/gone.md: file disappeared during the build (run the build again)"]


def failures(s: Site, **options) -> list[str]:
    """The build's error lines (it must fail)."""
    with pytest.raises(BuildError) as info:
        s.build(**options)
    return [str(d) for d in info.value.diagnostics]


# ----------------------------------------------------------------------------- found in review

@pytest.mark.parametrize("out", ["content", "static", ".", "..", "elsewhere"])
def test_a_build_never_replaces_the_sites_own_files_or_a_foreign_folder(tmp_path, out):
    """--out content once moved content/ into the shadow, and the next build deleted it."""
    s = make(tmp_path, {"static/logo.txt": "logo"})
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere/precious.txt").write_text("keep me")
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    target = tmp_path / "elsewhere" if out == "elsewhere" else s.root / out
    with pytest.raises(BuildError) as info:
        s.build(out_dir=target)
    [problem] = info.value.diagnostics
    assert problem.path == "--out"
    assert ("holds the site's own files" if out != "elsewhere"
            else "is not empty and holds no built site") in problem.message
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


def test_an_empty_folder_or_an_earlier_build_may_be_the_output(tmp_path):
    s = make(tmp_path, {})
    out = tmp_path / "out"
    out.mkdir()
    s.build(out_dir=out)
    s.write("content/articles/2024/more.md", article("More", "2024-01-03"))
    s.build(out_dir=out)  # holds a built site now
    assert "More" in (out / "articles/more/index.html").read_text()


def test_cli_refuses_an_output_folder_inside_content(tmp_path):
    s = make(tmp_path, {})
    proc = run_cli("build", "--site", str(s.root), "--no-search", "--out", str(s.root / "content"))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: --out: ")
    assert "holds the site's own files" in proc.stderr
    assert (s.root / "content/articles/2024/fine.md").is_file()


def test_unreadable_static_files_are_located_errors_not_crashes_or_hangs(tmp_path):
    import os
    s = make(tmp_path, {})
    s.build()
    before = s.tree_digest()
    (s.root / "static").mkdir()
    (s.root / "static/logo.png").symlink_to(tmp_path / "nowhere.png")
    assert failures(s) == [
        "static/logo.png: cannot read the static file: No such file or directory "
        "(remove the link or point it at a file)"]
    (s.root / "static/logo.png").unlink()
    os.mkfifo(s.root / "static/pipe")  # reading it would block the build for ever
    assert failures(s) == [
        "static/pipe: not a plain file (a pipe, socket or device) (remove it from static/)"]
    assert s.tree_digest() == before


def test_feeds_stay_well_formed_xml_whatever_characters_the_text_holds(tmp_path):
    import xml.dom.minidom
    s = Site(tmp_path / "site")
    s.write("content/topics/t.md", topic("T"))
    s.write("content/articles/a.md", article(
        "Bell \uffff title", "2024-01-01", "A bell \x07, an escape \x1b and \ufffe in the body.",
        topics=["t"], summary="Form feed \x0c here"))
    s.build()
    for feed in ("feed.xml", "topics/t/feed.xml", "sitemap.xml"):
        xml.dom.minidom.parseString((s.public / feed).read_bytes())  # raises if not XML
    assert "A bell , an escape  and  in the body." in s.read("feed.xml")


def test_pins_that_name_no_article_are_warned_about_where_they_are_written(tmp_path):
    s = make(tmp_path, {"content/articles/2024/b.md":
                        "---\ntitle: B\ndate: 2024-01-03\nrelated:\n  - fien\n  - b\n  - fine\n---\nText.\n"})
    result = s.build()
    assert [str(d) for d in result.warnings if "related entry" in d.message] == [
        "content/articles/2024/b.md:5:5: related entry 'fien' is not an article; it is left out "
        "(did you mean 'fine'?)",
        "content/articles/2024/b.md:6:5: related entry 'b' names the article itself; it is left "
        "out (remove it)"]
    assert 'href="../../articles/fine/"' in s.read("articles/b/index.html")


def test_related_false_in_site_yaml_turns_the_lists_off(tmp_path):
    s = make(tmp_path, {"content/articles/2024/twin.md": article("Fine", "2024-01-03"),
                        "site.yaml": "title: T\nbase_url: https://x.org/\nrelated: false\n"})
    s.build()
    assert "data-briefs-related" not in s.read("articles/fine/index.html")
    s.write("site.yaml", "title: T\nbase_url: https://x.org/\n")
    s.build()
    assert "data-briefs-related" in s.read("articles/fine/index.html")


def test_content_files_that_are_never_read_are_warned_about(tmp_path):
    s = make(tmp_path, {"content/articles/2024/loud.MD": article("Loud", "2024-01-05"),
                        "content/topics/old/t.md": topic("T")})
    result = s.build()
    assert [str(d) for d in result.warnings[:2]] == [
        "content/articles/2024/loud.MD: not read: content files end in .md (rename it to loud.md)",
        "content/topics/old: folder not read: topics are the .md files directly in "
        "content/topics/ (move its files up)"]
    assert not (s.public / "articles/loud").exists()


def test_a_template_mistake_is_one_line_however_many_pages_it_breaks(tmp_path):
    s = make(tmp_path, {f"content/articles/2024/n{i}.md": article(f"N{i}", "2024-01-03")
                        for i in range(5)})
    s.write("templates/footer.html", "{{ nosuchvar.x }}\n")
    with pytest.raises(BuildError) as info:
        s.build()
    [problem] = info.value.diagnostics
    assert str(problem).startswith("templates/footer.html:1: 'nosuchvar' is undefined "
                                   "(while rendering / and ")
    pages = int(str(problem).split(" and ")[1].split(" other pages")[0])
    assert pages > 10  # every page but the first, each once


def test_a_named_pipe_in_content_is_an_error_not_a_hang(tmp_path):
    import os
    s = make(tmp_path, {})
    os.mkfifo(s.root / "content/articles/2024/pipe.md")
    assert failures(s) == [
        "content/articles/2024/pipe.md: not a plain file (a pipe, socket or device) "
        "(remove it from content/)"]


def test_a_static_link_to_a_file_outside_the_site_is_never_published(tmp_path):
    s = make(tmp_path, {"static/inside.txt": "shared"})
    (tmp_path / "secret.txt").write_text("do not publish")
    (s.root / "static/leak.txt").symlink_to(tmp_path / "secret.txt")
    (s.root / "static/alias.txt").symlink_to(s.root / "static/inside.txt")  # inside: fine
    assert failures(s) == [
        "static/leak.txt: links to a file outside the site folder (copy the file into static/ "
        "instead)"]
    (s.root / "static/leak.txt").unlink()
    s.build()
    assert s.read("alias.txt") == "shared"
