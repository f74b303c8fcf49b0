"""``briefs publish``: a checked production build, committed to ``gh-pages`` or written to a folder.

To the branch (the default), with git plumbing only, so the user's working tree, index, current
branch and HEAD are never touched:

1. build the production site (no drafts, no future articles) into
   ``.briefs-cache/publish/site/`` — a folder of its own, so ``public/`` keeps whatever preview
   the user built — and run ``briefs check`` on it; any error stops here;
2. hash every output file in Python (git's blob hash) and compare with the tree of the current
   ``gh-pages`` commit: that is the dry run's list of added, changed and removed files, computed
   without writing anything into the repository;
3. write only the new blobs (``git hash-object -w``), build the tree in a temporary index file
   (``GIT_INDEX_FILE``, never the user's index: ``update-index --index-info``, ``write-tree``)
   and make one commit whose parent is the previous ``gh-pages`` commit (``commit-tree``);
4. move the branch with ``git update-ref <new> <old>``: a compare-and-swap under git's ref
   lock, the only step that changes what anyone sees. Killed before it, the branch is at its old
   commit (new objects are unreferenced and ``git gc`` removes them); after it, at its new
   one. If the branch moved meanwhile, the swap fails and nothing is changed.

``--push`` then pushes the branch; a rejected push leaves the local commit in place.

To a folder (``--to DIR``): the same checked production build; only when the check passed is
it put into DIR, with the same atomic two-generation writer as ``briefs build``. Upload DIR with
any tool.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import subprocess
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

from . import __version__
from .check import CheckReport, check_output
from .config import SiteConfig
from .errors import BuildError, Diagnostic
from .options import exclusive
from .pipeline import CACHE_DIR, BuildOptions, BuildResult, build

PUBLISH_DIR = "publish"
"""Under ``.briefs-cache/``: the production build (``site/``), lock and temporary index."""
BUILD_INPUTS = ("site.yaml", "content", "templates", "static")
"""What a build reads from the site folder: changes here make the source "dirty"."""
FALLBACK_IDENTITY = {"GIT_AUTHOR_NAME": "briefs", "GIT_AUTHOR_EMAIL": "briefs@localhost",
                     "GIT_COMMITTER_NAME": "briefs", "GIT_COMMITTER_EMAIL": "briefs@localhost"}


class PublishError(BuildError):
    """A publish that stopped: what is wrong and what state things were left in."""

    def __init__(self, diagnostics, outcome: str):
        super().__init__(diagnostics)
        self.outcome = outcome
        """One line: what happened to the branch (e.g. "gh-pages was left as it was")."""


@dataclass
class PublishOptions:
    branch: str | None = None
    """Branch to commit to; default ``publish.branch`` from site.yaml (``gh-pages``)."""
    remote: str | None = None
    """Remote to push to; default ``publish.remote`` (``origin``)."""
    push: bool = False
    force: bool = False
    """Push even when the remote branch has commits the local one lacks (overwrites them)."""
    dry_run: bool = False
    to: Path | None = None
    """Write the production build to this folder instead of committing it."""
    base_url: str | None = None
    message: str | None = None
    """First line of the commit message (the source commit is always named below it)."""
    jobs: int | None = None
    now: datetime | None = None


@dataclass
class Changes:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    def summary(self) -> str:
        return (f"{len(self.added):,} added, {len(self.changed):,} changed, "
                f"{len(self.removed):,} removed")


@dataclass
class PublishResult:
    build: BuildResult
    check: CheckReport
    warnings: list[Diagnostic] = field(default_factory=list)
    out_dir: Path | None = None
    """The folder that was published (``--to`` or the build under .briefs-cache)."""
    branch: str | None = None
    old: str | None = None
    """The branch's commit before (None when it did not exist)."""
    parent: str | None = None
    """Parent of the new commit: ``old``, or the remote's branch when that has commits the
    local one lacks."""
    new: str | None = None
    """The branch's commit after; equal to ``old`` when nothing changed; None on a dry run."""
    committed: bool = False
    """True when this publish made a commit (False: dry run, or nothing changed)."""
    source: str = ""
    """The source commit as named in the message, e.g. ``1a2b3c4d5e6f (dirty)``."""
    changes: Changes = field(default_factory=Changes)
    files: int = 0
    pushed: str | None = None
    """What the push did (``updated``, ``created``, ``up to date``, ``forced``), None without
    --push."""
    remote: str | None = None


