"""What the two readers (raw text, HTML) produce and the boilerplate rules work on.

A reader turns its input into a :class:`Draft`: metadata it found plus the body as a sequence of
:class:`Block` values, each carrying the plain text a reader of the page would see (what the
rules match against) and the Markdown that goes into the article. Keeping both side by side lets
the rules stay ignorant of Markdown and the writer stay ignorant of the rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class Block:
    """One paragraph-level piece of the body, in reading order."""

    kind: str
    """``p``, ``h2``..``h6``, ``li``, ``quote``, ``table``, ``code`` or ``line`` (raw text line)."""
    text: str
    """Plain text as read on the page: what boilerplate rules match."""
    markdown: str
    """The same content as Markdown (links, emphasis, list marker, quote marker included)."""
    link_chars: int = 0
    """How many characters of ``text`` sit inside links (HTML only): promo lists are all link."""
    group: int = 0
    """Items of one list share a group and are written without blank lines between them."""

    @property
    def link_share(self) -> float:
        visible = len(re.sub(r"\s+", "", self.text))
        return self.link_chars / visible if visible else 0.0


@dataclass(frozen=True)
class Draft:
    """An article as read from one input file, before it is checked and written."""

    blocks: tuple[Block, ...]
    title: str | None = None
    date: str | None = None
    """ISO date (YYYY-MM-DD) or datetime found in the file itself."""
    source: str | None = None
    """Outlet name as the page states it (never guessed for raw text)."""
    source_url: str | None = None
    author: str | None = None
    summary: str | None = None
    section: str | None = None
    image_caption: str | None = None
    image_credit: str | None = None
    extra: tuple[tuple[str, str], ...] = ()
    """Text taken out of the body but worth keeping (rights notice, agency credits), by name."""
    removed: tuple[tuple[str, str], ...] = field(default=(), compare=False)
    """(rule name, text) for every piece of boilerplate taken out: for ``--explain``-style output."""

    def with_blocks(self, blocks, **changes) -> "Draft":
        return replace(self, blocks=tuple(blocks), **changes)

    def body_markdown(self) -> str:
        parts: list[str] = []
        previous: Block | None = None
        for block in self.blocks:
            if (previous is not None and block.kind == "li" and previous.kind == "li"
                    and block.group == previous.group):
                parts.append("\n")
            elif parts:
                parts.append("\n\n")
            parts.append(block.markdown)
            previous = block
        return "".join(parts).strip() + "\n" if parts else ""

    def body_text(self) -> str:
        return "\n\n".join(b.text for b in self.blocks)


# --- Markdown escaping -------------------------------------------------------------------------
# Imported text is prose, never markup: anything Markdown would interpret is escaped, so a
# headline with an asterisk or a page quoting "<script>" reads exactly as it did on the page.

_INLINE_SPECIAL = re.compile(r"([\\`*\[\]<>~|])")
_LONE_UNDERSCORE = re.compile(r"(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")
_ENTITY = re.compile(r"&(?=#?[0-9A-Za-z]+;)")
_BLOCK_START = re.compile(r"^(\s*)([#>+=-]|\d+[.)])(?=\s|$)")


def escape_inline(text: str) -> str:
    text = _INLINE_SPECIAL.sub(r"\\\1", text)
    text = _LONE_UNDERSCORE.sub(r"\\_", text)
    return _ENTITY.sub("&amp;", text)


def escape_line_starts(markdown: str) -> str:
    """Escape what would turn a line of prose into a heading, list item, quote or rule."""
    lines = []
    for line in markdown.split("\n"):
        match = _BLOCK_START.match(line)
        if match:
            lead, marker = match.group(1), match.group(2)
            if marker[0].isdigit():
                marker = marker[:-1] + "\\" + marker[-1]
            else:
                marker = "\\" + marker
            line = lead + marker + line[match.end():]
        lines.append(line)
    return "\n".join(lines)


def prose(text: str) -> str:
    """Plain text to Markdown for one paragraph."""
    return escape_line_starts(escape_inline(text))
