"""briefs publish: commits to gh-pages with git plumbing, pushes, dry runs, --to, the workflow.

Every test uses real git: a bare repository in tmp_path is the remote, and a site repository
with a commit on main is the user's. Git identities come from the environment so the tests
work on a fresh machine.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from builder.publish import github_pages_url
from conftest import REPO, Site, article, topic

IDENTITY = {"GIT_AUTHOR_NAME": "Test Editor", "GIT_AUTHOR_EMAIL": "editor@example.org",
            "GIT_COMMITTER_NAME": "Test Editor", "GIT_COMMITTER_EMAIL": "editor@example.org"}


def clean_env(tmp: Path, identity: bool = True) -> dict:
    """No user or system git config; PYTHONPATH so subprocesses run this checkout's briefs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    home = tmp / "home"
    home.mkdir(exist_ok=True)
    env.update(HOME=str(home), GIT_CONFIG_NOSYSTEM="1", PYTHONPATH=str(REPO),
               GIT_CONFIG_GLOBAL=str(home / "gitconfig"))
    if identity:
        env.update(IDENTITY)
    return env


def git(cwd: Path, *args: str, env: dict | None = None, check: bool = True) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env=env)
    if check and proc.returncode:
        raise AssertionError(f"git {args}: {proc.stderr}")
    return proc.stdout.strip()