# ----------------------------------------------------------------------------- git

class Git:
    """Runs git in one repository. Every call of a publish goes through :meth:`run`."""

    def __init__(self, cwd: Path):
        self.cwd = cwd
        self.env = dict(os.environ)
        self.env["LC_ALL"] = "C"  # messages we look at are git's English ones
        # Only ever the temporary index named per call; never one inherited from a git hook.
        self.env.pop("GIT_INDEX_FILE", None)

    def run(self, *args: str, input: bytes | None = None, env: dict | None = None,
            check: bool = True) -> subprocess.CompletedProcess:
        try:
            proc = subprocess.run(["git", *args], cwd=self.cwd, input=input,
                                  capture_output=True, env={**self.env, **(env or {})})
        except FileNotFoundError:
            raise PublishError(Diagnostic("git", None, None, "git is not installed",
                                          "install git, or publish to a folder with --to DIR"),
                               "nothing was published") from None
        if check and proc.returncode != 0:
            raise GitFailed(args, proc)
        return proc

    def out(self, *args: str, **kw) -> str:
        return self.run(*args, **kw).stdout.decode("utf-8", "replace").strip()

    def maybe(self, *args: str) -> str | None:
        proc = self.run(*args, check=False)
        return proc.stdout.decode("utf-8", "replace").strip() if proc.returncode == 0 else None


class GitFailed(Exception):
    def __init__(self, args, proc: subprocess.CompletedProcess):
        self.args_ = args
        self.proc = proc
        err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        self.last = next((line for line in reversed(err) if line.strip()), "") \
            .removeprefix("fatal: ").removeprefix("error: ")
        super().__init__(f"git {' '.join(args)}: {self.last}")


def _blob_id(data: bytes, algo: str) -> str:
    h = hashlib.new(algo)
    h.update(b"blob %d\0" % len(data))
    h.update(data)
    return h.hexdigest()


def _zero(algo: str) -> str:
    return "0" * (64 if algo == "sha256" else 40)


# ----------------------------------------------------------------------------- locking

def _publish_lock(cache: Path, notify: Callable[[str], None] | None):
    """One publish of a site at a time (they share the build folder and the branch)."""
    return exclusive(cache / "publish.lock",
                     "another publish of this site is running; waiting for it to finish", notify)


# ----------------------------------------------------------------------------- the command

def production_build(site_dir: Path, out_dir: Path, options: PublishOptions,
                     notify: Callable[[str], None] | None) -> tuple[BuildResult, CheckReport]:
    """Build what readers get (no drafts, no future articles) and check it; errors stop here."""
    result = build(site_dir, BuildOptions(out_dir=out_dir, drafts=False, future=False,
                                          base_url=options.base_url, jobs=options.jobs,
                                          now=options.now), notify=notify)
    report = check_output(result.out_dir, result.config, result.site, jobs=options.jobs)
    if report.errors:
        raise PublishError(report.diagnostics,
                           f"publish stopped: {len(report.errors)} "
                           f"error{'s' if len(report.errors) != 1 else ''} in the built site; "
                           "nothing was published")
    return result, report


def publish(site_dir: Path, options: PublishOptions | None = None,
            notify: Callable[[str], None] | None = None) -> PublishResult:
    options = options or PublishOptions()
    site_dir = Path(site_dir).resolve()
    if options.to is not None:
        return publish_to_folder(site_dir, options, notify)
    from .config import load_config

    config = load_config(site_dir, base_url=options.base_url)  # fail early on a bad site.yaml
    branch = options.branch or config.publish.branch
    remote = options.remote or config.publish.remote
    git = Git(site_dir)
    if git.maybe("rev-parse", "--show-toplevel") is None:
        raise PublishError(Diagnostic(str(site_dir), None, None, "not in a git repository",
                                      "run `git init` there, or publish to a folder with "
                                      "--to DIR"), "nothing was published")
    if git.run("check-ref-format", "--branch", branch, check=False).returncode != 0:
        raise PublishError(Diagnostic("--branch", None, None,
                                      f"{branch!r} is not a valid branch name"),
                           "nothing was published")
    ref = f"refs/heads/{branch}"
    _refuse_checked_out(git, ref, branch)
    remote_url = git.maybe("remote", "get-url", remote)
    if options.push and remote_url is None:
        raise PublishError(Diagnostic("--remote", None, None, f"no git remote named {remote!r}",
                                      f"add it with `git remote add {remote} URL`, or pass "
                                      "--remote NAME"), "nothing was published")
    warnings = []
    pages_warning = github_pages_warning(config, remote_url)
    if pages_warning:
        warnings.append(pages_warning)

    cache = config.root / CACHE_DIR / PUBLISH_DIR
    with _publish_lock(cache, notify):
        source = _source(git, site_dir)  # before the build reads the files, not after
        result, report = production_build(site_dir, cache / "site", options, notify)
        outcome = PublishResult(result, report, warnings + list(result.warnings),
                                out_dir=result.out_dir, branch=branch, remote=remote,
                                source=source)
        commit_site(git, result.out_dir, result.config, ref, remote, options, outcome,
                    cache)
    if options.push and not options.dry_run:
        outcome.pushed = push(git, remote, ref, branch, options.force, outcome.new)
    return outcome


