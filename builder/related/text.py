"""Per-article features: the article's most distinctive words, weighted, and the names in it.

``features()`` is pure and depends on nothing but the article's title and text and two settings
(the title weight and the number of terms kept), so the pipeline can compute it in worker
processes and cache it by content hash.

A word's weight is ``sqrt(count) * rarity``:
- ``count`` adds title occurrences times ``weights.title`` to body occurrences;
- ``rarity = max(0, RARITY_CEILING - zipf)`` from the fixed English table in ``background``
  (``the`` has Zipf 7.7 and drops out; "earthquake" 4.1; invented names count as Zipf 2.5);
- names weigh ``NAME_BOOST`` times more: words the body capitalises mid-sentence in more than
  half their occurrences (headline-case titles and sentence starts do not count);
- numbers of two or more characters (years, tolls, magnitudes) count as rare words (Zipf 3).
The ``max_terms`` heaviest words are kept and the vector is scaled to unit length, then stored as
integers (``WEIGHT_SCALE`` stands for 1.0) so that dot products are exact and do not depend on the
order they are summed in: a clean build and an incremental one compute bit-identical scores.

Every constant here was chosen on the ECB+ tuning part (docs/related.md lists the alternatives
tried); ``FEATURES_VERSION`` changes whenever the output of ``features()`` does.
"""

from __future__ import annotations

import math
import re
from array import array
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from . import background

if TYPE_CHECKING:  # pragma: no cover
    from . import RelatedInput
    from .config import RelatedConfig

FEATURES_VERSION = 1
"""Bump when features() would return something different for the same input."""

WEIGHT_SCALE = 1000
"""A unit-length vector's weights are stored as integers in 0..WEIGHT_SCALE."""

RARITY_CEILING = 7.0
"""A word's rarity is RARITY_CEILING minus its Zipf frequency (never below 0)."""
UNKNOWN_ZIPF = 2.5
"""Zipf frequency assumed for words missing from the background table (rare ones)."""
NUMBER_ZIPF = 3.0
"""Zipf frequency assumed for numbers of two or more characters."""
NAME_BOOST = 1.6
"""Weight multiplier for words written capitalised more often than not."""
MAX_NAMES = 12
"""How many multi-word names an article keeps for reasons."""
NAME_SCAN_CHARS = 3000
"""Names are looked for in the title and this many leading characters of the text."""
LEADING_WORD_ZIPF = 5.5
"""Capitalised words this common ("The", "In", "When") are cut from the front of a name."""

# Tokens: runs of letters and digits, joined by inner apostrophes, dots or commas
# ("O'Brien", "don't", "5.6", "1,200", "76ers").
_JOINERS = "'\u2019.,"
"""Characters that join two runs of letters or digits into one token."""
_TOKEN = re.compile(rf"\w+(?:[{_JOINERS}]\w+)*")
_NUMBER = re.compile(r"[\d.,]+")
# A capitalised word at the start of a sentence or paragraph says nothing about being a name.
# (Searched in "\n" + text, so that the first word counts as a sentence start too.)
# (Written so that the pattern starts with a character set: the regex engine then skips to
# candidates instead of trying both branches at every position; the same matches as
# "(?:[.!?:]closing-quotes*\s+|\n\s*)", measured 1.7x faster.)
_SENTENCE_START = re.compile(
    r"[.!?:\n](?:(?<=\n)\s*|(?<!\n)[\"'\u201d\u2019)]*\s+)[\"'\u201c\u2018(]*([A-Z]\w*)")
# Runs of two or more capitalised words, allowing a few lowercase particles inside
# ("Hayat Tahrir al Sham", "Bank of England"). Joined by single spaces or hyphens only.
# "[A-Z](?<!\w[A-Z])" is "\b[A-Z]" put so that the pattern starts with a character set (see
# above): the same matches, measured 1.6x faster.
_PARTICLES = ("al", "el", "de", "del", "der", "di", "da", "du", "la", "le", "van", "von", "bin",
              "ibn", "of")
"""Lowercase words a name may hold between its capitalised ones."""
_NAME = re.compile(
    r"[A-Z](?<!\w[A-Z])[^\W\d_]+(?:'[^\W\d_]+)?"
    rf"(?:[ -](?:(?:{'|'.join(_PARTICLES)}) )?"
    r"[A-Z][^\W\d_]+(?:'[^\W\d_]+)?)+")


