"""HTML news pages: trafilatura finds the article, we turn its XML into Markdown blocks.

trafilatura's own Markdown output leaves relative links relative (they would point into our
site) and gives no per-paragraph structure to clean, so we ask for its XML (``<p>``, ``<head>``,
``<list>``, ``<quote>``, ``<table>``, ``<ref>``, ``<hi>``) and convert that ourselves: links made
absolute against the page's URL, anything but http(s)/mailto links dropped, every paragraph a
:class:`Block` with the share of its text that is link text (what gives promo lists away).
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit, urlunsplit

from lxml import etree

from .document import Block, Draft, escape_inline, escape_line_starts

# Comments are readers', not the article's; tables and formatting are kept.
EXTRACT_OPTIONS = dict(
    output_format="xml",
    include_comments=False,
    include_links=True,
    include_formatting=True,
    include_tables=True,
    include_images=False,
)

# htmldate's extensive search guesses from any date-like string in the page (a "© 2019", a
# related story's date); an article filed under a wrong day is worse than a clear "no date
# found (pass --date)", so only dates the page states as its own count.
DATE_OPTIONS = dict(original_date=True, extensive_search=False)


class NoArticle(Exception):
    """The page parsed, but holds no article text."""


def looks_like_html(data: str) -> bool:
    head = data[:2048].lstrip("\ufeff \t\r\n").lower()
    return head.startswith(("<!doctype html", "<html", "<?xml")) or bool(
        re.search(r"<(html|head|body|article|p|div)[\s>]", head))


def read_html(data: str | bytes, url: str | None = None) -> Draft:
    """Extract the article of one HTML page; raises :class:`NoArticle` when there is none."""
    import trafilatura
    from trafilatura.metadata import extract_metadata

    tree = trafilatura.load_html(data)
    if tree is None:
        raise NoArticle("could not parse the HTML")
    stated_url = _stated_url(tree)
    meta = extract_metadata(tree, default_url=url, date_config={
        **DATE_OPTIONS, "max_date": _today()})
    page_url = meta.url or stated_url or url
    base = _clean_url(page_url) if page_url else None
    body_tree = trafilatura.load_html(data)
    _unwrap_embedded_posts(body_tree)
    xml = trafilatura.extract(body_tree, url=base, **EXTRACT_OPTIONS)
    if not xml:
        raise NoArticle("no article text found in the HTML")
    blocks = xml_to_blocks(xml, base)
    if not blocks:
        raise NoArticle("no article text found in the HTML")
    sitename = _as_written(_one_line(meta.sitename), data)
    body_text = " ".join(b.text for b in blocks)
    return Draft(
        blocks=tuple(blocks),
        title=_without_site_name(_one_line(meta.title), sitename, meta.hostname),
        date=meta.date or None,
        source=sitename,
        source_url=base if base and base.startswith(("http://", "https://")) else None,
        author=_one_line(meta.author),
        summary=_about_the_article(_one_line(meta.description), body_text),
    )


def _stated_url(tree) -> str | None:
    """The page's own address from <link rel=canonical> or og:url, when trafilatura missed it."""
    for xpath in ('//link[@rel="canonical"]/@href', '//meta[@property="og:url"]/@content'):
        for value in tree.xpath(xpath):
            value = value.strip()
            if value.startswith(("http://", "https://")):
                return value
    return None


def _as_written(name: str | None, data: str | bytes) -> str | None:
    """The outlet's name spelled as the page spells it (trafilatura title-cases 'nj' to 'Nj')."""
    if not name:
        return name
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    match = re.search(r'content=["\']\s*(' + re.escape(name) + r')\s*["\']', text, re.I)
    return match.group(1) if match else name


_TITLE_SEPARATOR = re.compile(r"\s+(?:[-|–—·•:]|::)\s+")


def _without_site_name(title: str | None, sitename: str | None, hostname: str | None) -> str | None:
    """'Saraki drags IGP to court - The Paradigm' -> 'Saraki drags IGP to court'."""
    if not title:
        return title
    parts = _TITLE_SEPARATOR.split(title)
    if len(parts) < 2:
        return title
    names = {_key(sitename or "")} | {_key(hostname or "")} | {
        _key((hostname or "").split(".")[-2] if hostname and "." in hostname else "")}
    names.discard("")
    def is_site(part: str) -> bool:
        key = _key(part)
        return key in names or any(min(len(key), len(n)) >= 5 and (key in n or n in key)
                                   for n in names)

    if is_site(parts[-1]):
        return title[: title.rfind(parts[-1])].rstrip(" -|–—·•:").strip()
    if is_site(parts[0]):
        return title[len(parts[0]):].lstrip(" -|–—·•:").strip()
    return title


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower().removeprefix("www."))