def _refuse_checked_out(git: Git, ref: str, branch: str) -> None:
    listing = git.maybe("worktree", "list", "--porcelain") or ""
    where = None
    for line in listing.splitlines():
        if line.startswith("worktree "):
            where = line[len("worktree "):]
        elif line == f"branch {ref}":
            raise PublishError(Diagnostic(
                branch, None, None, f"branch {branch!r} is checked out in {where}",
                "switch that working tree to another branch, or publish to another --branch; "
                "publish never changes a checked-out branch"), "nothing was published")


def _source(git: Git, site_dir: Path) -> str:
    """The source commit, as named in the publish commit: ``<sha> on <branch>`` (+ dirty)."""
    head = git.maybe("rev-parse", "-q", "--verify", "HEAD^{commit}")
    branch = git.maybe("symbolic-ref", "-q", "--short", "HEAD")
    inputs = [p for p in BUILD_INPUTS if (site_dir / p).exists()]
    # --no-optional-locks: a status must not refresh (rewrite) the user's index.
    status = git.run("--no-optional-locks", "status", "--porcelain", "-z",
                     "--untracked-files=all", "--", *inputs, check=False).stdout
    text = head or "no commit yet"
    if branch:
        text += f" on {branch}"
    if head and status.strip(b"\0"):
        text += " (dirty)"
    return text