@dataclass(frozen=True, slots=True)
class Features:
    """What the related-stories index needs from one article's text. Picklable and compact:
    one string or bytes object per field (about 1.5 KB an article), because a 50,000-article
    site holds all of them in memory at once."""

    terms: str
    """Up to max_terms words (lowercase), heaviest first (ties by word), one per line."""
    weights: bytes
    """Each term's weight in the unit-length vector times WEIGHT_SCALE, as uint16 (array 'H')."""
    forms: str
    """How each term is spelt most often, one per line; an empty line means as in ``terms``."""
    names: str
    """Multi-word names in the text, heaviest first, one per line, as spelt (key = lowercase)."""
    version: int = FEATURES_VERSION
    """FEATURES_VERSION at the time these were computed."""

    def term_list(self) -> list[str]:
        return self.terms.split("\n") if self.terms else []

    def weight_list(self) -> list[int]:
        return array("H", self.weights).tolist()

    def form_list(self) -> list[str]:
        terms = self.term_list()
        if not self.forms:
            return terms
        return [f or t for f, t in zip(self.forms.split("\n"), terms)]

    def name_list(self) -> list[tuple[str, str]]:
        """(key, spelling) pairs; the key is the spelling lowercased, hyphens as spaces."""
        if not self.names:
            return []
        return [(_name_key(n), n) for n in self.names.split("\n")]


def _name_key(spelt: str) -> str:
    return spelt.replace("-", " ").lower()


def features(item: "RelatedInput", config: "RelatedConfig") -> Features:
    """The article's weighted distinctive words and names. Pure; see the module docstring."""
    return text_features(item.title, item.text, title_weight=config.weights.title,
                         max_terms=config.max_terms)


def text_features(title: str, text: str, *, title_weight: float = 1.5, max_terms: int = 60,
                  rarity: Callable[[str], float] | None = None) -> Features:
    """Features of a title and text; ``rarity`` replaces the background table's word weights
    (the evaluation uses it to compare against this corpus's own document frequencies).

    Runs the compiled twin of this function (``_features.pyx``: the same output, about
    2.6 times faster) when it was built at install, else the Python below."""
    table = background.zipf_table()
    if _compiled is not None and rarity is None:
        terms, weights, forms, names = _compiled.text_features(
            title, text, title_weight, max_terms, _rarities(table), table)
        return Features(terms=terms, weights=array("H", weights).tobytes(), forms=forms,
                        names=names)
    # The typographic apostrophe becomes a plain one first (the tokenizer treats the two
    # alike), so that the code below looks for one character, not two.
    body_text = text.replace("\u2019", "'")
    head_tokens = _TOKEN.findall(title.replace("\u2019", "'"))

    # Occurrences per word (lowercase key, possessive 's dropped), capitalised occurrences,
    # the commonest capitalised spelling, and which words the body also writes in lowercase.
    lower, caps = _body_counts(body_text)
    lowercase = lower  # the words the body writes in lowercase (as a set)
    tf_body: dict[str, int] = dict(lower)
    capital: dict[str, int] = {}
    spelling: dict[str, tuple[int, str]] = {}
    for token, n in caps.items():
        token = _unpossessive(token)
        k = token.lower()
        capital[k] = capital.get(k, 0) + n
        best = spelling.get(k)
        if best is None or (n, token) > best:  # most frequent spelling, then largest
            spelling[k] = (n, token)
        tf_body[k] = tf_body.get(k, 0) + n
    tf_head: dict[str, int] = {}
    for token, n in Counter(head_tokens).items():
        token = _unpossessive(token)
        k = token.lower()
        tf_head[k] = tf_head.get(k, 0) + n
        if token[0].isupper():  # headline case: a spelling to show, not a sign of a name
            best = spelling.get(k)
            if best is None or (n, token) > best:
                spelling[k] = (n, token)
    tf: dict[str, float] = dict(tf_body)
    for k, n in tf_head.items():
        tf[k] = tf.get(k, 0) + n * title_weight

    # A capital at the start of a sentence ("Officials said") does not make a word a name.
    if capital:
        for token, n in Counter(_SENTENCE_START.findall("\n" + text)).items():
            k = token.lower()
            if k in capital:
                capital[k] -= n
    names_like = {k for k, c in capital.items()
                  if c * 2 > tf_body.get(k, 0) + tf_head.get(k, 0)}

    # Word weights: the background table's rarities, or the caller's (one-letter words and
    # weights below 0 count as 0, which leaves the word out).
    rarities = _rarities(table) if rarity is None else \
        {t: (max(rarity(t), 0.0) if len(t) > 1 else 0.0) for t in tf}
    get = rarities.get
    sqrt = math.sqrt
    scored: list[tuple[float, str]] = []
    for term, f in tf.items():
        r = get(term)
        if r is None:  # not in the table: a rare word, or a number
            if len(term) < 2:
                continue
            r = _NUMBER_RARITY if term[0].isdigit() and _NUMBER.fullmatch(term) \
                else _UNKNOWN_RARITY
        elif not r:  # too common to count
            continue
        w = sqrt(f) * r
        if term in names_like:
            w *= NAME_BOOST
        scored.append((-w, term))
    scored.sort()
    del scored[max_terms:]

    norm = math.sqrt(math.fsum(w * w for w, _ in scored)) or 1.0
    terms: list[str] = []
    weights: list[int] = []
    forms: list[str] = []
    for w, term in scored:
        q = round(-w / norm * WEIGHT_SCALE)
        if q <= 0:
            continue
        terms.append(term)
        weights.append(q)
        # Shown as written when the text never writes it in lowercase ("Qeshm", "NATO").
        forms.append(spelling[term][1] if term in spelling and term not in lowercase else term)

    names = _names(title, text, dict(zip(terms, weights)), table, head_tokens, body_text)
    return Features(terms="\n".join(terms), weights=array("H", weights).tobytes(),
                    forms="\n".join("" if f == t else f for f, t in zip(forms, terms))
                    if forms != terms else "",
                    names="\n".join(spelt for _, spelt in names))