def _about_the_article(description: str | None, body_text: str) -> str | None:
    """A page's description, unless it is the site's slogan ('Music, Film, TV and Political
    News Coverage') rather than a summary of this article: most of its words must occur in
    the article."""
    if not description:
        return None
    words = set(re.findall(r"\w+", description.lower()))
    body = set(re.findall(r"\w+", body_text.lower()))
    if not words or len(words & body) / len(words) < 0.5:
        return None
    return description


# Posts a story quotes (a governor's tweet, a club's statement) are part of the story, but the
# markup they come in ("twitter-tweet" inside "social-media-embed" or "article-widget" wrappers)
# is what trafilatura prunes as social-media clutter. Each one is replaced by a plain
# <blockquote> of its own text, standing where its outermost wrapper stood.
EMBEDDED_POSTS = (
    '//blockquote[contains(concat(" ", normalize-space(@class), " "), " twitter-tweet ")]',
    '//blockquote[contains(concat(" ", normalize-space(@class), " "), " instagram-media ")]',
    '//blockquote[contains(concat(" ", normalize-space(@class), " "), " tiktok-embed ")]',
    '//blockquote[contains(concat(" ", normalize-space(@class), " "), " bluesky-embed ")]',
    '//blockquote[contains(concat(" ", normalize-space(@class), " "), " mastodon-embed ")]',
)


def _unwrap_embedded_posts(tree) -> None:
    from copy import deepcopy

    from lxml.html import Element

    for xpath in EMBEDDED_POSTS:
        for quote in tree.xpath(xpath):
            own_text = _no_space(quote.text_content())
            if not own_text:
                continue
            outer = quote
            parent = outer.getparent()
            while (parent is not None and parent.tag in ("div", "figure", "section", "aside",
                                                         "span", "center")
                   and _no_space(_text_without_scripts(parent)) == own_text):
                outer = parent
                parent = outer.getparent()
            plain = Element("blockquote")
            plain.text = quote.text
            for child in quote:
                plain.append(deepcopy(child))
            plain.tail = outer.tail
            if parent is not None:
                parent.replace(outer, plain)


def _no_space(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _text_without_scripts(el) -> str:
    return "".join(t for t in el.xpath(".//text()[not(ancestor::script) and not(ancestor::style)]"))


def _today() -> str:
    from datetime import date
    return date.today().isoformat()


def _one_line(value: str | None) -> str | None:
    if not value:
        return None
    value = re.sub(r"\s+", " ", value).strip()
    return value or None


def _clean_url(url: str) -> str:
    """Canonical form for source_url: no fragment (``#comment-12``), scheme and host lower-case."""
    parts = urlsplit(url.strip())
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path, parts.query, ""))


# --- trafilatura XML -> blocks --------------------------------------------------------------

_HEADINGS = {"h1": "h2", "h2": "h2", "h3": "h3", "h4": "h4", "h5": "h5", "h6": "h6"}
"""The article title is the page's only h1; headings inside the body start at h2."""


