"""Test helpers: tiny sites written into tmp_path and built with the real pipeline."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import textwrap
from datetime import datetime, timezone
from pathlib import Path

import hypothesis  # noqa: F401  imported up front: its plugin's late import at session end
# once hit CPython 3.11's thread-unsafe AST depth check ("recursion depth mismatch")
from hypothesis import settings as _hypothesis_settings

# In CI the property and fuzz tests draw the same cases every run (derandomize), so a green run
# stays green; locally they draw new cases each run and keep exploring.
_hypothesis_settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    _hypothesis_settings.load_profile("ci")
import pytest
import yaml

from builder.pipeline import BuildOptions, build
from browser import browser  # noqa: F401,E402  one session-wide Chromium for every test module

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)

SITE_YAML = {"title": "Test briefs", "base_url": "https://example.org/news/",
             "description": "Tiny test site", "author": "Desk"}


def article(title: str, date: str, body: str = "Body text.", **front) -> str:
    data = {"title": title, "date": date, **front}
    return "---\n" + yaml.safe_dump(data, sort_keys=False, allow_unicode=True) + "---\n\n" + \
        textwrap.dedent(body).strip() + "\n"


def topic(title: str, body: str = "Introduction.", **front) -> str:
    data = {"title": title, **front}
    return "---\n" + yaml.safe_dump(data, sort_keys=False, allow_unicode=True) + "---\n\n" + \
        body + "\n"


class Site:
    """A site folder in tmp_path: write files, build, read output."""

    def __init__(self, root: Path, config: dict | None = None):
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.write("site.yaml", yaml.safe_dump(config or SITE_YAML, sort_keys=False))

    def clean_copy(self, root: Path) -> "Site":
        """A new site at ``root`` with this one's content and site.yaml and nothing else (no
        cache, no output): what a clean build of the same input makes."""
        import shutil
        clean = Site(root)
        shutil.copytree(self.root / "content", clean.root / "content")
        shutil.copy(self.root / "site.yaml", clean.root / "site.yaml")
        return clean

    def write(self, rel: str, text: str | bytes) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path

    def build(self, **options):
        options.setdefault("now", NOW)
        options.setdefault("jobs", 1)
        return build(self.root, BuildOptions(**options))

    @property
    def public(self) -> Path:
        return self.root / "public"

    def read(self, rel: str) -> str:
        return (self.public / rel).read_text(encoding="utf-8")

    def tree_digest(self) -> dict[str, str]:
        """path -> hash of every output file (to prove an output was left untouched)."""
        out = {}
        for dirpath, _, files in os.walk(self.public):
            for name in files:
                p = Path(dirpath) / name
                out[p.relative_to(self.public).as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
        return out


@pytest.fixture
def site(tmp_path) -> Site:
    return Site(tmp_path / "site")


@pytest.fixture
def news_site(tmp_path) -> Site:
    """A small but complete site: two topics, five articles, a page, a draft, a future article."""
    s = Site(tmp_path / "site")
    s.write("content/topics/aleppo-offensive.md", topic(
        "Aleppo offensive, Dec 2024", summary="Rebels push into Aleppo.", starts="2024-11-30"))
    s.write("content/topics/gaza-talks.md", topic(
        "Gaza ceasefire talks", summary="Negotiations.", starts="2024-11-01", ends="2024-12-20"))
    s.write("content/articles/2024/rebels-attack-aleppo.md", article(
        "Rebels attack Aleppo", "2024-11-30T09:15:00Z",
        "Insurgents launched a two-pronged attack on **Aleppo**.\n\n## Reaction\n\nOfficials spoke.",
        summary="A surprise offensive.", topics=["aleppo-offensive"], tags=["Syria", "Aleppo"],
        source="Example Wire", source_url="https://wire.example/aleppo"))
    s.write("content/articles/2024/strikes-kill-400.md", article(
        "Strikes kill 400 insurgents", "2024-12-02",
        "Syria's military said joint airstrikes with Russia killed at least 400 insurgents.",
        topics=["aleppo-offensive"], tags=["Syria", "Russia"], source="Example Wire",
        author="A. Reporter"))
    s.write("content/articles/2024/rebels-reach-hama.md", article(
        "Rebels reach Hama", "2024-12-05T18:00:00+02:00",
        "Rebels reached the outskirts of Hama.", topics=["aleppo-offensive"], tags=["syria"],
        source="Other Desk"))
    s.write("content/articles/2024/talks-resume.md", article(
        "Ceasefire talks resume in Doha", "2024-12-01", "Delegations met in Doha.",
        topics=["gaza-talks"], tags=["Gaza"], source="Other Desk"))
    s.write("content/articles/2023/old-story.md", article(
        "An older story", "2023-05-04", "Something from last year.", tags=["archive"]))
    s.write("content/articles/2024/secret-draft.md", article(
        "Secret draft piece", "2024-12-03", "Not ready.", draft=True,
        topics=["aleppo-offensive"], tags=["Syria"]))
    s.write("content/articles/2026/from-the-future.md", article(
        "Future piece", "2026-01-01", "Not yet.", topics=["gaza-talks"], tags=["Gaza"]))
    s.write("content/pages/about.md", "---\ntitle: About us\n---\n\nWe curate news.\n")
    return s


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the real `briefs` entry point in a subprocess (exit codes, stderr, no traceback)."""
    return subprocess.run([sys.executable, "-m", "builder", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


HREF = re.compile(r'(?:href|src)="([^"]*)"')