try:  # the compiled twin of text_features (see there), given this module's settings
    from . import _features as _compiled
except ImportError:  # not built: no C compiler or no Cython at install
    _compiled = None
else:
    _compiled.setup(name_boost=NAME_BOOST, number_rarity=RARITY_CEILING - NUMBER_ZIPF,
                    unknown_rarity=RARITY_CEILING - UNKNOWN_ZIPF,
                    leading_word_zipf=LEADING_WORD_ZIPF, weight_scale=WEIGHT_SCALE,
                    max_names=MAX_NAMES, name_scan_chars=NAME_SCAN_CHARS, particles=_PARTICLES)


def _unpossessive(token: str) -> str:
    """The token without a possessive 's ("Assad's" -> "Assad"): one word for features."""
    return token[:-2] if "'" in token and token[-2:] in ("'s", "'S") else token


def word_keys(text: str) -> set[str]:
    """The distinct words of ``text`` as ``features()`` keys them: lowercase, possessive 's
    dropped (the evaluation counts document frequencies with it)."""
    lower, caps = _body_counts(text.replace("\u2019", "'"))
    keys = set(lower)
    keys.update(_unpossessive(token).lower() for token in caps)
    return keys


def _body_counts(text: str) -> tuple[dict[str, int], dict[str, int]]:
    """The tokens of ``text`` (apostrophes plain already), counted: lowercase key (possessive
    's dropped) -> occurrences not capitalised, and capitalised token as written -> its
    occurrences. The same counts as ``Counter(_TOKEN.findall(text))`` sorted into the two,
    about twice as fast: the text is counted by whitespace-separated chunk first
    (``str.split`` and ``Counter`` run in C; a 5 KB article has about 280 distinct chunks),
    and most chunks are one word (``str.isalnum`` is exactly the tokenizer's ``\\w`` minus
    ``_``), counted with one dict update; only chunks with punctuation attached go through
    the tokenizer. Capitalised tokens stay as written, so that a spelling's count is its
    count over the whole text."""
    lower: dict[str, int] = {}
    caps: dict[str, int] = {}
    lower_get, caps_get, find = lower.get, caps.get, _TOKEN.findall
    for chunk, n in Counter(text.split()).items():
        if chunk.isalnum():
            if chunk.islower():
                lower[chunk] = lower_get(chunk, 0) + n
            elif chunk[0].isupper():
                caps[chunk] = caps_get(chunk, 0) + n
            else:  # "iPhone", "2008"
                k = chunk.lower()
                lower[k] = lower_get(k, 0) + n
            continue
        for token in find(chunk):
            if token[0].isupper():
                caps[token] = caps_get(token, 0) + n
                continue
            token = _unpossessive(token)
            k = token if token.islower() else token.lower()
            lower[k] = lower_get(k, 0) + n
    return lower, caps


