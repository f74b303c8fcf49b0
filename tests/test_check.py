"""briefs check: links, assets and #fragments in the output, traced to their Markdown lines."""

from __future__ import annotations

import http.server
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from builder import links
from builder.check import check_external, check_output
from conftest import NOW, REPO, Site, article, topic

BODY = """\
First paragraph with [a fine link](/articles/other/) and [another](../other/).

See [the missing story](/articles/missing/).

Jump to [a heading that is not there](#no-such-heading), or [one that is](#background).

## Background

[Bad anchor on another page](/articles/other/#nowhere) and [a good one](/articles/other/#reaction).

Written by hand: [a local draft](http://localhost:8000/draft) and [loopback](http://127.0.0.1/x).

![A missing picture](/images/nope.png)

Reference style: [the archive][old]. Once more: [missing again](/articles/missing/).

[old]: /articles/also-missing/
"""


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "builder", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300, env={**__import__("os").environ,
                                                       "PYTHONPATH": str(REPO)})


def line_of(site: Site, rel: str, needle: str) -> int:
    lines = (site.root / rel).read_text().split("\n")
    return next(i + 1 for i, line in enumerate(lines) if needle in line)


@pytest.fixture
def broken(site) -> Site:
    site.write("content/topics/aleppo.md", topic("Aleppo", "Background."))
    site.write("content/articles/2024/other.md", article(
        "Other", "2024-11-30", "Text.\n\n## Reaction\n\nMore.", topics=["aleppo"]))
    site.write("content/articles/2024/x.md", article(
        "X", "2024-12-01", BODY, topics=["aleppo"], image="/images/lead.jpg"))
    return site


def test_broken_links_and_anchors_are_named_at_their_markdown_lines(broken):
    proc = run("check", "--site", str(broken.root))
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    x = "content/articles/2024/x.md"

    def at(needle: str) -> str:
        return f"error: {x}:{line_of(broken, x, needle)}: "

    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    expected = [
        at("[the missing story]") + "link to /articles/missing/ not found",
        at("[a heading that is not there]") +
        "link to #no-such-heading: this page has no id 'no-such-heading'",
        at("[Bad anchor on another page]") +
        "link to /articles/other/#nowhere: the linked page has no id 'nowhere'",
        at("[a local draft]") + "link to http://localhost:8000/draft points at this computer "
                                "(localhost)",
        at("[loopback]") + "link to http://127.0.0.1/x points at this computer (localhost)",
        at("![A missing picture]") + "link to /images/nope.png not found",
        at("[old]: ") + "link to /articles/also-missing/ not found",
        at("[missing again]") + "link to /articles/missing/ not found",
        at("image: /images/lead.jpg") + "link to /images/lead.jpg not found",
    ]
    for line in expected:
        assert any(e.startswith(line) for e in errors), (line, errors)
    assert len(errors) == len(expected), errors  # each once; the fine links are not reported
    assert "9 errors" in proc.stderr


def test_a_clean_site_passes(news_site):
    proc = run("check", "--site", str(news_site.root))
    assert proc.returncode == 0, proc.stderr
    assert "no problems" in proc.stdout
    assert proc.stderr == ""


def test_the_demo_site_passes(tmp_path):
    proc = run("check", "--site", str(REPO), "--out", str(tmp_path / "demo"))
    assert proc.returncode == 0, proc.stderr
    assert "no problems" in proc.stdout


def test_template_problems_are_reported_once_at_an_output_page(news_site):
    news_site.write("templates/footer.html",
                    '<p><a href="{{ root }}nowhere/">Gone</a> '
                    '<a href="file:///home/editor/notes.html">notes</a> '
                    '<a href="/elsewhere/">outside /news/</a> '
                    '<a href="{{ root }}../up.html">up</a> '
                    '<a href="#footer-top">top</a></p>\n')
    proc = run("check", "--site", str(news_site.root))
    assert proc.returncode == 1
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 5, errors
    text = "\n".join(errors)
    pages = sum(1 for p in news_site.public.rglob("*.html"))
    assert "public/404.html: link to /news/nowhere/ not found" in text
    assert f"also on {pages - 1} other pages" in text
    assert "link to file:///home/editor/notes.html points at a file on your computer" in text
    assert "link to /elsewhere/ is outside the site, which is served under /news/" in text
    assert "link to /up.html is outside the site" in text  # ../ from the root, on every page
    assert "link to #footer-top: this page has no id 'footer-top'" in text


