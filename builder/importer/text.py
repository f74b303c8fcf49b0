"""Raw text copied from a news page: headline, section, then paragraphs mixed with boilerplate.

The shape (see ``tests/data/syria-raw.txt``)::

    <headline>

    <section>                      optional: one to four words, no full stop

    <paragraph>

    Image:                         boilerplate, handled by the rules in boilerplate.py
    <caption>. Pic: <credit>
    ...

Every non-empty line becomes a :class:`Block` of kind ``line``; the lines of one paragraph (no
blank line between them) share a ``group``, which is how the rules know that the titles under a
"Read more:" belong to it. A paragraph that is one sentence hard-wrapped over several lines is
joined back into one block first. A short line near the top that is only a date (or "By <name>")
becomes ``date`` (or ``author``).
"""

from __future__ import annotations

import re
from datetime import date

from .document import Block, Draft, prose

MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1)}

_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?\b")
_DAY_MONTH_YEAR = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+([A-Za-z]{3,9})\.?,?\s+(\d{4})\b")
_MONTH_DAY_YEAR = re.compile(r"\b([A-Za-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b")
_BYLINE = re.compile(r"(?i:by)\s+([A-Z][\w.'’-]*(?:\s+(?:[A-Z][\w.'’-]*|and|&|de|van|von|al))"
                     r"{0,5})\.?")

_DATE_PARTS = re.compile(  # what makes a line a date: a full date, a time or a month's name
    r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)?\b|"
    r"\b\d{1,4}[./-]\d{1,2}[./-]\d{1,4}\b|\b\d{1,2}:\d{2}(?::\d{2})?\b|"
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?(?=\W|$)", re.I)
_DAY_OR_YEAR = re.compile(r"\b\d{1,2}(?:st|nd|rd|th)?\b|\b(?:19|20)\d{2}\b", re.I)
_DATE_FILLER = re.compile(
    r"\b(?:(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)[a-z]*\.?|published|updated|posted|"
    r"last|modified|on|at|am|pm|a\.m\.|p\.m\.|gmt|utc|bst|cet|cest|est|edt|pst|pdt|et|pt|uk|"
    r"local|time)(?=\W|$)", re.I)


def only_a_date(line: str) -> bool:
    """Whether a line states nothing but when (and perhaps by whom) a story was published:
    'Monday 2 December 2024 10:32, UK', 'UPDATED: Tue., Nov. 19, 2019', '5:45 AM PST
    11/19/2019 by Patrick Shanley' -- but not 'Rebels took Aleppo on 30 November.'"""
    if not re.search(r"\d", line):
        return False
    rest, found = _DATE_PARTS.subn(" ", line)
    if not found:
        return False
    rest = _DATE_FILLER.sub(" ", _DAY_OR_YEAR.sub(" ", rest))
    rest = re.sub(r"(?i:\bby)\s+(?:[A-Z][\w.'’-]*\s*){1,4}", " ", rest)  # a byline may follow
    return len(re.findall(r"[^\W_]+", rest)) <= 1  # one label may stay ('Posted', '기사입력')


def find_date(line: str) -> str | None:
    """The ISO date a short dateline states ('2 December 2024', 'Dec 2, 2024', '2024-12-02')."""
    match = _ISO.search(line)
    if match:
        year, month, day = (int(g) for g in match.groups()[:3])
        return _valid(year, month, day)
    match = _DAY_MONTH_YEAR.search(line)
    if match and match.group(2)[:3].lower() in MONTHS:
        return _valid(int(match.group(3)), MONTHS[match.group(2)[:3].lower()],
                      int(match.group(1)))
    match = _MONTH_DAY_YEAR.search(line)
    if match and match.group(1)[:3].lower() in MONTHS:
        return _valid(int(match.group(3)), MONTHS[match.group(1)[:3].lower()],
                      int(match.group(2)))
    return None


def _valid(year: int, month: int, day: int) -> str | None:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def _is_section(line: str) -> bool:
    words = line.split()
    return 1 <= len(words) <= 4 and not re.search(r"[.!?:;,\"“”]$", line) and len(line) <= 40


def _hard_wrapped(lines: list[str]) -> bool:
    """One paragraph broken over lines (an e-mail or terminal copy), not a list of lines."""
    if len(lines) < 2:
        return False
    cut_mid_sentence = all(len(line) >= 40 and not re.search(r"[.!?:\"”]$", line)
                           for line in lines[:-1])
    # a list of headlines also has long lines without full stops; but wrapped prose carries on
    # in lower case somewhere
    return cut_mid_sentence and any(line[:1].islower() for line in lines[1:])


def read_text(data: str) -> Draft:
    lines = [line.strip() for line in data.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    paragraphs: list[list[str]] = []
    current: list[str] = []
    for line in lines:
        if line:
            current.append(re.sub(r"\s+", " ", line))
        elif current:
            paragraphs.append(current)
            current = []
    if current:
        paragraphs.append(current)
    if not paragraphs:
        return Draft(blocks=())

    # headline: the first line; section: a short second line of its own
    title = paragraphs[0][0]
    rest_of_first = paragraphs[0][1:]
    paragraphs = ([rest_of_first] if rest_of_first else []) + paragraphs[1:]
    section = None
    if paragraphs and len(paragraphs[0]) == 1 and _is_section(paragraphs[0][0]) \
            and not find_date(paragraphs[0][0]):
        section = paragraphs.pop(0)[0]

    # datelines and bylines directly under the headline
    found_date = author = None
    while paragraphs and len(paragraphs[0]) == 1 and len(paragraphs[0][0].split()) <= 14:
        line = paragraphs[0][0]
        stated = find_date(line) if only_a_date(line) else None
        byline = _BYLINE.fullmatch(line)
        if stated and found_date is None:
            found_date = stated
        elif byline and author is None:
            author = byline.group(1)
        else:
            break
        paragraphs.pop(0)

    blocks = []
    for group, paragraph in enumerate(paragraphs, start=1):
        if _hard_wrapped(paragraph):
            paragraph = [" ".join(paragraph)]
        for line in paragraph:
            blocks.append(Block(kind="line", text=line, markdown=prose(line), group=group))
    return Draft(blocks=tuple(blocks), title=title, section=section, date=found_date,
                 author=author)