class _Converter:
    def __init__(self, base: str | None):
        self.base = base
        self.blocks: list[Block] = []
        self.group = 0
        self.open_end = False
        """The last paragraph piece stopped mid-sentence."""
        self.open_space = False
        self.last_was_inline = False

    # block level
    def walk(self, parent) -> None:
        if parent.text and parent.text.strip():
            self.paragraph_from_text(parent.text)
        for child in parent:
            tag = child.tag
            if tag == "p":
                self.paragraph(child)
            elif tag == "head":
                md, text, links = self.inline(child)
                if text:
                    level = _HEADINGS.get(child.get("rend", "h2"), "h2")
                    self.add(level, text, "#" * int(level[1]) + " " + md.replace("\n", " "),
                             links)
            elif tag == "list":
                self.group += 1
                self.list(child, depth=0, group=self.group)
            elif tag == "quote":
                self.quote(child)
            elif tag == "table":
                self.table(child)
            elif tag == "code":
                text = "".join(child.itertext()).strip("\n")
                if text.strip():
                    fence = "~~~" if "```" in text else "```"
                    self.add("code", text, f"{fence}\n{text}\n{fence}")
            elif tag in ("div", "main", "section"):
                self.walk(child)
            elif tag in ("lb", "graphic"):
                pass
            else:  # stray inline element at block level (ref, hi): part of a split paragraph
                self.fragment(child, inline=True)
            if child.tail and child.tail.strip():
                self.paragraph_from_text(child.tail)

    def paragraph_from_text(self, raw: str) -> None:
        """Text standing loose between blocks: a paragraph, or the rest of a split one."""
        flat = re.sub(r"\s+", " ", raw)
        self.piece(escape_inline(flat), flat, 0, inline=True)

    def paragraph(self, el) -> None:
        self.fragment(el, inline=False)

    def fragment(self, el, inline: bool) -> None:
        """A paragraph, or a piece of one: trafilatura sometimes splits a paragraph around a
        link or an italic name (``<p>cited by </p><hi><ref>DigiTimes</ref></hi><p>. A</p>``).
        Pieces are joined back when one of them is such a stray inline element and the text
        runs on across the cut (no full stop before it, punctuation or lower case after it)."""
        if inline:  # read the element as the content of a paragraph, so its own link or
            # emphasis is kept; its tail is handled by the caller
            from copy import deepcopy
            holder = etree.Element("p")
            copy = deepcopy(el)
            copy.tail = None
            holder.append(copy)
            el = holder
        raw_md, raw_text, links = self.inline_raw(el)
        self.piece(raw_md, raw_text, links, inline)

    def piece(self, raw_md: str, raw_text: str, links: int, inline: bool) -> None:
        md, text = _tidy(raw_md, raw_text)
        if not text:
            return
        previous = self.blocks[-1] if self.blocks else None
        runs_on = (previous is not None and previous.kind == "p" and self.open_end
                   and (inline or self.last_was_inline)
                   and (inline or re.match(r"[\s.,;:!?)\]’”'\"a-z]", raw_text) is not None))
        if runs_on:
            joiner = " " if (self.open_space or raw_text[:1].isspace()) else ""
            if re.match(r"[.,;:!?)\]]", text):
                joiner = ""
            self.blocks[-1] = Block(kind="p", text=previous.text + joiner + text,
                                    markdown=previous.markdown + joiner + md,
                                    link_chars=previous.link_chars + links)
        else:
            self.add("p", text, escape_line_starts(md), links)
        self.open_end = not re.search(r"[.!?:…\"”’)\]]\s*$", raw_text)
        self.open_space = raw_text[-1:].isspace()
        self.last_was_inline = inline

    def list(self, el, depth: int, group: int) -> None:
        ordered = el.get("rend") == "ol"
        number = 0
        for item in el:
            if item.tag != "item":
                continue
            number += 1
            nested = [c for c in item if c.tag == "list"]
            md, text, links = self.inline(item, skip=("list",))
            marker = f"{number}. " if ordered else "- "
            indent = "  " * depth if not ordered else "   " * depth
            if text:
                body = escape_line_starts(md).replace("\n", "\n" + indent + " " * len(marker))
                self.add("li", text, indent + marker + body, links, group=group)
            for sub in nested:
                self.list(sub, depth + 1, group)

    def quote(self, el) -> None:
        paragraphs = [c for c in el if c.tag == "p"]
        parts = []
        if paragraphs:
            for p in paragraphs:
                parts.append(self.inline(p))
        else:
            parts.append(self.inline(el))
        parts = [p for p in parts if p[1]]
        if not parts:
            return
        md = "\n>\n".join("> " + escape_line_starts(p[0]).replace("\n", "\n> ") for p in parts)
        text = "\n".join(p[1] for p in parts)
        self.add("quote", text, md, sum(p[2] for p in parts))

    def table(self, el) -> None:
        rows = []
        for row in el.iter("row"):
            cells = [self.inline(cell)[0].replace("\\\n", " ")  # "|" is escaped already
                     for cell in row if cell.tag == "cell"]
            if any(c.strip() for c in cells):
                rows.append(cells)
        if not rows:
            return
        width = max(len(r) for r in rows)
        rows = [r + [""] * (width - len(r)) for r in rows]
        lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * width]
        lines += ["| " + " | ".join(r) + " |" for r in rows[1:]]
        text = "\n".join(" ".join(_squash("".join(c.itertext())) for c in row if c.tag == "cell")
                         for row in el.iter("row"))
        self.add("table", text, "\n".join(lines))

    def add(self, kind, text, markdown, link_chars=0, group=0) -> None:
        self.open_end = False
        self.blocks.append(Block(kind=kind, text=text, markdown=markdown.strip(),
                                 link_chars=link_chars, group=group))

    # inline level: returns (markdown, plain text, characters inside links)
    def inline(self, el, include_tail=False, skip=()) -> tuple[str, str, int]:
        markdown, plain, links = self.inline_raw(el, skip)
        return (*_tidy(markdown, plain), links)

    def inline_raw(self, el, skip=()) -> tuple[str, str, int]:
        """Like :meth:`inline` but keeps edge whitespace, which separates words between tags."""
        md: list[str] = []
        text: list[str] = []
        links = 0
        emphasis: tuple[int, str] | None = None
        """(position in md, marker) of an emphasis span just written, to join the next one."""

        def emit(raw: str | None) -> None:
            if raw:
                flat = re.sub(r"\s+", " ", raw)
                md.append(escape_inline(flat))
                text.append(flat)

        emit(el.text)
        for child in el:
            tag = child.tag
            if tag in skip:
                emit(child.tail)
                continue
            if tag == "lb":
                md.append("\\\n")
                text.append("\n")
            elif tag == "ref":
                cmd, ctext, _ = self.inline_raw(child)
                target = self.link(child.get("target"))
                if ctext.strip():
                    links += len(re.sub(r"\s+", "", ctext))
                    md.append(f"[{cmd.strip()}](<{target}>)" if target else cmd)
                    if ctext[:1].isspace():
                        md.insert(len(md) - 1, " ")
                    if ctext[-1:].isspace():
                        md.append(" ")
                    text.append(ctext)
            elif tag == "hi":
                cmd, ctext, clinks = self.inline_raw(child)
                links += clinks
                rend = child.get("rend", "")
                mark = {"#b": "**", "#i": "*"}.get(rend, "")
                stripped = cmd.strip()
                lead = " " if cmd[:1].isspace() else ""
                trail = " " if cmd[-1:].isspace() else ""
                before = lead or ("".join(md)[-1:] if md else "")
                after = trail or _next_char(child)
                if mark and stripped and not lead and emphasis == (len(md) - 1, mark) \
                        and md[-1].endswith(mark):
                    # <i>The</i><i>Hollywood Reporter</i>: one run, not "*The**Hollywood*";
                    # trafilatura's XML loses the space between such spans (its text output
                    # keeps it), so it is put back
                    md[-1] = md[-1][: -len(mark)]
                    md.append(f" {stripped}{mark}{trail}")
                    emphasis = (len(md) - 1, mark) if not trail else None
                    text.append(" " + ctext)
                    emit(child.tail)
                    continue
                if mark and stripped and "\n" not in stripped and before not in ("*", "_") \
                        and _can_emphasise(before, stripped, after):
                    md.append(f"{lead}{mark}{stripped}{mark}{trail}")
                    emphasis = (len(md) - 1, mark) if not trail else None
                    text.append(ctext)
                    emit(child.tail)
                    continue
                md.append(cmd)
                text.append(ctext)
            elif tag == "graphic":
                pass
            elif tag in ("code",):
                code = "".join(child.itertext())
                md.append("`" + code.replace("`", "") + "`" if code.strip() else "")
                text.append(code)
            else:  # del, span, nested p, anything else: keep its text
                cmd, ctext, clinks = self.inline_raw(child)
                md.append(cmd)
                text.append(ctext)
                links += clinks
            emit(child.tail)
        return "".join(md), "".join(text), links

    def link(self, target: str | None) -> str | None:
        if not target:
            return None
        target = target.strip()
        absolute = urljoin(self.base, target) if self.base else target
        if urlsplit(absolute).scheme not in ("http", "https", "mailto"):
            return None  # javascript:, data:, relative without a base: keep the words only
        return absolute.replace(">", "%3E").replace("<", "%3C").replace(" ", "%20")


