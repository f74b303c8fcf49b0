"""Boilerplate rules, as data, in one place.

Every rule names the block it recognises — by a regular expression over the block's plain text
(whole-block match, case-insensitive, whitespace squashed) or by a structural test from
:data:`TESTS` — and what to do with it. To teach the importer another outlet's habits, add a
``Rule`` to :data:`RULES` with a line saying why; nothing else in the package knows about
boilerplate.

Actions:
- ``drop``: remove the block.
- ``drop-run``: remove the block and the run of following blocks that pass the ``follow`` test
  (a "Read more:" and its link titles; "Articles You May Like" and its headlines).
- ``caption``: remove the block and the next one, which is an image caption; the first caption
  of the article becomes ``image_caption`` with its credit split off.
- ``strip``: remove only the matched text (``search``, not whole-block) from the block.

``where`` limits a rule to the ``head`` of the article (before its first prose paragraph), where
headlines, datelines and breadcrumbs live, or lets it apply ``anywhere``. ``limit`` caps how many
following blocks a ``drop-run`` may take.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from .document import Block, Draft, prose


@dataclass(frozen=True)
class Rule:
    name: str
    why: str
    pattern: str | None = None
    test: str | None = None
    action: str = "drop"
    follow: str | None = None
    limit: int = 50
    where: str = "anywhere"
    kinds: tuple[str, ...] = ()
    """Block kinds the rule looks at; empty means all."""
    max_words: int | None = None
    """Only blocks this short: keeps sentence-like patterns off real paragraphs."""
    keep_as: str | None = None
    """Out of the body, but not lost: the first such text goes to ``extra.<keep_as>``."""


# Reused pieces of patterns.
_SOCIAL = r"(twitter|facebook|instagram|youtube|linkedin|tiktok|threads|bluesky|whatsapp|telegram)"
_NEWSLETTER = r"(newsletters?|inbox|(e-?mail|daily|weekly) (updates|alerts|briefing|digest|bulletin))"

RULES: tuple[Rule, ...] = (
    # --- the seed's outlet (raw text copied from a news page) ------------------------------
    Rule("image-caption", "An image block: 'Image:' then a caption ending in its credit.",
         pattern=r"image:?", action="caption"),
    Rule("more-from-section", "Section promo between paragraphs, e.g. 'More from World'.",
         pattern=r"more from [\w&'’ -]{1,40}"),
    Rule("video-player-notice", "Video player notice left where an embedded video was.",
         pattern=r"please use (the )?chrome browser for a more accessible video player"),
    Rule("video-duration", "Bare duration of an embedded video; the line after it is the "
         "video's caption, not article text.",
         pattern=r"\d{1,2}(:\d{2}){1,2}", action="drop-run", follow="caption-line", limit=1),
    Rule("read-more", "'Read more:' and the link titles listed under it.",
         pattern=r"(read|see|watch) (more|also)( on this story| here)?\s*[:>»]?",
         action="drop-run", follow="link-titles"),
    Rule("may-like", "Lists of other stories; everything after the marker that is only "
         "headlines goes with it.",
         pattern=r"(articles|stories|posts|videos)? ?(that )?you (may|might|could) (also )?"
                 r"(like|enjoy|be interested in)(\.\.\.|…)?[:.!]?",
         action="drop-run", follow="headlines"),
    Rule("related-marker", "'Related stories', 'Popular on X', 'Don't miss', 'Trending', "
         "'More:' headers over lists of other headlines.",
         pattern=r"(related( articles| stories| posts| coverage| content| links| reading)?|"
                 r"more (stories|news|articles|on this( story)?)|more|popular( now| on [\w .'-]{1,30})?|"
                 r"most (read|popular|viewed)|trending( now)?|don[’']?t miss|recommended( for you)?|"
                 r"top stories|latest (news|stories)|(editor[’']?s )?picks|also read|"
                 r"further reading)\s*[:.!]?",
         action="drop-run", follow="headlines"),

    # --- headline area (HTML pages repeat their title, deck and dateline in the body) -------
    Rule("repeated-title", "The headline again at the top of the body; it is the `title`.",
         test="title-like", where="head"),
    Rule("deck", "Standfirst heading right under the headline; it is the `summary`.",
         test="deck", where="head"),
    Rule("breadcrumb", "Category labels and breadcrumbs above the headline ('News>', 'Nation').",
         test="short-link", where="head"),
    Rule("dateline", "A line that only states when (and by whom) the story was published.",
         test="dateline", where="head"),
    Rule("updated-line", "'Updated at 1:23 p.m.' style stamps anywhere in the body.",
         pattern=r"(updated|published|posted|last (updated|modified))( on| at)?\s*:?\s*"
                 r"[\w ,.:/-]{0,40}\d[\w ,.:/-]{0,40}",
         max_words=12),
    Rule("own-url", "The page's own address standing alone (a print or share leftover); "
         "other bare URLs are a story's sources and stay.",
         pattern=r"(https?://|www\.)\S+", test="own-url"),

    # --- links to elsewhere -------------------------------------------------------------------
    Rule("link-list", "A list whose every item is a short link: 'related stories' lists.",
         test="link-list", kinds=("li",)),
    Rule("bracketed-promo", "An inline promo for another story: '[Related: ...]', "
         "'SEE MORE: ...', '(Read also: ...)', 'Also on site.com ...'.",
         pattern=r"[\[(]?\s*(related|see more|read more|read also|leggi anche( su)?|also on "
                 r"[\w.]+|more|watch|listen|related post|related roundup|recommended)\s*:?\s+.{3,200}?"
                 r"[\])]?", test="link-heavy"),
    Rule("related-label", "'Related: <headline>', 'Tag: ...', 'Filed under: ...' lines.",
         pattern=r"(related( post| roundup| article| story| video)?|see also|tag(s|ged)?|"
                 r"buyer[’']?s guide|"
                 r"filed under|categor(y|ies)|topics?)\s*:\s*[^!?]{1,140}[.!?]?\s*\|?",
         max_words=20),
    Rule("cta-caps", "A shouting call to action linked elsewhere: 'GET THE QUIZ: INSTANT "
         "DOWNLOAD!', 'CLICK HERE TO GET THE APP'.",
         test="caps-link"),
    Rule("click-to-tweet", "'Click To Tweet' buttons glued to a pull quote.",
         pattern=r"\s*click to tweet\s*$", action="strip"),
    Rule("shortcode", "WordPress shortcodes that leaked as text: '[button ...]...[/button]'.",
         pattern=r"\[(\w+)[^\]]*\].*?\[/\1\]|\[/?(button|caption|embed|gallery)[^\]]*\]",
         action="strip"),

    # --- page furniture that survives extraction ---------------------------------------------------
    Rule("ad-label", "Advertising labels and 'continue reading' hints between paragraphs.",
         pattern=r"(advertisement|advert|sponsored( content)?|ad feedback|"
                 r"story continues (below|after) (this )?(advertisement|advert|ad)|"
                 r"(continue|keep) reading( the main story| below)?|"
                 r"scroll (down )?to continue( with content| reading)?|skip (advert|ad)\w*)"
                 r"\s*[.:]?"),
    Rule("photo-credit", "Picture credits standing alone: 'Image copyright Getty Images', "
         "'(AP Photo/Jane Doe)', 'Photo: Reuters'.",
         pattern=r"\(?\s*((image|photo(graph)?|picture|video) (copyright|source|credit)s?|"
                 r"(photo|picture|image|credit)s?\s*(:|by))?\s*[\w .,'’/&-]{0,60}\b"
                 r"(getty images|ap photo|afp|reuters|epa|shutterstock|pa (wire|media)|"
                 r"alamy)\b[\w .,'’/&-]{0,40}\)?",
         max_words=12),

    # --- the outlet talking about itself --------------------------------------------------------
    Rule("subscription-offer", "Magazine and paper subscription offers: 'Get Motor Cycle "
         "Monthly delivered through your letterbox every month. 12 issues for £11.99.'",
         pattern=r".{0,160}\b(\d+ issues for|subscribe (now|today)|subscription offer|"
                 r"delivered (to|through) your (door|letterbox))\b.{0,200}",
         max_words=45),
    Rule("newsletter", "Newsletter sign-ups: 'Sign up for our newsletter', 'Get the latest "
         "updates right in your inbox'.",
         pattern=rf"(.{{0,160}}[.!?:] )?(sign(ing)? up|subscribe|get|join|start your day)\b.{{0,200}}"
                 rf"\b{_NEWSLETTER}\b.{{0,200}}",
         max_words=45),
    Rule("signup-messages", "Messages of a sign-up form that trafilatura keeps as text.",
         pattern=r"(thanks?( you)? for (signing up|subscribing)!?|keep an eye on your inbox.*|"
                 r"sorry!?|there was an error processing your subscription\.?|"
                 r"an error has occurred, please try again later\.?|thank you!?|"
                 r"this article has been sent to.*)",
         max_words=15),
    Rule("follow-us", "'Follow us on Twitter', 'Follow Newsbeat on Instagram, Facebook...', "
         "'Listen to Newsbeat live at 12:45'.",
         pattern=rf"(follow|like|subscribe to|find|join|listen to|watch) .{{0,60}}"
                 rf"\b({_SOCIAL}|podcast|on the go|live at)\b.{{0,200}}",
         max_words=40),
    Rule("author-bio", "Author blurbs ending in 'Follow him on Twitter'.",
         pattern=rf".{{0,300}}[.!?]\s+follow (him|her|them|us)\b[^.!?]{{0,80}}\b{_SOCIAL}\b.{{0,160}}",
         max_words=70),
    Rule("app-promo", "App and subscription promos: 'CLICK HERE TO GET THE FOX NEWS APP'.",
         pattern=r"(click|tap) here\b.{0,100}|get .{0,40}\b(app|on the go)\b.{0,60}|"
                 r"download (the|our) .{0,40}\bapp\b.{0,60}",
         max_words=20),
    Rule("tip-line", "'Have a tip? <reporter> may be reached at...', 'Email <reporter> at', "
         "'Write to <reporter> at'.",
         pattern=r"(have a (news )?tip\??|e-?mail [\w .'-]{1,40} at|write to [\w .'-]{1,40} at|"
                 r"contact (the )?(author|reporter|writer)).{0,300}",
         max_words=45),
    Rule("reporting-credits", "Agency credit lines: '(Reporting by ...; Editing by ...)', "
         "'Additional reporting by ...', '... contributed to this report'.",
         pattern=r"\(?\s*((additional )?(reporting|writing|editing|compiled|produced) by|"
                 r"with reporting by|this story was (reported|produced|written)).{0,300}|"
                 r".{0,300}\b(contributed (reporting|to this (report|story|article))|"
                 r"contributed reporting from).{0,80}",
         max_words=60, keep_as="credits"),
    Rule("source-line", "'SOURCE: Al Jazeera News' sign-offs.",
         pattern=r"source\s*:\s*[\w .,&'-]{1,60}"),
    Rule("copyright", "Copyright and reuse notices: a (c) sign, 'copyright' near a year, "
         "'all rights reserved'.",
         pattern=r".{0,80}(©|ⓒ|\(c\) \d{4}|copyright\b(?=.{0,60}\d{4})|all rights reserved)"
                 r".{0,250}",
         max_words=40, keep_as="rights"),
    Rule("reprint-notice", "Print/reprint tool text: 'This copy is for your personal, "
         "non-commercial use only', 'Order Reprints', 'Print Article'.",
         pattern=r"(this copy is for your personal, non-commercial use only.*|order reprints|"
                 r"print (this )?article|share this (article|story)|reprints?)"),
    Rule("comments-header", "Comment-section headers left when comments are dropped.",
         pattern=r"(\d+ )?(comments?|leave a (comment|reply)|tell us what you think.{0,20}|"
                 r"join the (conversation|discussion)|add your comment|comments? are closed\.?)"),
    Rule("affiliate", "Affiliate and sponsorship disclosures.",
         pattern=r".{0,60}\b(if you (buy|purchase|click) (something|anything|through)|"
                 r"we may (earn|receive|get) (a|an)? ?(commission|share)|"
                 r"may get a share of the sale|affiliate (links?|commission)).{0,250}",
         max_words=50),
    Rule("membership-pitch", "Membership pitches: 'If you enjoyed this article, ... join'.",
         pattern=r"(if you (enjoyed|liked|value) this (article|story|piece|post).{0,400}|"
                 r"something to consider|support (our|independent) journalism.{0,200}|"
                 r"become a (member|subscriber|supporter).{0,200})",
         max_words=80),
)


# --- structural tests ------------------------------------------------------------------------

def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def _similar(a: str, b: str) -> float:
    """Words in common over the words of the longer text: 1.0 for the same wording."""
    wa, wb = set(_words(a)), set(_words(b))
    if not wa or not wb:
        return 0.0
    return len(wa & wb) / max(len(wa), len(wb))


def _headline_like(block: Block) -> bool:
    """Short and not a sentence: what titles of other stories look like."""
    words = _words(block.text)
    if not words or len(words) > 22 or "\n" in block.text.strip():
        return False
    return not re.search(r"[.;,]['\"”’)]?$", block.text.strip()) or block.link_share >= 0.6


@dataclass
class Context:
    blocks: list[Block]
    i: int
    title: str
    summary: str
    head: bool
    source_url: str
    previous_dropped_by: str | None
    kept: int
    """How many blocks before this one were kept."""
    dropped: tuple[str, ...]
    """Names of the rules that removed the blocks before this one."""


def _title_like(c: Context) -> bool:
    block = c.blocks[c.i]
    if block.kind not in ("h2", "h3", "h4", "h5", "h6", "p") or len(_words(block.text)) > 40:
        return False
    # only once, and only before anything of the article was kept
    if not c.title or c.kept or "repeated-title" in c.dropped:
        return False
    similar = _similar(block.text, c.title)
    if block.kind == "p" and re.search(r"[.!?]['\"”’)]?$", block.text.strip()) and similar < 0.9:
        return False  # a sentence: the lead paragraph retelling the headline, not the headline
    if similar >= 0.6:
        return True
    # the headline run together with its dateline or byline ('<title> 05/10/2018 - By ...')
    title_words, words = _words(c.title), _words(block.text)
    if (len(title_words) >= 3 and words[: len(title_words)] == title_words
            and len(words) - len(title_words) <= 12
            and not re.search(r"[.!?]['\"”’)]?$", block.text.strip())):
        return True
    # a heading at the very top (only breadcrumbs and datelines before it) is the page's
    # headline whatever its wording
    return (block.kind.startswith("h") and c.kept == 0
            and set(c.dropped) <= {"breadcrumb", "dateline", "own-url"})


def _deck(c: Context) -> bool:
    block = c.blocks[c.i]
    if not block.kind.startswith("h") or c.previous_dropped_by != "repeated-title":
        return False
    return len(_words(block.text)) >= 6 or (c.summary and _similar(block.text, c.summary) >= 0.7)


def _short_link(c: Context) -> bool:
    block = c.blocks[c.i]
    return block.link_share >= 0.8 and len(_words(block.text)) <= 4


def _dateline(c: Context) -> bool:
    from .text import only_a_date

    return only_a_date(c.blocks[c.i].text.strip())


def _link_list(c: Context) -> bool:
    block = c.blocks[c.i]
    items = [b for b in c.blocks if b.kind == "li" and b.group == block.group]
    return all(b.link_share >= 0.8 and len(_words(b.text)) <= 20 for b in items)


def _own_url(c: Context) -> bool:
    from .store import normalise_url

    return bool(c.source_url) and (normalise_url(c.blocks[c.i].text.strip())
                                   == normalise_url(c.source_url))


def _link_heavy(c: Context) -> bool:
    return c.blocks[c.i].link_share >= 0.5


def _caps_link(c: Context) -> bool:
    block = c.blocks[c.i]
    letters = [ch for ch in block.text if ch.isalpha()]
    return (block.link_share >= 0.8 and len(letters) >= 8 and len(_words(block.text)) <= 15
            and sum(ch.isupper() for ch in letters) / len(letters) > 0.9)


TESTS: dict[str, Callable[[Context], bool]] = {
    "title-like": _title_like,
    "deck": _deck,
    "short-link": _short_link,
    "dateline": _dateline,
    "link-list": _link_list,
    "link-heavy": _link_heavy,
    "own-url": _own_url,
    "caps-link": _caps_link,
}

# Tests for the blocks a ``drop-run`` takes along.
FOLLOW: dict[str, Callable[[Block, Block], bool]] = {
    # the one short line naming a video, right after its duration
    "caption-line": lambda first, b: _headline_like(b) and len(_words(b.text)) <= 15,
    # link titles: lines of the same raw paragraph, or short link-only blocks
    "link-titles": lambda first, b: (
        (first.kind == "line" and b.kind == "line" and b.group == first.group)
        or (b.kind != "line" and b.link_share >= 0.6 and _headline_like(b))),
    # other stories' headlines, linked or not, until prose starts again
    "headlines": lambda first, b: _headline_like(b) or (b.link_share >= 0.8
                                                        and len(_words(b.text)) <= 30),
}


# --- applying the rules ---------------------------------------------------------------------

_CREDIT = re.compile(r"\s*[(\[]?\b(pic(ture)?s?|photo(graph)?s?|image|credit|source)\s*:\s*"
                     r"(?P<credit>[^)\]]+)[)\]]?\s*$", re.I)


def _compiled(rule: Rule) -> re.Pattern | None:
    if rule.pattern is None:
        return None
    cached = _PATTERNS.get(rule.name)
    if cached is None:
        cached = _PATTERNS[rule.name] = re.compile(rule.pattern, re.I | re.S)
    return cached


_PATTERNS: dict[str, re.Pattern] = {}


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _matches(rule: Rule, ctx: Context) -> bool:
    block = ctx.blocks[ctx.i]
    if rule.kinds and block.kind not in rule.kinds:
        return False
    if rule.where == "head" and not ctx.head:
        return False
    if rule.max_words is not None and len(_words(block.text)) > rule.max_words:
        return False
    pattern = _compiled(rule)
    if pattern is not None:
        text = _squash(block.text)
        if rule.action == "strip":
            if not pattern.search(text):
                return False
        elif not pattern.fullmatch(text):
            return False
    if rule.test is not None and not TESTS[rule.test](ctx):
        return False
    return True


def _is_prose(block: Block) -> bool:
    """A paragraph of the article proper: ends the headline area."""
    if block.kind not in ("p", "quote", "line"):
        return False
    words = _words(block.text)
    return len(words) >= 12 or (len(words) >= 6 and re.search(r"[.!?]['\"”’]?$", block.text.strip()))


def clean(draft: Draft, rules: tuple[Rule, ...] = RULES) -> Draft:
    """Apply every rule in order of the blocks; returns the draft without its boilerplate."""
    blocks = list(draft.blocks)
    kept: list[Block] = []
    removed: list[tuple[str, str]] = list(draft.removed)
    caption = draft.image_caption
    credit = draft.image_credit
    kept_aside: dict[str, str] = dict(draft.extra)
    head = True
    last_drop: str | None = None
    i = 0
    while i < len(blocks):
        block = blocks[i]
        ctx = Context(blocks=blocks, i=i, title=draft.title or "", summary=draft.summary or "",
                      head=head, source_url=draft.source_url or "", previous_dropped_by=last_drop, kept=len(kept),
                      dropped=tuple(name for name, _ in removed[len(draft.removed):]))
        rule = next((r for r in rules if _matches(r, ctx)), None)
        if rule is None:
            kept.append(block)
            if head and _is_prose(block):
                head = False
            last_drop = None
            i += 1
            continue
        last_drop = rule.name
        if rule.keep_as and rule.keep_as not in kept_aside:
            kept_aside[rule.keep_as] = _squash(block.text)
        if rule.action == "strip":
            text = _squash(_compiled(rule).sub(" ", block.text))
            removed.append((rule.name, block.text))
            if _words(text):
                kept.append(Block(kind=block.kind, text=text, markdown=_restyle(block, text),
                                  link_chars=0, group=block.group))
            i += 1
            continue
        removed.append((rule.name, block.text))
        i += 1
        if rule.action == "caption" and i < len(blocks):
            text = _squash(blocks[i].text)
            removed.append((rule.name, blocks[i].text))
            if caption is None:
                match = _CREDIT.search(text)
                caption = text[: match.start()].strip() if match else text
                credit = match.group("credit").strip() if match else None
            i += 1
        elif rule.action == "drop-run":
            follow = FOLLOW[rule.follow]
            taken = 0
            while i < len(blocks) and taken < rule.limit and follow(block, blocks[i]):
                removed.append((rule.name, blocks[i].text))
                i += 1
                taken += 1
    summary = draft.summary
    if not summary:
        deck = next((text for name, text in removed if name == "deck"), None)
        summary = _squash(deck) if deck else None
    return draft.with_blocks(kept, removed=tuple(removed), image_caption=caption or None,
                             image_credit=credit, summary=summary,
                             extra=tuple(kept_aside.items()))


def _restyle(block: Block, text: str) -> str:
    md = prose(text)
    if block.kind.startswith("h") and block.kind[1:].isdigit():
        return "#" * int(block.kind[1]) + " " + md
    if block.kind == "li":
        return "- " + md
    if block.kind == "quote":
        return "> " + md
    return md