class Repo:
    """A site in a git repository with an `origin` remote (a bare repository)."""

    def __init__(self, tmp: Path, config: dict | None = None):
        self.tmp = tmp
        self.env = clean_env(tmp)
        self.remote = tmp / "remote.git"
        git(tmp, "init", "-q", "--bare", "-b", "main", str(self.remote), env=self.env)
        self.site = Site(tmp / "site", config or {
            "title": "Test briefs", "base_url": "https://news.example.org/",
            "publish": {"cname": "news.example.org"}})
        self.root = self.site.root
        self.site.write(".gitignore", "/public/\n/.briefs-cache/\n")
        self.site.write("content/topics/aleppo.md", topic("Aleppo offensive", starts="2024-11-30"))
        self.site.write("content/articles/2024/rebels-attack.md", article(
            "Rebels attack Aleppo", "2024-11-30", "Insurgents attacked.\n\n## Reaction\n\nx",
            topics=["aleppo"], tags=["Syria"]))
        self.site.write("content/articles/2024/secret.md", article(
            "Secret draft", "2024-12-01", "Not ready.", draft=True))
        self.site.write("content/articles/2099/future.md", article(
            "From the future", "2099-01-01", "Not yet."))
        self.git("init", "-q", "-b", "main")
        self.git("add", "-A")
        self.git("commit", "-q", "-m", "First articles")
        self.git("remote", "add", "origin", str(self.remote))

    def git(self, *args: str, check: bool = True) -> str:
        return git(self.root, *args, env=self.env, check=check)

    def briefs(self, *args: str, env: dict | None = None, timeout: float = 120
               ) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "builder", *args], cwd=self.root,
                              capture_output=True, text=True, env=env or self.env,
                              timeout=timeout)

    def commit_article(self, slug: str, title: str, body: str = "News.") -> str:
        self.site.write(f"content/articles/2024/{slug}.md", article(title, "2024-12-02", body,
                                                                    topics=["aleppo"]))
        self.git("add", "-A")
        self.git("commit", "-q", "-m", f"Add {slug}")
        return self.git("rev-parse", "HEAD")

    def tree(self, rev: str) -> dict[str, str]:
        listing = self.git("ls-tree", "-r", "--full-tree", rev)
        out = {}
        for line in listing.splitlines():
            meta, path = line.split("\t", 1)
            mode, kind, sha = meta.split()
            assert mode == "100644" and kind == "blob", line
            out[path] = sha
        return out

    def user_state(self) -> dict:
        """Everything publish must leave alone: HEAD, branch, index bytes, status, files."""
        files = {}
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = [d for d in dirnames if d not in (".git", ".briefs-cache")]
            for name in filenames:
                p = Path(dirpath) / name
                files[p.relative_to(self.root).as_posix()] = (
                    hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        return {
            "head": self.git("rev-parse", "HEAD"),
            "branch": self.git("symbolic-ref", "HEAD"),
            "index": (self.root / ".git/index").read_bytes(),
            "cached": self.git("diff", "--cached"),
            "status": self.git("status", "--porcelain", "--untracked-files=all"),
            "files": files,
        }


@pytest.fixture
def repo(tmp_path) -> Repo:
    return Repo(tmp_path)


def expected_files(repo: Repo) -> set[str]:
    out = repo.root / ".briefs-cache/publish/site"
    return {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}


# ----------------------------------------------------------------------------- committing

def test_publish_twice_makes_two_commits_and_leaves_the_user_alone(repo):
    # The user is mid-work: one change staged, one not, one new file.
    repo.site.write("content/articles/2024/rebels-attack.md",
                    repo.site.root.joinpath("content/articles/2024/rebels-attack.md")
                    .read_text() + "\nStaged line.\n")
    repo.git("add", "content/articles/2024/rebels-attack.md")
    repo.site.write("notes.txt", "unrelated, untracked\n")
    before = repo.user_state()
    source1 = repo.git("rev-parse", "HEAD")

    first = repo.briefs("publish")
    assert first.returncode == 0, first.stderr
    assert "published to gh-pages: commit" in first.stdout
    assert repo.user_state() == before

    tip1 = repo.git("rev-parse", "gh-pages")
    tree1 = repo.tree(tip1)
    assert set(tree1) == expected_files(repo) | {".nojekyll", "CNAME"}
    assert repo.git("show", f"{tip1}:CNAME") == "news.example.org"
    assert repo.git("show", f"{tip1}:.nojekyll") == ""
    assert "articles/rebels-attack/index.html" in tree1
    assert not any("secret" in p or "future" in p for p in tree1)  # production build
    # the blobs are the built files, byte for byte
    built = repo.root / ".briefs-cache/publish/site/index.html"
    assert repo.git("hash-object", str(built)) == tree1["index.html"]
    message1 = repo.git("log", "-1", "--format=%B", tip1)
    assert source1[:12] in message1.splitlines()[0] and "(dirty)" in message1
    assert f"Source: {source1} on main (dirty)" in message1
    assert repo.git("log", "--format=%P", "-1", tip1) == ""  # the branch's first commit

    # Second publish after a committed change: one more commit, the first as its parent.
    repo.git("reset", "-q", "--hard")
    (repo.root / "notes.txt").unlink()
    source2 = repo.commit_article("rebels-reach-hama", "Rebels reach Hama")
    before = repo.user_state()
    second = repo.briefs("publish")
    assert second.returncode == 0, second.stderr
    assert repo.user_state() == before
    tip2 = repo.git("rev-parse", "gh-pages")
    assert repo.git("log", "--format=%P", "-1", tip2) == tip1
    assert repo.git("rev-list", "--count", "gh-pages") == "2"
    message2 = repo.git("log", "-1", "--format=%B", tip2)
    assert f"Source: {source2} on main\n" in message2 + "\n" and "dirty" not in message2
    tree2 = repo.tree(tip2)
    assert set(tree2) == expected_files(repo) | {".nojekyll", "CNAME"}
    assert "articles/rebels-reach-hama/index.html" in tree2
    assert tree2["assets/briefs.css"] == tree1["assets/briefs.css"]
    assert tree2["topics/aleppo/index.html"] != tree1["topics/aleppo/index.html"]
    assert repo.git("fsck", "--no-dangling") == ""


def test_nothing_changed_means_no_commit(repo):
    assert repo.briefs("publish").returncode == 0
    tip = repo.git("rev-parse", "gh-pages")
    again = repo.briefs("publish")
    assert again.returncode == 0, again.stderr
    assert "gh-pages is up to date" in again.stdout and "nothing to commit" in again.stdout
    assert repo.git("rev-parse", "gh-pages") == tip


def test_public_folder_and_drafts_preview_are_not_touched(repo):
    assert repo.briefs("build", "--drafts").returncode == 0
    preview = repo.site.tree_digest()
    assert "articles/secret/index.html" in preview
    assert repo.briefs("publish").returncode == 0
    assert repo.site.tree_digest() == preview


def test_publish_works_without_a_git_identity(repo, tmp_path):
    env = clean_env(tmp_path, identity=False)
    repo.git("config", "user.useConfigOnly", "true")  # no guessing from the host name either
    assert git(repo.root, "var", "GIT_COMMITTER_IDENT", env=env, check=False) == ""
    proc = repo.briefs("publish", env=env)
    assert proc.returncode == 0, proc.stderr
    assert repo.git("log", "-1", "--format=%an <%ae>|%cn", "gh-pages") == \
        "briefs <briefs@localhost>|briefs"


def test_a_user_identity_is_used_when_there_is_one(repo):
    assert repo.briefs("publish").returncode == 0
    assert repo.git("log", "-1", "--format=%an", "gh-pages") == "Test Editor"


def test_link_errors_stop_the_publish(repo):
    repo.site.write("content/articles/2024/broken.md", article(
        "Broken", "2024-12-03", "See [this](/articles/nowhere/)."))
    proc = repo.briefs("publish")
    assert proc.returncode == 1
    assert "content/articles/2024/broken.md:" in proc.stderr
    assert "link to /articles/nowhere/ not found" in proc.stderr
    assert "nothing was published" in proc.stderr and "Traceback" not in proc.stderr
    assert repo.git("rev-parse", "-q", "--verify", "gh-pages", check=False) == ""


def test_refuses_a_checked_out_branch_and_a_folder_without_git(repo, tmp_path):
    repo.git("worktree", "add", "-q", "-b", "gh-pages", str(tmp_path / "pages-wt"))
    proc = repo.briefs("publish")
    assert proc.returncode == 1 and "is checked out in" in proc.stderr
    other = repo.briefs("publish", "--branch", "site-pages")
    assert other.returncode == 0, other.stderr
    assert git(tmp_path / "pages-wt", "status", "--porcelain") == ""

    plain = Site(tmp_path / "plain")
    plain.write("content/articles/2024/a.md", article("A", "2024-01-01"))
    proc = subprocess.run([sys.executable, "-m", "builder", "publish", "--site", str(plain.root)],
                          capture_output=True, text=True, env=clean_env(tmp_path),
                          cwd=tmp_path)
    assert proc.returncode == 1
    assert "not in a git repository" in proc.stderr and "--to DIR" in proc.stderr


def test_bad_branch_name_and_missing_remote(repo):
    bad = repo.briefs("publish", "--branch", "no..dots")
    assert bad.returncode == 1 and "not a valid branch name" in bad.stderr
    missing = repo.briefs("publish", "--push", "--remote", "upstream")
    assert missing.returncode == 1 and "no git remote named 'upstream'" in missing.stderr
    assert repo.git("rev-parse", "-q", "--verify", "gh-pages", check=False) == ""


# ----------------------------------------------------------------------------- pushing

def test_push_and_a_rejected_push(repo, tmp_path):
    pushed = repo.briefs("publish", "--push")
    assert pushed.returncode == 0, pushed.stderr
    assert "pushed gh-pages to origin: created" in pushed.stdout
    assert git(repo.remote, "rev-parse", "gh-pages") == repo.git("rev-parse", "gh-pages")

    # Someone else publishes from another clone.
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", "-b", "gh-pages", str(repo.remote), str(other), env=repo.env)
    (other / "extra.html").write_text("theirs")
    git(other, "add", "extra.html", env=repo.env)
    git(other, "commit", "-q", "-m", "Their publish", env=repo.env)
    git(other, "push", "-q", "origin", "gh-pages", env=repo.env)
    theirs = git(other, "rev-parse", "HEAD")

    repo.commit_article("rebels-reach-hama", "Rebels reach Hama")
    before = repo.git("rev-parse", "gh-pages")
    rejected = repo.briefs("publish", "--push")
    assert rejected.returncode == 1
    errors = [l for l in rejected.stderr.splitlines() if l.startswith("error:")]
    assert len(errors) == 1 and "push rejected" in errors[0]
    assert "Traceback" not in rejected.stderr
    mine = repo.git("rev-parse", "gh-pages")
    assert mine != before and repo.git("log", "--format=%P", "-1", mine) == before
    assert f"kept on the local gh-pages branch as commit {mine[:12]}" in errors[0]
    assert git(repo.remote, "rev-parse", "gh-pages") == theirs  # never forced

    # After a fetch, the next publish goes on top of theirs and the push is a fast-forward.
    repo.git("fetch", "-q", "origin")
    again = repo.briefs("publish", "--push")
    assert again.returncode == 0, again.stderr
    tip = repo.git("rev-parse", "gh-pages")
    assert repo.git("log", "--format=%P", "-1", tip) == theirs
    assert git(repo.remote, "rev-parse", "gh-pages") == tip
    assert "extra.html" not in repo.tree(tip)  # the published tree is exactly the build


def test_force_push_replaces_the_remote_branch(repo, tmp_path):
    assert repo.briefs("publish", "--push").returncode == 0
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", "-b", "gh-pages", str(repo.remote), str(other), env=repo.env)
    git(other, "commit", "-q", "--allow-empty", "-m", "theirs", env=repo.env)
    git(other, "push", "-q", "origin", "gh-pages", env=repo.env)
    repo.commit_article("x", "X")
    assert repo.briefs("publish", "--push").returncode == 1
    forced = repo.briefs("publish", "--push", "--force")
    assert forced.returncode == 0, forced.stderr
    assert "forced" in forced.stdout
    assert git(repo.remote, "rev-parse", "gh-pages") == repo.git("rev-parse", "gh-pages")


# ----------------------------------------------------------------------------- dry run

def refs_and_objects(repo: Repo) -> tuple:
    return (repo.git("for-each-ref"), repo.git("count-objects", "-v"),
            sorted(p.name for p in (repo.root / ".git").iterdir()))


def test_dry_run_writes_nothing(repo):
    before = refs_and_objects(repo)
    first = repo.briefs("publish", "--dry-run")
    assert first.returncode == 0, first.stderr
    assert "A index.html" in first.stdout and "A .nojekyll" in first.stdout
    assert "(a new branch)" in first.stdout and "nothing was written" in first.stdout
    assert refs_and_objects(repo) == before

    assert repo.briefs("publish").returncode == 0
    repo.git("rm", "-q", "content/articles/2024/rebels-attack.md")
    repo.git("commit", "-q", "-m", "Remove one")
    repo.commit_article("rebels-reach-hama", "Rebels reach Hama")
    before = refs_and_objects(repo)
    dry = repo.briefs("publish", "--dry-run", "--push")
    assert dry.returncode == 0, dry.stderr
    lines = set(dry.stdout.splitlines())
    assert "A articles/rebels-reach-hama/index.html" in lines
    assert "D articles/rebels-attack/index.html" in lines
    assert "M topics/aleppo/index.html" in lines
    assert "A assets/briefs.css" not in lines and "M assets/briefs.css" not in lines
    assert "--push would then push gh-pages to origin" in dry.stdout
    assert refs_and_objects(repo) == before
    assert "gh-pages" not in git(repo.remote, "for-each-ref")


# ----------------------------------------------------------------------------- interrupted

CRASH = """
import os, sys
from builder import publish
calls = []
real = publish.Git.run
def run(self, *args, **kw):
    calls.append(args[0] if args[0] != "--no-optional-locks" else args[1])
    if len(calls) == int(sys.argv[1]):
        os._exit(9)          # killed just before git call number N
    out = real(self, *args, **kw)
    if len(calls) == int(sys.argv[2]):
        os._exit(9)          # or just after it
    return out
publish.Git.run = run
from builder.cli import main
try:
    main(["publish"])
finally:
    print(" ".join(calls))
"""


def crash(repo: Repo, before: int, after: int) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", CRASH, str(before), str(after)],
                          cwd=repo.root, env=repo.env, capture_output=True, text=True,
                          timeout=120)