def commit_site(git: Git, out_dir: Path, config: SiteConfig, ref: str, remote: str,
                options: PublishOptions, outcome: PublishResult, cache: Path) -> None:
    """Steps 2-4 of the module docstring; fills ``outcome`` (old, new, changes, files)."""
    algo = git.maybe("rev-parse", "--show-object-format") or "sha1"
    local = git.maybe("rev-parse", "-q", "--verify", f"{ref}^{{commit}}")
    tracking = git.maybe("rev-parse", "-q", "--verify",
                         f"refs/remotes/{remote}/{ref.removeprefix('refs/heads/')}^{{commit}}")
    parent = local
    if tracking and tracking != local and (
            local is None or git.run("merge-base", "--is-ancestor", tracking, local,
                                     check=False).returncode != 0):
        # The remote branch has commits the local one lacks (someone else published, and
        # `git fetch` brought them): build on top of them so the push is a fast-forward. An
        # earlier local publish that was never pushed is superseded (the reflog keeps it).
        parent = tracking
    outcome.old = local
    outcome.parent = parent

    old_tree: dict[str, tuple[str, str]] = {}
    if parent:
        listing = git.run("ls-tree", "-r", "-z", "--full-tree", parent).stdout
        for item in listing.split(b"\0"):
            if item:
                meta, _, path = item.partition(b"\t")
                mode, _kind, sha = meta.decode().split()
                old_tree[path.decode("utf-8", "surrogateescape")] = (mode, sha)

    new_tree: dict[str, tuple[str, str]] = {}
    files = _output_files(out_dir)
    for rel in files:
        with open(out_dir / rel, "rb") as fh:
            new_tree[rel] = ("100644", _blob_id(fh.read(), algo))
    # GitHub Pages: no Jekyll processing (it would hide files starting with _), custom domain.
    extras = {".nojekyll": b""}
    if config.publish.cname:
        extras["CNAME"] = config.publish.cname.strip().encode() + b"\n"
    for name, data in extras.items():
        new_tree[name] = ("100644", _blob_id(data, algo))
    outcome.files = len(new_tree)

    changes = Changes(
        added=sorted(new_tree.keys() - old_tree.keys()),
        changed=sorted(p for p in new_tree.keys() & old_tree.keys()
                       if new_tree[p] != old_tree[p]),
        removed=sorted(old_tree.keys() - new_tree.keys()))
    outcome.changes = changes
    if options.dry_run:
        outcome.new = None
        return
    if not changes and parent is not None:
        if parent != local:
            _move(git, ref, parent, local, algo)  # fast-forward to the fetched branch
        outcome.new = parent
        return

    # Step 3: objects first (harmless if we are killed: unreferenced until step 4).
    wanted = [p for p in changes.added + changes.changed if p not in extras]
    _write_blobs(git, out_dir, wanted, new_tree)
    for name, data in extras.items():
        if name in changes.added or name in changes.changed:
            sha = git.out("hash-object", "-w", "--stdin", input=data)
            assert sha == new_tree[name][1], (name, sha)
    index = cache / f"index.{os.getpid()}"
    for stale in cache.glob("index.*"):
        stale.unlink(missing_ok=True)  # left by a publish that was killed
    try:
        env = {"GIT_INDEX_FILE": str(index)}
        entries = b"".join(f"{mode} {sha}\t".encode() + path.encode("utf-8", "surrogateescape")
                           + b"\0" for path, (mode, sha) in sorted(new_tree.items()))
        git.run("update-index", "-z", "--index-info", input=entries, env=env)
        tree = git.out("write-tree", env=env)
    finally:
        index.unlink(missing_ok=True)
        index.with_name(index.name + ".lock").unlink(missing_ok=True)
    message = _message(options, outcome, changes)
    identity = {} if git.run("var", "GIT_COMMITTER_IDENT", check=False).returncode == 0 and \
        git.run("var", "GIT_AUTHOR_IDENT", check=False).returncode == 0 else FALLBACK_IDENTITY
    args = ["commit-tree", tree] + (["-p", parent] if parent else []) + ["-F", "-"]
    new = git.out(*args, input=message.encode(), env=identity)
    _move(git, ref, new, local, algo)
    outcome.new = new
    outcome.committed = True


def _move(git: Git, ref: str, new: str, old: str | None, algo: str) -> None:
    """Step 4: the branch moves from exactly ``old`` to ``new``, or not at all."""
    proc = git.run("update-ref", "-m", f"briefs publish: {new[:12]}", ref, new,
                   old or _zero(algo), check=False)
    if proc.returncode != 0:
        last = GitFailed(("update-ref",), proc).last
        branch = ref.removeprefix("refs/heads/")
        raise PublishError(Diagnostic(branch, None, None,
                                      f"could not move branch {branch!r}: {last}",
                                      "did something else change it meanwhile? run "
                                      "briefs publish again"),
                           f"{branch} was left as it was")


def _output_files(out_dir: Path) -> list[str]:
    found = []
    stack = [("", str(out_dir))]
    while stack:
        prefix, folder = stack.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    stack.append((prefix + entry.name + "/", entry.path))
                elif entry.is_file(follow_symlinks=False):
                    found.append(prefix + entry.name)
    return sorted(found)


def _write_blobs(git: Git, out_dir: Path, paths: list[str],
                 tree: dict[str, tuple[str, str]]) -> None:
    if not paths:
        return
    plain = [p for p in paths if "\n" not in p]
    if plain:
        listing = "".join(f"{out_dir / p}\n" for p in plain).encode("utf-8", "surrogateescape")
        shas = git.out("hash-object", "-w", "--no-filters", "--stdin-paths",
                       input=listing).split("\n")
        for p, sha in zip(plain, shas):
            if sha != tree[p][1]:  # the file changed under us: never commit a mismatch
                raise PublishError(Diagnostic(str(out_dir / p), None, None,
                                              "file changed while publishing",
                                              "run briefs publish again"),
                                   "nothing was published")
    for p in paths:
        if "\n" in p:
            git.run("hash-object", "-w", "--no-filters", "--", str(out_dir / p))


