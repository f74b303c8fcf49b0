"""Markdown: the fast renderer must agree with markdown-it-py, and raw HTML never passes."""

from __future__ import annotations

import glob
import re
from pathlib import Path

import pytest

from builder import markdown

SAMPLES = [
    "Hi <script>alert(1)</script> and <b>bold</b>",
    "[x](javascript:alert(1)) [y](JAVAscript:foo) [z](vbscript:x) ![i](data:text/html,x)",
    "| a | b |\n|---|---|\n| 1 | 2 |\n",
    "~~gone~~ *em* **strong** `code <x>`\n",
    "> quote\n>\n> — Someone\n",
    "- a\n  - b\n    - c\n\n1. one\n2. two\n",
    "```python\nprint('<x>')\n```\n",
    "Setext\n===\n\n## ATX heading\n",
    "<https://example.org> &amp; &copy; \\*not em\\* [ref]\n\n[ref]: https://e.com \"T\"\n",
    "<div>\nraw block\n</div>\n\ntext",
    "Line with trailing spaces  \nnext line\n",
    "“Curly quotes” – dashes — and Arabic: حلب\n",
]


def corpus_texts():
    texts = list(SAMPLES)
    repo = Path(__file__).resolve().parents[1]
    for path in sorted(glob.glob(str(repo / "content/**/*.md"), recursive=True)):
        texts.append(Path(path).read_text().split("---", 2)[2])
    return texts


@pytest.mark.parametrize("text", corpus_texts())
def test_fast_renderer_matches_markdown_it_py(text):
    reference = markdown.reference_renderer()
    assert markdown._renderer.render(text) == reference.render(text)


def test_raw_html_is_shown_as_text():
    html = markdown.render("<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>")
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;" in html


def test_dangerous_link_targets_are_not_links():
    html = markdown.render("[a](javascript:alert(1)) [b](https://ok.example/)")
    assert 'href="javascript' not in html
    assert '<a href="https://ok.example/">b</a>' in html


def test_headings_get_unique_ids():
    html = markdown.render("## Reaction\n\ntext\n\n## Reaction\n\n### Ça va?\n")
    assert '<h2 id="reaction">' in html and '<h2 id="reaction-1">' in html
    assert '<h3 id="ca-va">' in html


def test_plain_text_and_excerpt():
    html = markdown.render("First *para* here.\n\nSecond.")
    assert markdown.plain_text(html) == "First para here.\nSecond."
    long = "word " * 100
    ex = markdown.excerpt(long, 50)
    assert ex.endswith("…") and len(ex) <= 51


def test_root_relative_links_are_relocated():
    html = markdown.render("[a](/articles/x/) [b](//cdn.example/x) ![c](/img/c.png)")
    out = markdown.relocate_links(html, "../../")
    assert 'href="../../articles/x/"' in out and 'src="../../img/c.png"' in out
    assert 'href="//cdn.example/x"' in out


def test_input_that_panics_the_rust_renderer_falls_back_to_the_reference():
    """Found by the fuzz test in CI: markdown-it-pyrs panics (index out of bounds) on this."""
    from builder.markdown import reference_renderer, render
    text = "A\x81[f`\xf7\xe5\xe9\xad\xa9]\U00058f6e\xc2"
    assert render(text) == reference_renderer().render(text)


def test_heading_ids_never_take_an_id_the_theme_uses():
    body = "## Main\n\n## Main\n\n## Background\n\n## Day 2024-12-07\n\n## Related heading\n"
    ids = lambda html: re.findall(r'id="([^"]+)"', html)  # noqa: E731
    assert ids(markdown.render(body, "article")) == [
        "main-1", "main-2", "background", "day-2024-12-07", "related-heading-1"]
    assert ids(markdown.render(body, "topic")) == [
        "main-1", "main-2", "background-1", "day-2024-12-07-1", "related-heading"]
    assert ids(markdown.render(body)) == [
        "main-1", "main-2", "background", "day-2024-12-07", "related-heading"]


def test_the_theme_ids_are_those_of_the_templates_that_show_a_body():
    theme = Path(markdown.__file__).parent / "theme" / "templates"

    def fixed_ids(*names: str) -> set[str]:
        found = set()
        for name in names:
            text = (theme / name).read_text(encoding="utf-8")
            found |= {i for i in re.findall(r'\bid="([^"]*)"', text) if "{" not in i}
        return found

    assert markdown.PAGE_IDS == fixed_ids("base.html", "search_box.html")
    assert markdown.THEME_IDS["article"] == fixed_ids("base.html", "search_box.html", "article.html")
    assert markdown.THEME_IDS["topic"] == fixed_ids("base.html", "search_box.html", "topic.html")
    assert 'id="day-{{ day|iso }}"' in (theme / "topic.html").read_text(encoding="utf-8")