def test_an_interrupted_publish_leaves_the_branch_old_or_new(repo):
    """Killed before each git call of a publish (and after the last): the branch is at its
    old commit or at a complete new one, and the repository is sound."""
    assert repo.briefs("publish").returncode == 0
    repo.commit_article("story-0", "Story 0")
    counted = crash(repo, -1, -1)
    assert counted.returncode == 0, counted.stderr
    calls = counted.stdout.split("\n")[-2].split()
    assert calls[-1] == "update-ref" and "commit-tree" in calls and "hash-object" in calls
    old = repo.git("rev-parse", "gh-pages")
    outcomes = []
    for n in range(1, len(calls) + 2):
        repo.commit_article(f"story-{n}", f"Story {n}")
        before, after = (n, -1) if n <= len(calls) else (-1, len(calls))
        proc = crash(repo, before, after)
        assert proc.returncode == 9, proc.stderr
        tip = repo.git("rev-parse", "gh-pages")
        if tip != old:  # a new commit: complete, on top of the old one
            assert repo.git("log", "--format=%P", "-1", tip) == old
            assert f"articles/story-{n}/index.html" in repo.tree(tip)
        assert repo.git("fsck", "--no-dangling") == ""
        outcomes.append(tip != old)
        old = tip
    assert outcomes == [False] * len(calls) + [True]  # only update-ref moves the branch
    final = repo.briefs("publish")
    assert final.returncode == 0, final.stderr
    assert set(repo.tree("gh-pages")) == expected_files(repo) | {".nojekyll", "CNAME"}
    assert not list((repo.root / ".briefs-cache/publish").glob("index.*"))


