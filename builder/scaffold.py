"""``briefs init`` and ``briefs new``: write new sites and content files, never overwriting."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import yaml

from . import content, sources
from .config import load_config
from .errors import BuildError
from .slugs import slugify


class ScaffoldError(Exception):
    pass


def _front_matter(data: dict) -> str:
    return "---\n" + yaml.safe_dump(data, allow_unicode=True, sort_keys=False,
                                     width=1000) + "---\n"


def _create(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(path, "x", encoding="utf-8") as fh:  # "x": refuse to overwrite
            fh.write(text)
    except FileExistsError:
        raise ScaffoldError(f"{path} already exists; not overwriting it") from None


def init_site(directory: Path, *, title: str, base_url: str) -> list[Path]:
    directory = Path(directory)
    if (directory / "site.yaml").exists():
        raise ScaffoldError(f"{directory / 'site.yaml'} already exists: this is a site already")
    today = datetime.now().date()
    files = {
        "site.yaml": yaml.safe_dump({
            "title": title, "base_url": base_url, "language": "en",
            "description": "Curated news briefings.", "author": "", "timezone": "UTC",
            "per_page": 50}, sort_keys=False, allow_unicode=True),
        ".gitignore": "/public/\n/.briefs-cache/\n",
        "README.md": f"# {title}\n\nA [briefs](https://pypi.org/project/briefs/) site: "
                     "run `briefs build` here and open `public/index.html`, "
                     "or `briefs serve` for a live preview.\n",
        "content/topics/first-story.md": _front_matter({
            "title": "First story", "summary": "What this story is about, in one line.",
            "starts": today.isoformat()}) +
            "\nThe topic's introduction: the background a reader needs.\n",
        f"content/articles/{today.year}/welcome.md": _front_matter({
            "title": "Welcome to your briefings", "date": today.isoformat(),
            "summary": "The first article of this site.", "topics": ["first-story"],
            "tags": ["example"]}) +
            "\nWrite the article in Markdown below the front matter.\n",
    }
    created = []
    for rel, text in files.items():
        path = directory / rel
        _create(path, text)
        created.append(path)
    return created


def new_article(site_dir: Path, title: str, *, topics: tuple[str, ...] = (),
                when: str | None = None) -> Path:
    try:
        config = load_config(Path(site_dir))
    except BuildError as exc:
        raise ScaffoldError("; ".join(str(d) for d in exc.diagnostics)) from None
    tz = config.tz
    if when:
        try:
            moment, has_time = content.parse_date(when, tz)
        except ValueError as exc:
            raise ScaffoldError(f"--date: {exc} (use YYYY-MM-DD or 2024-12-02T14:30:00+01:00)") from None
        date_text = moment.isoformat() if has_time else moment.date().isoformat()
    else:
        moment = datetime.now(tz).replace(microsecond=0)
        date_text = moment.isoformat()
    for t in topics:
        if not (config.root / "content" / "topics" / f"{t}.md").exists():
            raise ScaffoldError(f"unknown topic {t!r}: create content/topics/{t}.md first")
    slug = slugify(title)
    if not slug:
        raise ScaffoldError("the title gives an empty slug; use a title with Latin letters or digits")
    refs, _ = sources.discover(config.root)
    for ref in refs:
        if ref.kind == "articles" and Path(ref.rel).stem == slug:
            raise ScaffoldError(f"an article with slug {slug!r} exists already: {ref.rel}")
    data = {"title": title, "date": date_text, "summary": ""}
    if topics:
        data["topics"] = list(topics)
    data["tags"] = []
    path = config.root / "content" / "articles" / f"{moment.year}" / f"{slug}.md"
    _create(path, _front_matter(data) + "\nWrite the article here.\n")
    return path