def test_check_without_building_reads_the_output_as_it_is(news_site):
    news_site.build()
    (news_site.public / "tags/index.html").unlink()
    proc = run("check", "--site", str(news_site.root), "--no-build")
    assert proc.returncode == 1
    assert "link to /news/tags/ not found" in proc.stderr
    assert not (news_site.public / "tags/index.html").exists()  # not rebuilt
    empty = run("check", "--site", str(news_site.root), "--no-build", "--out",
                str(news_site.root / "nothing"))
    assert empty.returncode == 1 and "no built site here" in empty.stderr


def test_css_references_and_sitemap_are_checked(news_site):
    news_site.write("static/css/extra.css", "@font-face { src: url('../fonts/missing.woff2'); }\n"
                    "body { background: url(data:image/png;base64,AAAA); }\n")
    news_site.write("static/fonts/.keep", "")
    result = news_site.build()
    sitemap = news_site.public / "sitemap.xml"
    sitemap.write_text(sitemap.read_text().replace("</urlset>",
                       "<url><loc>https://example.org/news/gone/</loc></url></urlset>"))
    report = check_output(news_site.public, result.config, result.site, display="public")
    messages = [str(d) for d in report.errors]
    assert "public/css/extra.css: link to /news/fonts/missing.woff2 not found" in messages
    assert "public/sitemap.xml: link to /news/gone/ not found" in messages
    assert len(messages) == 2, messages


def test_links_that_leave_the_base_path_or_go_to_the_root_are_resolved_right():
    r = links.Resolver("https://example.org/news/")
    page = "articles/x/index.html"
    assert r.resolve("../../topics/t/", page) == links.Internal("topics/t/", None)
    assert r.resolve("../y/#top", page) == links.Internal("articles/y/", "top")
    assert r.resolve("./", page) == links.Internal("articles/x/", None)
    assert r.resolve("#a%20b", page) == links.Internal(None, "a b")
    assert r.resolve("?page=2", page) == links.Internal(None, None)
    assert r.resolve("/news/feed.xml", page) == links.Internal("feed.xml", None)
    assert r.resolve("/news", page) == links.Internal("", None)
    assert r.resolve("https://example.org/news/a/#b", page) == links.Internal("a/", "b")
    assert r.resolve("https://EXAMPLE.org/news/caf%C3%A9/", page) == links.Internal("café/", None)
    assert r.resolve("https://example.org/other/", page) == \
        links.External("https://example.org/other/")
    assert r.resolve("//cdn.example.net/x.js", page) == \
        links.External("https://cdn.example.net/x.js")
    assert r.resolve("mailto:desk@example.org", page) is None
    assert r.resolve("", page) is None
    assert r.resolve("/topics/", page).kind == "outside"
    assert r.resolve("../../../x", page) == links.Problem("outside", "/x")
    assert r.resolve("/news/a/../../b", page) == links.Problem("outside", "/b")
    for local in ("http://localhost/", "https://127.0.0.1:8443/", "http://[::1]/",
                  "http://app.localhost/", "http://0.0.0.0:8000/"):
        assert r.resolve(local, page).kind == "localhost", local
    assert r.resolve("FILE:///etc/passwd", page).kind == "file"
    root = links.Resolver("https://example.org/")
    assert root.resolve("/topics/", page) == links.Internal("topics/", None)
    assert root.resolve("../../../../x", page) == links.Internal("x", None)  # as browsers do


def test_fast_and_general_html_scans_agree(news_site):
    news_site.build()
    for page in news_site.public.rglob("*.html"):
        data = page.read_bytes()
        assert links.scan_html(data) == links.scan_html_slowly(data)[0], page
        assert links.html_ids(data) and all(links.has_id(data, i) for i in links.html_ids(data))
    odd = b"<a HREF='x/'>x</a><img src=y.png srcset='a.png 1x, b.png 2x'><p ID=k>"
    assert links.scan_html(odd) == {"x/", "y.png", "a.png", "b.png"}
    assert links.html_ids(odd) == {"k"} and links.has_id(odd, "k") and not links.has_id(odd, "x")


def test_markdown_links_know_their_lines():
    body = "Intro.\n\n* [a](/a/)\n* [b](/b/ \"title\")\n\nPara with\n[c](/c/) inside.\n\n[r]: /r/\n\n[x][r]\n"
    found = {(link.target, link.line) for link in links.markdown_links(body, 10)}
    assert found == {("/a/", 12), ("/b/", 13), ("/c/", 16), ("/r/", 18)}


# ----------------------------------------------------------------------------- --external