def _message(options: PublishOptions, outcome: PublishResult, changes: Changes) -> str:
    head = outcome.source.split(" ", 1)[0]
    short = head[:12] if re.fullmatch(r"[0-9a-f]{40,64}", head) else head
    dirty = " (dirty)" if outcome.source.endswith("(dirty)") else ""
    title = options.message or f"Publish site built from {short}{dirty}"
    return (f"{title}\n\n"
            f"Source: {outcome.source}\n"
            f"Built by briefs {__version__}: {outcome.files:,} files; {changes.summary()}.\n")


# ----------------------------------------------------------------------------- push

def push(git: Git, remote: str, ref: str, branch: str, force: bool, commit: str | None) -> str:
    """Push ``ref`` to the same name on ``remote``; never forced unless ``force``."""
    spec = f"{'+' if force else ''}{ref}:{ref}"
    proc = git.run("push", "--porcelain", remote, spec, check=False)
    out = proc.stdout.decode("utf-8", "replace")
    flag, summary = None, ""
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and parts[1].endswith(f":{ref}"):
            flag, summary = parts[0], parts[2]
    short = (commit or "")[:12]
    if proc.returncode == 0 and flag is not None and flag != "!":
        return {" ": "updated", "+": "forced", "*": "created", "=": "up to date"}.get(
            flag, "updated")
    kept = f"your publish is kept on the local {branch} branch" + (
        f" as commit {short}" if short else "")
    if flag == "!" and ("non-fast-forward" in summary or "fetch first" in summary):
        raise PublishError(Diagnostic(
            f"{remote}/{branch}", None, None,
            f"push rejected: {remote}'s {branch} has commits your {branch} does not "
            f"(someone else published, or the branch was changed there); {kept}",
            f"`git fetch {remote} {branch}` then `briefs publish --push` publishes on top of "
            f"them; `--push --force` replaces them"), f"push failed; {kept}")
    reason = summary.strip("[] ") if flag == "!" else GitFailed(("push",), proc).last
    raise PublishError(Diagnostic(f"{remote}/{branch}", None, None,
                                  f"push failed: {reason or 'git push failed'}; {kept}",
                                  "check the remote's address and your access to it"),
                       f"push failed; {kept}")


# ----------------------------------------------------------------------------- GitHub Pages

_GITHUB = re.compile(r"github\.com[:/]+(?:\d+/)?([^/\s]+)/([^/\s]+?)(?:\.git)?/?$", re.I)


def github_pages_url(remote_url: str | None, cname: str | None) -> str | None:
    """Where GitHub Pages serves this repository's site; None when the remote is not GitHub."""
    if not remote_url:
        return None
    m = _GITHUB.search(remote_url.strip())
    if not m:
        return None
    owner, repo = m.group(1), m.group(2)
    if cname:
        return f"https://{cname.strip().strip('/')}/"
    if repo.lower() == f"{owner.lower()}.github.io":
        return f"https://{owner.lower()}.github.io/"
    return f"https://{owner.lower()}.github.io/{repo}/"


def github_pages_warning(config: SiteConfig, remote_url: str | None) -> Diagnostic | None:
    expected = github_pages_url(remote_url, config.publish.cname)
    if expected is None:
        return None
    have, want = urlsplit(config.base_url), urlsplit(expected)
    if have.path.lower() == want.path.lower() and (have.hostname or "") == want.hostname:
        return None
    if have.path.lower() != want.path.lower():
        problem = (f"base_url's path is {have.path} but GitHub Pages will serve this site "
                   f"under {want.path} ({expected})")
    else:
        problem = (f"base_url is {config.base_url} but GitHub Pages will serve this site at "
                   f"{expected}")
    return Diagnostic("site.yaml", None, None, problem,
                      f"set base_url: {expected}" + ("" if config.publish.cname else
                                                     ", or set publish.cname for a custom "
                                                     "domain"), severity="warning")


# ----------------------------------------------------------------------------- --to DIR

