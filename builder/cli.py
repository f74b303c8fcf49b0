"""Command line: arguments, printing diagnostics and exit codes — the only module that does.

Every user mistake arrives here as a BuildError and is printed one line per problem
(``path:line:col: what is wrong (how to fix it)``) with exit code 1, never as a traceback.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import click

from . import __version__
from .errors import BuildError, Diagnostic


def _echo_diagnostics(diagnostics: list[Diagnostic]) -> None:
    for d in diagnostics:
        label = "warning" if d.severity == "warning" else "error"
        click.echo(f"{label}: {d}", err=True)


def _fail(exc: BuildError) -> None:
    _echo_diagnostics(exc.diagnostics)
    count = sum(1 for d in exc.diagnostics if d.severity == "error")
    click.echo(f"build failed: {count} error{'s' if count != 1 else ''}; "
               "the previous output was left as it was", err=True)
    sys.exit(1)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
@click.option("--site", "site_dir", type=click.Path(file_okay=False, path_type=Path),
              default=".", show_default=True, help="Site folder (holds site.yaml).")
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
    from . import report
    from .pipeline import BuildOptions, build as run_build

    options = BuildOptions(out_dir=out_dir, drafts=drafts, future=future, base_url=base_url,
                           related=not no_related, search=not no_search, incremental=not clean)
    bar = _progress_bar() if not quiet and sys.stderr.isatty() and not os.environ.get("CI") else None
    try:
        result = run_build(site_dir, options, notify=lambda m: click.echo(m, err=True),
                           progress=bar.update if bar else None)
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
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--title", default="My briefings", show_default=True, help="Site title.")
@click.option("--base-url", default="https://example.org/", show_default=True,
              help="Where the site will be published.")
def init(directory: Path, title: str, base_url: str) -> None:
    """Create a new site folder with one topic and one article.

    \b
    Examples:
      briefs init my-briefings
      briefs init news --title "Gulf briefings" --base-url https://me.github.io/news/
    """
    from .scaffold import ScaffoldError, init_site

    try:
        created = init_site(directory, title=title, base_url=base_url)
    except ScaffoldError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    for path in created:
        click.echo(f"created {path}")
    click.echo(f"next: cd {directory} && briefs build")


@main.group()
def new() -> None:
    """Create content files with their front matter filled in."""


@new.command("article")
@click.argument("title")
@click.option("--topic", "topics", multiple=True, help="Topic slug (repeatable).")
@click.option("--date", "when", default=None, help="Date (YYYY-MM-DD or ISO datetime) [default: now].")
@click.option("--site", "site_dir", type=click.Path(file_okay=False, path_type=Path),
              default=".", show_default=True, help="Site folder.")
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
@click.option("--site", "site_dir", type=click.Path(file_okay=False, path_type=Path),
              default=".", show_default=True, help="Site folder.")
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
@click.option("--site", "site_dir", type=click.Path(file_okay=False, path_type=Path),
              default=".", show_default=True, help="Site folder (holds site.yaml).")
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

    from .serve import PortInUse, Preview

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
        while True:
            _time.sleep(3600)
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


if __name__ == "__main__":  # pragma: no cover
    main()
