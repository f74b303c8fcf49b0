"""The command line: init, new article, --version, --help with examples."""

from __future__ import annotations

import re

import yaml

from builder import __version__
from conftest import Site, article, run_cli


def test_version_and_help():
    proc = run_cli("--version")
    assert proc.returncode == 0 and __version__ in proc.stdout
    for cmd in (["--help"], ["build", "--help"], ["init", "--help"], ["new", "article", "--help"]):
        out = run_cli(*cmd)
        assert out.returncode == 0
        assert "Examples:" in out.stdout, cmd


def test_init_makes_a_site_that_builds(tmp_path):
    target = tmp_path / "mysite"
    proc = run_cli("init", str(target), "--title", "Gulf briefings")
    assert proc.returncode == 0, proc.stderr
    assert yaml.safe_load((target / "site.yaml").read_text())["title"] == "Gulf briefings"
    assert (target / "README.md").is_file() and "/public/" in (target / ".gitignore").read_text()
    build = run_cli("build", "--site", str(target))
    assert build.returncode == 0, build.stderr
    assert (target / "public/topics/first-story/index.html").is_file()
    again = run_cli("init", str(target))
    assert again.returncode == 1 and "already" in again.stderr


def test_new_article_fills_front_matter_and_refuses_to_overwrite(tmp_path):
    s = Site(tmp_path / "s")
    s.write("content/topics/syria.md", "---\ntitle: Syria\n---\n")
    proc = run_cli("new", "article", "Rebels enter Hama!", "--topic", "syria",
                   "--date", "2024-12-05", "--site", str(s.root))
    assert proc.returncode == 0, proc.stderr
    path = s.root / "content/articles/2024/rebels-enter-hama.md"
    front = yaml.safe_load(path.read_text().split("---")[1])
    assert front["title"] == "Rebels enter Hama!" and front["date"] == "2024-12-05"
    assert front["topics"] == ["syria"]
    assert run_cli("build", "--site", str(s.root)).returncode == 0
    again = run_cli("new", "article", "Rebels enter Hama!", "--site", str(s.root), "--date", "2024-12-05")
    assert again.returncode == 1 and "exists" in again.stderr
    bad = run_cli("new", "article", "X", "--topic", "nope", "--site", str(s.root))
    assert bad.returncode == 1 and "unknown topic 'nope'" in bad.stderr
    bad_date = run_cli("new", "article", "Y", "--date", "soon", "--site", str(s.root))
    assert bad_date.returncode == 1 and "--date" in bad_date.stderr


def test_new_article_without_date_uses_now_with_offset(tmp_path):
    s = Site(tmp_path / "s")
    assert run_cli("new", "article", "Now", "--site", str(s.root)).returncode == 0
    [path] = (s.root / "content/articles").rglob("now.md")
    front = yaml.safe_load(path.read_text().split("---")[1])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", front["date"])


def test_warnings_are_printed_but_build_succeeds(tmp_path):
    s = Site(tmp_path / "s")
    s.write("content/articles/2023/r.md", article("R", "2023-01-01"))
    s.write("content/articles/2024/r.md", article("R2", "2024-01-01"))
    proc = run_cli("build", "--site", str(s.root))
    assert proc.returncode == 0
    assert "warning: content/articles/2024/r.md: slug 'r' is taken" in proc.stderr


def test_import_command_writes_reports_and_fails_per_file(tmp_path):
    from conftest import REPO
    s = Site(tmp_path / "s")
    s.write("content/topics/syria-offensive-dec-2024.md", "---\ntitle: Syria offensive\n---\n")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "syria.txt").write_text((REPO / "tests/data/syria-raw.txt").read_text())
    (inbox / "empty.txt").write_text("")
    proc = run_cli("import", str(inbox), "--date", "2024-12-02", "--topic",
                   "syria-offensive-dec-2024", "--site", str(s.root))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "written: " in proc.stdout and "syria.txt" in proc.stdout
    assert "failed: " in proc.stderr and "empty.txt" in proc.stderr
    assert "import: 1 of 2 files failed" in proc.stderr
    [path] = (s.root / "content/articles/2024").glob("*.md")
    assert "Articles You May Like" not in path.read_text()
    assert run_cli("build", "--site", str(s.root)).returncode == 0
    again = run_cli("import", str(inbox / "syria.txt"), "--date", "2024-12-02", "--site", str(s.root))
    assert again.returncode == 0 and "skipped: " in again.stdout


def test_a_bug_in_briefs_is_one_line_not_a_traceback(news_site, monkeypatch):
    """Unexpected exceptions (briefs' own bugs) end in one line and exit 2; output untouched."""
    from click.testing import CliRunner
    from builder import cli, feeds
    news_site.build()
    before = news_site.tree_digest()

    def broken(site):
        raise ValueError("invalid literal for int() with base 10: ''")
    monkeypatch.setattr(feeds, "robots", broken)
    monkeypatch.delenv("BRIEFS_DEBUG", raising=False)
    result = CliRunner().invoke(cli.main, ["build", "--site", str(news_site.root), "--clean"])
    assert result.exit_code == 2
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert lines[-1].startswith("error: internal error: ValueError: invalid literal")
    assert "please report this" in lines[-1] and "Traceback" not in result.output
    assert news_site.tree_digest() == before


def test_a_closed_pipe_is_not_an_internal_error(news_site):
    """`briefs build | head -1`: the reader goes away before the report is printed."""
    import subprocess
    import sys
    proc = subprocess.Popen([sys.executable, "-m", "builder", "build", "--site",
                             str(news_site.root)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # nobody reads the report
    stderr = proc.stderr.read().decode()
    proc.wait(timeout=120)
    assert "internal error" not in stderr and "Traceback" not in stderr, stderr
    assert (news_site.public / "index.html").is_file()  # the build itself was done