class Handler(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []
    active = 0
    most = 0
    lock = threading.Lock()

    def log_message(self, *args):
        pass

    def _answer(self, body: bool):
        cls = type(self)
        counted = self.path.startswith("/slow")  # others may outlive a client's timeout
        with cls.lock:
            cls.hits.append(f"{self.command} {self.path}")
            cls.active += counted
            cls.most = max(cls.most, cls.active)
        try:
            if counted:
                time.sleep(0.3)
        finally:
            # Counted off before answering: once the client has the answer it may send its
            # next request, which must not find this one still counted.
            with cls.lock:
                cls.active -= counted
        if self.path.startswith("/gone"):
            self.send_response(404)
        elif self.path.startswith("/no-head") and self.command == "HEAD":
            self.send_response(405)
        elif self.path.startswith("/moved"):
            self.send_response(301)
            self.send_header("Location", "/gone")
        elif self.path.startswith("/hang"):
            time.sleep(8)
            self.send_response(200)
        else:
            self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_HEAD(self):
        self._answer(False)

    def do_GET(self):
        self._answer(True)


@pytest.fixture
def server():
    Handler.hits, Handler.active, Handler.most = [], 0, 0
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_external_links_are_asked_about_with_bounds_and_a_cache(server, tmp_path):
    urls = [f"{server}/ok", f"{server}/gone", f"{server}/no-head", f"{server}/moved",
            f"{server}/hang"] + [f"{server}/slow/{i}" for i in range(16)]
    cache = tmp_path / "external-links.json"
    answers = check_external(urls, cache, workers=8, per_host=8, timeout=3.0)
    assert answers[f"{server}/ok"] == (None, "")
    assert answers[f"{server}/gone"] == ("error", "HTTP 404")
    assert answers[f"{server}/no-head"] == (None, "")  # HEAD refused, GET answered
    assert answers[f"{server}/moved"] == ("error", "HTTP 404")  # followed to a 404
    assert answers[f"{server}/hang"][0] == "warning"
    assert "no answer within 3 s" in answers[f"{server}/hang"][1]
    assert all(answers[f"{server}/slow/{i}"] == (None, "") for i in range(16))
    assert 1 < Handler.most <= 8  # concurrent, and bounded

    Handler.hits = []
    again = check_external(urls, cache, workers=8, per_host=8, timeout=3.0)
    assert again == answers
    asked = {hit.split()[1] for hit in Handler.hits}
    assert asked == {"/gone", "/moved", "/hang"}  # good answers came from the cache

    Handler.most = 0
    check_external([f"{server}/slow/x{i}" for i in range(6)], cache, workers=8, per_host=2)
    assert Handler.most <= 2  # per host


def test_external_problems_are_traced_to_markdown(site, tmp_path):
    site.write("content/articles/2024/a.md", article(
        "A", "2024-12-01", "Para.\n\nSee [the report](https://wire.example/gone) and "
        "[the other](https://wire.example/fine).", source_url="https://wire.example/src"))
    site.write("content/articles/2024/b.md", article(
        "B", "2024-12-02", "Also [gone](https://wire.example/gone)."))
    result = site.build()
    asked = []

    def fetch(url, timeout):
        asked.append(url)
        return (404, "HTTP 404") if url.endswith("/gone") else (200, "")

    report = check_output(site.public, result.config, result.site, external=True, fetch=fetch,
                          cache_dir=tmp_path)
    assert sorted(asked) == ["https://wire.example/fine", "https://wire.example/gone",
                             "https://wire.example/src"]
    assert [str(d) for d in report.errors] == [
        f"content/articles/2024/a.md:{line_of(site, 'content/articles/2024/a.md', 'the report')}"
        ": external link to https://wire.example/gone is broken: HTTP 404",
        f"content/articles/2024/b.md:{line_of(site, 'content/articles/2024/b.md', 'Also')}"
        ": external link to https://wire.example/gone is broken: HTTP 404"]  # asked once
    assert report.external == 3
    offline = check_output(site.public, result.config, result.site)
    assert offline.external == 0 and not offline.errors


def test_root_relative_links_in_topics_and_pages_follow_the_base_path(site):
    site.write("content/topics/t.md", topic("T", "See [the first report](/articles/a/)."))
    site.write("content/pages/about.md", "---\ntitle: About\n---\n\nRead [the archive](/archive/).\n")
    site.write("content/articles/2024/a.md", article("A", "2024-01-01", topics=["t"]))
    result = site.build()
    report = check_output(site.public, result.config, result.site)
    assert [str(d) for d in report.errors] == []