_NUMBER_RARITY = RARITY_CEILING - NUMBER_ZIPF
_UNKNOWN_RARITY = RARITY_CEILING - UNKNOWN_ZIPF
_rarity_cache: tuple[dict, dict] | None = None


def _rarities(table: dict[str, float]) -> dict[str, float]:
    """Word -> rarity (``RARITY_CEILING - zipf``; 0.0 for words too common to count, and for
    one-letter words), worked out once per process from the background table."""
    global _rarity_cache
    if _rarity_cache is None or _rarity_cache[0] is not table:
        rarities = {word: (RARITY_CEILING - z if z < RARITY_CEILING and len(word) > 1 else 0.0)
                    for word, z in table.items()}
        _rarity_cache = (table, rarities)
    return _rarity_cache[1]


def _token_line(tokens: list[str]) -> str:
    """The tokens (of text whose apostrophes are plain already) as one lowercase line,
    possessive 's dropped: " the bank of england "."""
    line = " " + " ".join(tokens).lower() + " "
    return line.replace("'s ", " ")


def _is_word(c: str) -> bool:
    """Whether ``c`` (one character or "") is a regex ``\\w`` character."""
    return c.isalnum() or c == "_"


def _whole_tokens(s: str, start: int, end: int) -> bool:
    """Whether the _NAME match ``s[start:end]`` starts and ends a token (so, its inner
    separators being spaces and hyphens, it is a run of whole tokens): not glued to a word
    before it ("Gov.Sarah") or after it ("Palin2", "Palin.com")."""
    if start >= 2 and s[start - 1] in _JOINERS and _is_word(s[start - 2]):
        return False
    after = s[end:end + 1]
    return not (_is_word(after) or (after and after in _JOINERS and _is_word(s[end + 1:end + 2])))


def _names(title: str, text: str, weight: dict[str, int], table: dict[str, float],
           head_tokens: list[str], body_text: str) -> tuple[tuple[str, str], ...]:
    """Multi-word names whose words include a kept term, heaviest (sum of weights) first.

    The key is the lowercased name with single spaces, and a name is kept only if its key is
    a run of the text's own tokens, so two articles share a name exactly when both texts
    contain it: a reason never claims a name one of them lacks ("Gov.Sarah Palin" is one
    token "gov.sarah" and then "palin", so it yields no "Sarah Palin"). Most names are
    seen to be one where they were found (``_whole_tokens``); the others are looked for in
    the whole token sequence, made only then.
    """
    found: dict[str, tuple[int, str]] = {}
    lines = None
    matches = [(title, m) for m in _NAME.finditer(title)]
    matches += [(text, m) for m in _NAME.finditer(text, 0, NAME_SCAN_CHARS)]
    for where, m in matches:
        spelt = m.group()
        if "\u2019" in spelt:
            spelt = spelt.replace("\u2019", "'")
        if spelt.endswith("'s"):
            spelt = spelt[:-2]
        parts = spelt.replace("-", " ").split(" ")
        # Drop capitalised function words in front: "The Philadelphia 76ers", "In Aleppo".
        while parts and table.get(parts[0].lower(), 0.0) >= LEADING_WORD_ZIPF:
            parts.pop(0)
        if len(parts) < 2:
            continue
        key = " ".join(parts).lower()
        if key in found or "'s " in key:  # "Prosecutor's Office": the tokens lose the 's
            continue
        if "'" in key or not _whole_tokens(where, m.start(), m.end()):
            if lines is None:
                lines = (_token_line(head_tokens), _token_line(_TOKEN.findall(body_text)))
            if not any(f" {key} " in line for line in lines):
                continue
        score = 0
        for word in key.split(" "):
            score += weight.get(word[:-2] if word.endswith("'s") else word, 0)
        if score > 0:
            found[key] = (score, spelt[len(spelt) - len(key):])  # without the dropped words
    ranked = sorted(found.items(), key=lambda kv: (-kv[1][0], kv[0]))[:MAX_NAMES]
    return tuple((key, spelt) for key, (_, spelt) in ranked)
