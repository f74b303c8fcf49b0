"""Command line: arguments, printing diagnostics and exit codes — the only module that does.

Every user mistake arrives here as a BuildError and is printed one line per problem
(``path:line:col: what is wrong (how to fix it)``) with exit code 1, never as a traceback.
"""

from __future__ import annotations

import os
import sys
import traceback
import time
from pathlib import Path

import click

from . import __version__
from .errors import BuildError, Diagnostic


def _echo_diagnostics(diagnostics: list[Diagnostic]) -> None:
    for d in diagnostics:
        label = "warning" if d.severity == "warning" else "error"
        click.echo(f"{label}: {d}", err=True)


def _fail(exc: BuildError, what: str = "build failed") -> None:
    _echo_diagnostics(exc.diagnostics)
    count = sum(1 for d in exc.diagnostics if d.severity == "error")
    click.echo(f"{what}: {count} error{'s' if count != 1 else ''}"
               + ("; the previous output was left as it was" if what == "build failed" else ""),
               err=True)
    sys.exit(1)


site_option = click.option(
    "--site", "site_dir", type=click.Path(file_okay=False, path_type=Path), default=".",
    show_default=True, help="Site folder (holds site.yaml).")
"""The --site option every command takes."""


class _Group(click.Group):
    """Commands whose unexpected failures (a bug in briefs, not bad input) end in one line."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit,
                KeyboardInterrupt):
            raise
        except BrokenPipeError:
            # The reader went away (`briefs build | head`): stop quietly, as other tools do;
            # stdout goes to /dev/null so that flushing it at exit does not fail again.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(1)
        except Exception as exc:
            if os.environ.get("BRIEFS_DEBUG"):
                raise
            where = traceback.extract_tb(exc.__traceback__)[-1]
            click.echo(f"error: internal error: {type(exc).__name__}: {exc} "
                       f"(at {Path(where.filename).name}:{where.lineno}; the previous output was "
                       "left as it was; please report this, BRIEFS_DEBUG=1 shows the traceback)",
                       err=True)
            sys.exit(2)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="briefs")
def main() -> None:
    """briefs: build news-briefing websites from Markdown articles.

    \b
    Examples:
      briefs init my-briefings        # start a new site
      briefs new article "Rebels take Aleppo" --topic syria-offensive-dec-2024
      briefs build                    # build the site in this folder into public/
    """


@main.command()
@site_option
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Output folder [default: SITE/public].")
@click.option("--drafts", is_flag=True, help="Include articles marked draft: true.")
@click.option("--future", is_flag=True, help="Include articles dated in the future.")
@click.option("--base-url", default=None, help="Override site.yaml's base_url.")
@click.option("--no-related", is_flag=True, help="Skip related stories.")
@click.option("--no-search", is_flag=True, help="Skip the search index.")
@click.option("--clean", is_flag=True, help="Ignore the cache: parse and render everything.")
@click.option("--profile", is_flag=True, help="Print time per stage and the slowest templates.")
@click.option("--verbose", "-v", is_flag=True, help="List every note, not the first few.")
@click.option("--quiet", "-q", is_flag=True, help="Print only errors and warnings.")
def build(site_dir: Path, out_dir: Path | None, drafts: bool, future: bool,
          base_url: str | None, no_related: bool, no_search: bool, clean: bool, profile: bool,
          verbose: bool, quiet: bool) -> None:
    """Build the site into public/ (or --out).

    \b
    Examples:
      briefs build
      briefs build --site ~/briefings --out /tmp/preview --drafts --future
      briefs build --base-url https://user.github.io/briefs/
      briefs build --no-search --profile     # where does the time go?
    """
    from . import report, stamp
    from .options import BuildOptions, BuildResult

    options = BuildOptions(out_dir=out_dir, drafts=drafts, future=future, base_url=base_url,
                           related=not no_related, search=not no_search, incremental=not clean)
    bar = _progress_bar() if not quiet and sys.stderr.isatty() and not os.environ.get("CI") else None
    notify = lambda m: click.echo(m, err=True)  # noqa: E731
    try:
        # Nothing changed since the last build? Then the pipeline is not even loaded.
        result = stamp.look(site_dir, options, notify)
        if not isinstance(result, BuildResult):
            from .pipeline import build as run_build
            result = run_build(site_dir, options, notify=notify,
                               progress=bar.update if bar else None, found=result)
    except BuildError as exc:
        if bar:
            bar.close()
        _fail(exc)
    if bar:
        bar.close()
    _echo_diagnostics(result.warnings)
    if not quiet:
        try:
            shown = result.out_dir.relative_to(Path.cwd()).as_posix() + "/"
        except ValueError:
            shown = str(result.out_dir) + "/"
        for line in report.summary(result, shown, verbose=verbose):
            click.echo(line)
    if profile:
        for line in report.profile(result):
            click.echo(line)
    global _QUICK_EXIT
    _QUICK_EXIT = True


_QUICK_EXIT = False
"""Set by a command that finished with everything it wrote closed: :func:`run` may then end
the process without tearing the interpreter down."""


def run() -> None:
    """The ``briefs`` program (console script and ``python -m builder``): :func:`main`, and
    after a successful build an exit that skips the interpreter's teardown, which frees a
    built site's millions of objects one by one: 0.35 s after a 10,000-article build
    (measured from the last atexit handler to the end of the process). By then the build has
    closed what it wrote (caches, body store, output; forked savers and worker pools are
    waited for); only the standard streams need flushing. (Tests that call ``main`` in their
    own process are not affected.)"""
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code
    if _QUICK_EXIT and not code:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):  # a closed pipe (`briefs build | head`)
                pass
        os._exit(0)
    raise SystemExit(code)


class _progress_bar:
    """A rich progress bar on a terminal, shown only once a build has run for a second."""

    def __init__(self):
        self.started = time.monotonic()
        self.progress = None
        self.tasks: dict[str, int] = {}

    def update(self, stage: str, done: int, total: int) -> None:
        if self.progress is None:
            if time.monotonic() - self.started < 1.0:
                return
            from rich.progress import Progress
            self.progress = Progress(transient=True, console=_stderr_console())
            self.progress.start()
        if stage not in self.tasks:
            self.tasks[stage] = self.progress.add_task(stage, total=total)
        self.progress.update(self.tasks[stage], completed=done, total=total)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()


def _stderr_console():
    from rich.console import Console
    return Console(stderr=True)


@main.command()
@click.argument("directory", type=click.Path(path_type=Path), required=False)
@click.option("--title", default="My briefings", show_default=True, help="Site title.")
@click.option("--base-url", default="https://example.org/", show_default=True,
              help="Where the site will be published.")
@click.option("--github-actions", is_flag=True,
              help="Also write .github/workflows/briefs.yml (build and deploy to GitHub Pages "
                   "on push to main); in an existing site, write only that.")
@click.option("--install", "install_spec", default=None, metavar="REQUIREMENT",
              help="With --github-actions: what the workflow pip-installs briefs from "
                   "[default: this checkout if the repository is briefs itself, else "
                   "briefs==VERSION].")
def init(directory: Path | None, title: str, base_url: str, github_actions: bool,
         install_spec: str | None) -> None:
    """Create a new site folder with one topic and one article.

    \b
    Examples:
      briefs init my-briefings
      briefs init news --title "Gulf briefings" --base-url https://me.github.io/news/
      briefs init --github-actions            # add the GitHub Pages workflow to this site
      briefs init --github-actions --install "briefs @ git+https://github.com/you/briefs"
    """
    from .scaffold import ScaffoldError, init_site

    if directory is None:
        if not github_actions:
            raise click.UsageError("missing DIRECTORY (or use --github-actions in a site)")
        directory = Path(".")
    created = []
    if not (github_actions and (directory / "site.yaml").is_file()):
        try:
            created = init_site(directory, title=title, base_url=base_url)
        except ScaffoldError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
    for path in created:
        click.echo(f"created {path}")
    if github_actions:
        _init_github_actions(directory, install_spec)
    if created:
        click.echo(f"next: cd {directory} && briefs build")


@main.group()
def new() -> None:
    """Create content files with their front matter filled in."""


@new.command("article")
@click.argument("title")
@click.option("--topic", "topics", multiple=True, help="Topic slug (repeatable).")
@click.option("--date", "when", default=None, help="Date (YYYY-MM-DD or ISO datetime) [default: now].")
@site_option
def new_article(title: str, topics: tuple[str, ...], when: str | None, site_dir: Path) -> None:
    """Write content/articles/YYYY/<slug>.md for a new article.

    \b
    Examples:
      briefs new article "Rebels enter Hama"
      briefs new article "Rebels enter Hama" --topic syria-offensive-dec-2024 --date 2024-12-05
    """
    from .scaffold import ScaffoldError, new_article as make

    try:
        path = make(site_dir, title, topics=topics, when=when)
    except ScaffoldError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    click.echo(f"created {path}")


@main.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--topic", default=None, help="Topic slug for every imported article.")
@click.option("--source", default=None, help="Outlet name (replaces the one read from a page).")
@click.option("--date", "when", default=None,
              help="Date for files that state none (YYYY-MM-DD or ISO datetime).")
@click.option("--dry-run", is_flag=True, help="Report what would be written; write nothing.")
@click.option("--force", is_flag=True, help="Replace an existing article at the same path.")
@site_option
def import_(paths, topic, source, when, dry_run, force, site_dir):
    """Turn raw scraped news (text or HTML files, or folders of them) into articles.

    \b
    Examples:
      briefs import inbox/syria-raw.txt --date 2024-12-02 --topic syria-offensive-dec-2024
      briefs import saved-pages/ --source "Example Wire" --dry-run
    """
    from .importer import import_paths

    try:
        results = import_paths(site_dir, paths, topic=topic, source=source, date=when,
                               dry_run=dry_run, force=force)
    except BuildError as exc:
        _echo_diagnostics(exc.diagnostics)
        sys.exit(1)
    for r in results:
        click.echo(str(r), err=not r.ok)
    failed = sum(not r.ok for r in results)
    if failed:
        click.echo(f"import: {failed} of {len(results)} files failed", err=True)
        sys.exit(1)


@main.command()
@site_option
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="Port; 0 picks a free one.")
@click.option("--bind", default="127.0.0.1", show_default=True,
              help="Address to listen on. 0.0.0.0 exposes the preview to your network.")
@click.option("--drafts", is_flag=True, help="Show drafts (marked with a badge).")
@click.option("--future", is_flag=True, help="Show articles dated in the future.")
@click.option("--open", "open_browser", is_flag=True, help="Open the preview in a browser.")
def serve(site_dir: Path, port: int, bind: str, drafts: bool, future: bool,
          open_browser: bool) -> None:
    """Live preview: build, serve, rebuild on every save and reload the open pages.

    \b
    Examples:
      briefs serve
      briefs serve --drafts --future --open
      briefs serve --port 0                 # any free port
    The preview is built into .briefs-cache/preview/, never into public/.
    """
    import time as _time

    from .serve import PortInUse, Preview, wait_for_signal

    def report(result, problems, seconds):
        stamp = _time.strftime("%H:%M:%S")
        if result is None:
            _echo_diagnostics(problems)
            click.echo(f"[{stamp}] build failed ({seconds:.2f} s); the page shows why; "
                       "fix it and save again", err=True)
            return
        _echo_diagnostics(problems)
        click.echo(f"[{stamp}] rebuilt in {seconds:.2f} s: {result.rendered} pages rendered, "
                   f"{result.changed} changed", err=True)

    if bind in ("0.0.0.0", "::", ""):
        click.echo("WARNING: --bind 0.0.0.0 makes the preview (drafts included) reachable from "
                   "other machines on your network", err=True)
    import signal

    def stop_on_term(signum, frame):  # `kill` stops as cleanly as Ctrl-C
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop_on_term)
    preview = Preview(site_dir, port=port, bind=bind, drafts=drafts, future=future, report=report)
    started = False
    try:
        url = preview.start()
        started = True
        click.echo(f"serving {url} (Ctrl-C to stop)", err=True)
        if open_browser:
            import webbrowser
            webbrowser.open(url)
        wait_for_signal()
    except PortInUse as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except BuildError as exc:
        _echo_diagnostics(exc.diagnostics)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("stopping", err=True)
    finally:
        if started:
            preview.stop()


# ============================================================================= publish and check
# `briefs check`, `briefs publish` (issue 7). They call the pipeline like `build` does; all
# printing and exit codes for them live here.

def _shown(path: Path) -> str:
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix() or "."
    except ValueError:
        return str(path)


def _check_summary(report) -> str:
    errors, warnings = len(report.errors), len(report.warnings)
    found = "no problems" if not errors and not warnings else ", ".join(
        part for part in (f"{errors} error{'s' if errors != 1 else ''}" if errors else "",
                          f"{warnings} warning{'s' if warnings != 1 else ''}" if warnings
                          else "") if part)
    external = f", {report.external:,} external URLs" if report.external else ""
    return (f"checked {report.pages:,} pages, {report.references:,} links{external} "
            f"in {report.seconds:.2f} s: {found}")


@main.command()
@site_option
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Output folder to build into and check [default: SITE/public].")
@click.option("--no-build", is_flag=True,
              help="Check the output folder as it is, without building first.")
@click.option("--external", is_flag=True,
              help="Also check http(s) links to other sites (8 at a time, 10 s timeout, "
                   "answers cached in .briefs-cache/).")
@click.option("--drafts", is_flag=True, help="Include articles marked draft: true.")
@click.option("--future", is_flag=True, help="Include articles dated in the future.")
@click.option("--base-url", default=None, help="Override site.yaml's base_url.")
@click.option("--quiet", "-q", is_flag=True, help="Print only problems.")
def check(site_dir: Path, out_dir: Path | None, no_build: bool, external: bool, drafts: bool,
          future: bool, base_url: str | None, quiet: bool) -> None:
    """Build the site, then check every link, asset and #fragment in the output.

    Problems in articles, topics and pages are reported at the Markdown line the link is
    written on; problems from templates at the output page. Links to localhost or file: URLs
    are errors. Exit code 1 when there is any error.

    \b
    Examples:
      briefs check                     # build into public/ and check it
      briefs check --no-build          # check public/ as the last build left it
      briefs check --out /tmp/site --external
    """
    from .check import run
    from .pipeline import BuildOptions

    options = BuildOptions(out_dir=out_dir, drafts=drafts, future=future, base_url=base_url)
    try:
        result, report = run(site_dir, options, build_first=not no_build, external=external,
                             notify=lambda m: click.echo(m, err=True))
    except BuildError as exc:
        _fail(exc, "check failed" if no_build else "build failed")
    if result is not None and not quiet:
        _echo_diagnostics(result.warnings)
    _echo_diagnostics(report.diagnostics)
    if not quiet or report.errors:
        click.echo(_check_summary(report), err=bool(report.errors))
    sys.exit(1 if report.errors else 0)


def _init_github_actions(directory: Path, install_spec: str | None) -> None:
    from .publish import write_workflow

    try:
        path, install = write_workflow(directory, install_spec)
    except FileExistsError as exc:
        click.echo(f"error: {exc} already exists; not overwriting it", err=True)
        sys.exit(1)
    click.echo(f"created {_shown(path)} (installs {install!r})")
    if install.startswith("briefs=="):
        click.echo(f"note: the workflow installs {install} from PyPI; if you install briefs "
                   "from somewhere else, run again with --install (after deleting the file)",
                   err=True)
    click.echo("next: commit it, then in the repository's Settings > Pages choose "
               "Source: GitHub Actions")


@main.command()
@site_option
@click.option("--branch", default=None,
              help="Branch that receives the site [default: publish.branch, gh-pages].")
@click.option("--push", is_flag=True, help="Push the branch to --remote afterwards.")
@click.option("--remote", default=None,
              help="Remote for --push [default: publish.remote, origin].")
@click.option("--force", is_flag=True,
              help="With --push: overwrite the remote branch even if it has other commits.")
@click.option("--dry-run", is_flag=True,
              help="Build and check, list the files that would be added, changed and "
                   "removed; write nothing.")
@click.option("--to", "to_dir", type=click.Path(path_type=Path), default=None,
              help="Write the production build to this folder instead (for any static host).")
@click.option("--base-url", default=None, help="Override site.yaml's base_url.")
@click.option("--message", "-m", default=None, help="First line of the commit message.")
@click.option("--quiet", "-q", is_flag=True, help="Print only problems and the result.")
def publish(site_dir: Path, branch: str | None, push: bool, remote: str | None, force: bool,
            dry_run: bool, to_dir: Path | None, base_url: str | None, message: str | None,
            quiet: bool) -> None:
    """Build the production site, check it, and commit it to the gh-pages branch.

    The build leaves out drafts and future articles and goes to .briefs-cache/publish/site/
    (public/ is not touched); any link error stops the publish. The commit is made with git
    plumbing: your working tree, index and current branch are never changed. It names the
    source commit and has the previous gh-pages commit as parent; .nojekyll and CNAME (from
    publish.cname) are added. When the build is identical to gh-pages, nothing is committed.

    \b
    Examples:
      briefs publish --dry-run           # what would change on gh-pages
      briefs publish --push              # commit to gh-pages and push it to origin
      briefs publish --branch pages --push --remote upstream
      briefs publish --to /tmp/site      # then: rsync -a --delete /tmp/site/ host:/var/www/
    """
    from .publish import PublishError, PublishOptions, publish as run_publish

    if to_dir is not None and (push or dry_run or branch or force):
        raise click.UsageError("--to writes a folder: it does not combine with --push, "
                               "--force, --dry-run or --branch")
    if force and not push:
        raise click.UsageError("--force only applies with --push")
    options = PublishOptions(branch=branch, remote=remote, push=push, force=force,
                             dry_run=dry_run, to=to_dir, base_url=base_url, message=message)
    try:
        result = run_publish(site_dir, options, notify=lambda m: click.echo(m, err=True))
    except PublishError as exc:
        _echo_diagnostics(exc.diagnostics)
        click.echo(exc.outcome, err=True)
        sys.exit(1)
    except BuildError as exc:
        _fail(exc)
    _echo_diagnostics([w for w in result.warnings] + result.check.warnings)
    if not quiet:
        click.echo(_check_summary(result.check))
    if to_dir is not None:
        out = _shown(result.out_dir)
        click.echo(f"wrote the production site to {out}/ ({result.files:,} files); upload it, "
                   f"e.g. rsync -a --delete {out}/ user@host:/var/www/site/")
        return
    name = result.branch
    changes = result.changes
    if dry_run:
        old = f" (now at {result.parent[:12]})" if result.parent else " (a new branch)"
        for label, paths in (("A", changes.added), ("M", changes.changed),
                             ("D", changes.removed)):
            for p in paths:
                click.echo(f"{label} {p}")
        if changes:
            click.echo(f"dry run: publishing would change {name}{old}: {changes.summary()}; "
                       "nothing was written")
        else:
            click.echo(f"dry run: {name}{old} already holds this build; nothing would be "
                       "committed")
        if push:
            click.echo(f"dry run: --push would then push {name} to {result.remote}")
        return
    if not result.committed:
        click.echo(f"{name} is up to date: commit {result.new[:12]} holds this build; "
                   "nothing to commit")
    else:
        parent = f", parent {result.parent[:12]}" if result.parent else ", a new branch"
        click.echo(f"published to {name}: commit {result.new[:12]}{parent} "
                   f"({result.files:,} files: {changes.summary()})")
    if result.pushed:
        click.echo(f"pushed {name} to {result.remote}: {result.pushed}")
    elif not push:
        click.echo(f"not pushed; to publish it: git push {result.remote} {name} "
                   "(or briefs publish --push)")


if __name__ == "__main__":  # pragma: no cover
    main()
