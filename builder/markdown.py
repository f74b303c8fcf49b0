"""Markdown to safe HTML, and the plain text that related stories and search read.

Rendering uses markdown-it-pyrs, the Rust port of markdown-it maintained by the markdown-it-py
authors: the same CommonMark rules and the same HTML, about 14x faster (0.07 ms against 1.0 ms for
a 5 KB article here): with markdown-it-py, Markdown was the largest per-page cost of a build.
``tests/test_markdown.py`` checks that it renders byte-for-byte what markdown-it-py renders with
the same rules, so markdown-it-py stays the reference; it is also what ``briefs check`` uses
where it needs source line numbers of links.

Raw HTML in Markdown is not rendered: ``<script>`` shows as text. markdown-it refuses
``javascript:``, ``vbscript:``, ``file:`` and non-image ``data:`` link targets.
"""

from __future__ import annotations

import html as htmllib
import re

import markdown_it_pyrs

from .slugs import slugify

# The CommonMark rules minus raw HTML, plus GitHub's tables and strikethrough.
RULES = ["blockquote", "code", "fence", "heading", "hr", "lheading", "list", "paragraph",
         "reference", "autolink", "backticks", "emphasis", "entity", "escape", "image", "link",
         "newline", "table", "strikethrough"]

_renderer = markdown_it_pyrs.MarkdownIt("zero").enable_many(RULES)


def reference_renderer():
    """markdown-it-py configured with exactly the same rules (slow; for tests and line maps)."""
    from markdown_it import MarkdownIt
    return MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


_HEADING = re.compile(r"<h([2-6])>(.*?)</h\1>")
_TAG = re.compile(r"<[^>]+>")
_ROOT_LINK = re.compile(r'(href|src)="/(?!/)')
_BLOCK_END = re.compile(r"</(p|h[1-6]|li|blockquote|pre|tr|table|ul|ol)>")


_reference = None


def render(source: str, kind: str = "page") -> str:
    """Markdown to HTML, with ids on subheadings so they can be linked to, never one the
    theme's page of that ``kind`` (article, topic, page) has already."""
    try:
        out = _renderer.render(source)
    except BaseException as exc:
        # The Rust renderer can panic on some odd input (the fuzz test found
        # 'A\x81[f`...]'); a pyo3 PanicException is a BaseException. The reference
        # implementation gives the same HTML, slowly, for that one text.
        if type(exc).__name__ != "PanicException":
            raise
        global _reference
        if _reference is None:
            _reference = reference_renderer()
        out = _reference.render(source)
    if "<h" in out:
        out = _add_heading_ids(out, kind)
    return out


PAGE_IDS = frozenset(("main", "site-search-q"))
"""Element ids every page of the default theme has (base.html and its search box)."""
THEME_IDS = {
    "article": PAGE_IDS | {"later-heading", "related-heading"},
    "topic": PAGE_IDS | {"activity-heading", "activity-summary", "background", "latest-dev",
                         "related-topics-heading", "timeline-heading"},
    "page": PAGE_IDS,
}
"""Ids the theme puts on the page a Markdown body is shown on, by kind of page (so a heading
never takes one; tests/test_markdown.py checks these against the templates)."""
_TOPIC_DAY = re.compile(r"day-\d{4}-\d{2}-\d{2}")
"""The ids of a topic timeline's days."""


def _add_heading_ids(out: str, kind: str) -> str:
    used: dict[str, int] = {}
    taken = THEME_IDS[kind]

    def add(m: re.Match) -> str:
        base = slugify(htmllib.unescape(_TAG.sub("", m.group(2))), 60) or "section"
        if base not in used and (base in taken or kind == "topic" and _TOPIC_DAY.fullmatch(base)):
            used[base] = 1  # the page has that id already: this heading gets base-1
        n = used.get(base, 0)
        used[base] = n + 1
        ident = base if n == 0 else f"{base}-{n}"
        return f'<h{m.group(1)} id="{ident}">{m.group(2)}</h{m.group(1)}>'

    return _HEADING.sub(add, out)


def plain_text(rendered: str) -> str:
    """Visible text of rendered HTML, one line per block."""
    text = _TAG.sub("", _BLOCK_END.sub("\n", rendered))
    text = htmllib.unescape(text)
    return "\n".join(line.strip() for line in text.split("\n") if line.strip())


def excerpt(text: str, limit: int = 240) -> str:
    """The first paragraph, cut at a word boundary near ``limit`` characters."""
    first = text.strip().split("\n", 1)[0].strip()
    if len(first) <= limit:
        return first
    cut = first[:limit].rsplit(" ", 1)[0].rstrip(",;:–—-")
    return cut + "…"


def relocate_links(rendered: str, root: str) -> str:
    """Point root-relative links (``/articles/x/``) at ``root`` (a relative prefix or base URL).

    Authors write links as if the site lived at ``/``; this keeps them working under a
    sub-path ``base_url`` and from pages at any depth.
    """
    if '="/' not in rendered:
        return rendered
    return _ROOT_LINK.sub(lambda m: f'{m.group(1)}="{root}', rendered)