def _next_char(el) -> str:
    """The first character after an inline element, as far as it can be told."""
    if el.tail:
        return el.tail[0]
    following = el.getnext()
    if following is not None:
        return ("".join(following.itertext()) or " ")[0]
    return " "


def _can_emphasise(before: str, content: str, after: str) -> bool:
    """Whether ``*content*`` opens and closes as emphasis by CommonMark's flanking rules.

    ``**[a link](url)**last`` does not (a closing run after punctuation must be followed by
    space or punctuation) and would show its asterisks; such text is kept plain instead.
    """
    def space(ch: str) -> bool:
        return not ch or ch.isspace()

    def punct(ch: str) -> bool:
        return bool(ch) and not ch.isalnum() and not ch.isspace()

    first, last = content[0], content[-1]
    opens = not space(first) and (not punct(first) or space(before) or punct(before))
    closes = not space(last) and (not punct(last) or space(after) or punct(after))
    return opens and closes


def _tidy(markdown: str, plain: str) -> tuple[str, str]:
    """Collapse spaces and trim both renderings of an inline run."""
    markdown = re.sub(r"[ \t]+", " ", markdown).strip(" ")
    markdown = re.sub(r" ?\\\n ?", "\\\n", markdown)
    markdown = re.sub(r"^(?:\\\n)+|(?:\\\n)+$", "", markdown)
    plain = re.sub(r"[ \t]+", " ", plain).strip()
    plain = re.sub(r" ?\n ?", "\n", plain)
    return (markdown if plain else ""), plain


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def xml_to_blocks(xml: str, base: str | None = None) -> list[Block]:
    root = etree.fromstring(xml.encode("utf-8"))
    main = root.find("main")
    converter = _Converter(base)
    converter.walk(main if main is not None else root)
    return converter.blocks