def test_publish_killed_at_random_moments(repo):
    assert repo.briefs("publish").returncode == 0
    rng = random.Random(7)
    old = repo.git("rev-parse", "gh-pages")
    for i in range(8):
        repo.commit_article(f"kill-{i}", f"Kill {i}")
        proc = subprocess.Popen([sys.executable, "-m", "builder", "publish"], cwd=repo.root,
                                env=repo.env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.05, 1.2))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        tip = repo.git("rev-parse", "gh-pages")
        assert tip == old or repo.git("log", "--format=%P", "-1", tip) == old
        assert repo.git("fsck", "--no-dangling") == ""
        old = tip
    final = repo.briefs("publish")
    assert final.returncode == 0, final.stderr
    assert "articles/kill-7/index.html" in repo.tree("gh-pages")


# ----------------------------------------------------------------------------- GitHub Pages

@pytest.mark.parametrize("url, cname, expected", [
    ("git@github.com:me/briefs.git", None, "https://me.github.io/briefs/"),
    ("https://github.com/Me/briefs", None, "https://me.github.io/briefs/"),
    ("https://token@github.com/me/briefs.git/", None, "https://me.github.io/briefs/"),
    ("ssh://git@ssh.github.com:443/me/briefs.git", None, "https://me.github.io/briefs/"),
    ("git@github.com:me/me.github.io.git", None, "https://me.github.io/"),
    ("git@github.com:me/briefs.git", "news.example.org", "https://news.example.org/"),
    ("git@gitlab.com:me/briefs.git", None, None),
    (None, None, None),
])
def test_where_github_pages_serves_a_repository(url, cname, expected):
    assert github_pages_url(url, cname) == expected