def publish_to_folder(site_dir: Path, options: PublishOptions,
                      notify: Callable[[str], None] | None) -> PublishResult:
    """Build and check under .briefs-cache/publish/site/ like a branch publish; only a build
    that passed goes into the target folder, which is replaced in one atomic swap by the same
    writer ``briefs build`` uses (unchanged files are not written again)."""
    from .config import load_config
    from .write import Output

    target = Path(options.to)
    target = target if target.is_absolute() else Path.cwd() / target
    _refuse_foreign_folder(target, site_dir)
    config = load_config(site_dir, base_url=options.base_url)
    cache = config.root / CACHE_DIR / PUBLISH_DIR
    with _publish_lock(cache, notify):
        result, report = production_build(site_dir, cache / "site", options, notify)
        output = Output(target, config.root / CACHE_DIR)
        gen = output.begin()
        try:
            for rel in _output_files(result.out_dir):
                gen.put(rel, (result.out_dir / rel).read_bytes())
        except BaseException:
            output.abort(gen)
            raise
        output.finish(gen, secrets.token_hex(8))
    return PublishResult(result, report, list(result.warnings), out_dir=target,
                         files=len(gen.hashes))


def _refuse_foreign_folder(target: Path, site_dir: Path) -> None:
    """--to replaces a folder's contents: only an empty folder or an earlier site build."""
    from .write import foreign_folder
    problem = foreign_folder(target, site_dir, "--to")
    if problem is not None:
        raise PublishError(problem, "nothing was published")


# ----------------------------------------------------------------------------- GitHub Actions

WORKFLOW = ".github/workflows/briefs.yml"


def workflow_text(site_rel: str, install: str, branch: str = "main") -> str:
    site_arg = "" if site_rel in ("", ".") else f" --site {_sh(site_rel)}"
    return f"""\
# Written by `briefs init --github-actions`: builds the site with briefs and deploys it with
# GitHub Pages on every push to {branch}. In the repository's Settings > Pages, set
# "Source" to "GitHub Actions".
name: Publish site

on:
  push:
    branches: [{branch}]
  workflow_dispatch:

permissions:
  contents: read
  pages: write
  id-token: write

concurrency:
  group: pages
  cancel-in-progress: false

jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - name: Install briefs
        run: python -m pip install {_sh(install)}
      - id: pages
        uses: actions/configure-pages@v5
      # The address GitHub Pages serves the site at (a project's /<repo>/ path, or a custom
      # domain) is passed as --base-url, so links, feeds and the sitemap are right whatever
      # site.yaml says.
      - name: Build
        run: briefs build{site_arg} --out _site --base-url "${{{{ steps.pages.outputs.base_url }}}}/"
      - name: Check links
        run: briefs check{site_arg} --out _site --no-build --base-url "${{{{ steps.pages.outputs.base_url }}}}/"
      - uses: actions/upload-pages-artifact@v3
        with:
          path: _site

  deploy:
    needs: build
    runs-on: ubuntu-latest
    environment:
      name: github-pages
      url: ${{{{ steps.deployment.outputs.page_url }}}}
    steps:
      - id: deployment
        uses: actions/deploy-pages@v4
"""


def _sh(value: str) -> str:
    import shlex
    return shlex.quote(value)


def default_install(repo_root: Path) -> str:
    """What the workflow installs briefs from: this checkout when the repository *is* briefs
    (the demo site), else the version running now."""
    pyproject = repo_root / "pyproject.toml"
    try:
        if re.search(r'(?m)^name\s*=\s*"briefs"\s*$', pyproject.read_text("utf-8")):
            return "."
    except OSError:
        pass
    try:
        from importlib.metadata import distribution
        import json
        direct = distribution("briefs").read_text("direct_url.json")
        if direct:
            info = json.loads(direct)
            vcs = info.get("vcs_info")
            if vcs and info.get("url", "").startswith(("https://", "ssh://", "git@")):
                return f"briefs @ git+{info['url']}@{vcs.get('commit_id', 'main')}"
    except Exception:  # no metadata: fall through to the version
        pass
    return f"briefs=={__version__}"


def write_workflow(site_dir: Path, install: str | None = None, branch: str = "main",
                   overwrite: bool = False) -> tuple[Path, str]:
    """Write the GitHub Actions workflow at the root of the site's repository.

    Returns (path written, the install requirement used). Refuses to overwrite.
    """
    site_dir = Path(site_dir).resolve()
    top = Git(site_dir).maybe("rev-parse", "--show-toplevel") if site_dir.is_dir() else None
    root = Path(top).resolve() if top else site_dir
    rel = site_dir.relative_to(root).as_posix() if site_dir.is_relative_to(root) else "."
    install = install or default_install(root)
    path = root / WORKFLOW
    if path.exists() and not overwrite:
        raise FileExistsError(str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(workflow_text(rel or ".", install, branch), encoding="utf-8")
    return path, install
