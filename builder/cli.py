"""Command line: arguments, printing diagnostics and exit codes — the only module that does.

Every user mistake arrives here as a BuildError and is printed one line per problem
(``path:line:col: what is wrong (how to fix it)``) with exit code 1, never as a traceback.
"""

from __future__ import annotations

import sys
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
@click.option("--quiet", "-q", is_flag=True, help="Print only errors and warnings.")
def build(site_dir: Path, out_dir: Path | None, drafts: bool, future: bool,
          base_url: str | None, quiet: bool) -> None:
    """Build the site into public/ (or --out).

    \b
    Examples:
      briefs build
      briefs build --site ~/briefings --out /tmp/preview --drafts --future
      briefs build --base-url https://user.github.io/briefs/
    """
    from .pipeline import BuildOptions, build as run_build

    options = BuildOptions(out_dir=out_dir, drafts=drafts, future=future, base_url=base_url)
    try:
        result = run_build(site_dir, options, notify=lambda m: click.echo(m, err=True))
    except BuildError as exc:
        _fail(exc)
    _echo_diagnostics(result.warnings) if not quiet else None
    if not quiet:
        total = sum(result.timings.values())
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(result.pages_by_kind.items()))
        try:
            shown = result.out_dir.relative_to(Path.cwd())
        except ValueError:
            shown = result.out_dir
        click.echo(f"built {len(result.site.articles)} articles, "
                   f"{sum(result.pages_by_kind.values())} pages ({kinds}) "
                   f"in {total:.2f} s -> {shown}/")


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


if __name__ == "__main__":  # pragma: no cover
    main()