def test_base_url_that_github_pages_will_not_serve_is_a_warning(tmp_path):
    repo = Repo(tmp_path, {"title": "T", "base_url": "https://me.github.io/"})
    repo.git("remote", "set-url", "origin", "git@github.com:me/briefs.git")
    proc = repo.briefs("publish", "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert ("warning: site.yaml: base_url's path is / but GitHub Pages will serve this site "
            "under /briefs/ (https://me.github.io/briefs/)") in proc.stderr
    fixed = repo.briefs("publish", "--dry-run", "--base-url", "https://me.github.io/briefs/")
    assert "warning" not in fixed.stderr


# ----------------------------------------------------------------------------- --to DIR

def test_publish_to_a_folder(repo, tmp_path):
    target = tmp_path / "upload"
    proc = repo.briefs("publish", "--to", str(target))
    assert proc.returncode == 0, proc.stderr
    assert (target / "articles/rebels-attack/index.html").is_file()
    assert not (target / "articles/secret").exists() and not (target / "CNAME").exists()
    assert repo.git("rev-parse", "-q", "--verify", "gh-pages", check=False) == ""
    assert "rsync -a --delete" in proc.stdout
    again = repo.briefs("publish", "--to", str(target))  # an earlier build may be replaced
    assert again.returncode == 0, again.stderr

    foreign = tmp_path / "home-folder"
    foreign.mkdir()
    (foreign / "thesis.odt").write_text("precious")
    refused = repo.briefs("publish", "--to", str(foreign))
    assert refused.returncode == 1 and "not empty and holds no built site" in refused.stderr
    assert (foreign / "thesis.odt").read_text() == "precious"
    assert repo.briefs("publish", "--to", str(repo.root)).returncode == 1
    usage = repo.briefs("publish", "--to", str(target), "--push")
    assert usage.returncode == 2

    # A build with link errors never reaches the folder.
    before = {p: p.read_bytes() for p in target.rglob("*") if p.is_file()}
    repo.site.write("content/articles/2024/broken.md", article(
        "Broken", "2024-12-03", "See [this](/articles/nowhere/)."))
    failed = repo.briefs("publish", "--to", str(target))
    assert failed.returncode == 1 and "nothing was published" in failed.stderr
    assert {p: p.read_bytes() for p in target.rglob("*") if p.is_file()} == before


# ----------------------------------------------------------------------------- the workflow

def load_workflow(path: Path) -> dict:
    data = yaml.safe_load(path.read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


def test_init_github_actions_writes_a_workflow_that_builds_and_deploys(tmp_path):
    env = clean_env(tmp_path)
    site = tmp_path / "mysite"
    proc = subprocess.run([sys.executable, "-m", "builder", "init", str(site),
                           "--github-actions"], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    flow = load_workflow(site / ".github/workflows/briefs.yml")
    assert flow["on"]["push"]["branches"] == ["main"]
    assert flow["permissions"]["pages"] == "write"
    assert flow["permissions"]["id-token"] == "write"
    steps = flow["jobs"]["build"]["steps"]
    runs = [s.get("run", "") for s in steps]
    uses = [s.get("uses", "") for s in steps + flow["jobs"]["deploy"]["steps"]]
    assert any(r.startswith("python -m pip install ") for r in runs)
    build = next(r for r in runs if r.startswith("briefs build"))
    assert "--out _site" in build
    assert any(r.startswith("briefs check") and "--no-build" in r for r in runs)
    assert any(u.startswith("actions/upload-pages-artifact@") for u in uses)
    assert any(u.startswith("actions/deploy-pages@") for u in uses)
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-pages"))
    assert upload["with"]["path"] == "_site"
    assert flow["jobs"]["deploy"]["needs"] == "build"
    # the build command it names really builds this site
    out = tmp_path / "_site"
    built = subprocess.run([sys.executable, "-m", "builder", "build", "--site", str(site),
                            "--out", str(out)], capture_output=True, text=True, env=env)
    assert built.returncode == 0 and (out / "index.html").is_file()


def test_init_github_actions_in_a_site_inside_a_repository(repo):
    sub = repo.root / "sites/news"
    Site(sub).write("content/articles/2024/a.md", article("A", "2024-01-01"))
    proc = repo.briefs("init", str(sub), "--github-actions", "--install",
                       "briefs @ git+https://example.org/briefs.git")
    assert proc.returncode == 0, proc.stderr
    assert not (sub / "content/topics").exists()  # an existing site: only the workflow
    path = repo.root / ".github/workflows/briefs.yml"  # GitHub reads it at the repo root
    runs = [s.get("run", "") for s in load_workflow(path)["jobs"]["build"]["steps"]]
    assert "python -m pip install 'briefs @ git+https://example.org/briefs.git'" in runs
    assert any(r.startswith("briefs build --site sites/news --out _site") for r in runs)
    again = repo.briefs("init", str(sub), "--github-actions")
    assert again.returncode == 1 and "already exists" in again.stderr


def test_workflow_for_the_briefs_repository_installs_the_checkout(tmp_path):
    from builder.publish import default_install
    assert default_install(REPO) == "."
    assert default_install(tmp_path).startswith("briefs")
