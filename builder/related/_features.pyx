# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The compiled twin of :func:`builder.related.text.text_features`: the same output, faster.

``text.py`` is the reference, and the one to read: this file follows it step by step, with
the same names, and ``tests/test_features_fast.py`` checks that the two give equal Features on
tricky strings, random text made of the tokenizer's edge cases, real news (ECB+) and the bench
corpus. ``text.py`` calls :func:`text_features` here when the extension is built (``pip
install`` compiles it with Cython) and runs its own code otherwise.

Why it pays: features() was the largest per-article cost of a build (about 1 ms of Python for
a 5 KB article, more than parsing and Markdown together). Most of it was per-token and
per-word work -- finding tokens, counting them, weighing each distinct word -- which here runs
as C loops over the string's characters and C sorting. What the reference does with regular
expressions is done here by scanners written out in C (``_tokens``, ``_sentence_starts``,
``_name_spans``); each says which pattern it replaces, and the tests compare them with it.

Character classes are CPython's own: the regex engine's ``\\w`` is ``str.isalnum()`` plus
``_`` (``Py_UNICODE_ISALNUM``), ``\\d`` is ``Py_UNICODE_ISDECIMAL`` and ``\\s`` is
``Py_UNICODE_ISSPACE``; only ASCII characters take a shortcut, to the same answers.
"""

from cpython.unicode cimport (PyUnicode_DATA, PyUnicode_GET_LENGTH, PyUnicode_KIND,
                              PyUnicode_READ, Py_UNICODE_ISALNUM, Py_UNICODE_ISDECIMAL,
                              Py_UNICODE_ISDIGIT, Py_UNICODE_ISSPACE, Py_UNICODE_ISUPPER,
                              PyUnicode_Compare)
from cpython.dict cimport PyDict_GetItem
from cpython.object cimport PyObject
from libc.math cimport fabs, round as c_round, sqrt
from libc.stdlib cimport calloc, free, malloc, qsort
from libc.string cimport memcmp

import math

# Settings of text.py, handed over once by ``setup()`` so that they are written in one place.
cdef double NAME_BOOST, NUMBER_RARITY, UNKNOWN_RARITY, LEADING_WORD_ZIPF
cdef int WEIGHT_SCALE, MAX_NAMES, NAME_SCAN_CHARS
cdef tuple PARTICLES = ()
_fsum = math.fsum


def setup(*, name_boost, number_rarity, unknown_rarity, leading_word_zipf, weight_scale,
          max_names, name_scan_chars, particles):
    global NAME_BOOST, NUMBER_RARITY, UNKNOWN_RARITY, LEADING_WORD_ZIPF, WEIGHT_SCALE
    global MAX_NAMES, NAME_SCAN_CHARS, PARTICLES
    NAME_BOOST, NUMBER_RARITY, UNKNOWN_RARITY = name_boost, number_rarity, unknown_rarity
    LEADING_WORD_ZIPF, WEIGHT_SCALE = leading_word_zipf, weight_scale
    MAX_NAMES, NAME_SCAN_CHARS, PARTICLES = max_names, name_scan_chars, tuple(particles)


# ----------------------------------------------------------------------------- characters

cdef inline bint _is_word(Py_UCS4 c) noexcept:
    """Regex ``\\w``."""
    if c < 128:
        return (48 <= c <= 57) or (65 <= c <= 90) or (97 <= c <= 122) or c == 95
    return Py_UNICODE_ISALNUM(c)


cdef inline bint _is_letter(Py_UCS4 c) noexcept:
    """Regex ``[^\\W\\d_]``: a word character that is neither a decimal digit nor ``_``."""
    if c < 128:
        return (65 <= c <= 90) or (97 <= c <= 122)
    return Py_UNICODE_ISALNUM(c) and not Py_UNICODE_ISDECIMAL(c)


cdef inline bint _is_upper(Py_UCS4 c) noexcept:
    """``str.isupper()`` of one character."""
    if c < 128:
        return 65 <= c <= 90
    return Py_UNICODE_ISUPPER(c)


cdef inline bint _is_space(Py_UCS4 c) noexcept:
    """Regex ``\\s``."""
    if c < 128:
        return c == 32 or (9 <= c <= 13) or (28 <= c <= 31)
    return Py_UNICODE_ISSPACE(c)


cdef inline bint _is_joiner(Py_UCS4 c) noexcept:
    """text._JOINERS: ``'``, ``’``, ``.`` and ``,``."""
    return c == 39 or c == 0x2019 or c == 46 or c == 44


cdef inline bint _is_ascii_upper(Py_UCS4 c) noexcept:
    """Regex ``[A-Z]``."""
    return 65 <= c <= 90


cdef struct _Str:
    int kind
    void *data
    Py_ssize_t n


cdef inline _Str _view(str s):
    cdef _Str v
    v.kind = PyUnicode_KIND(s)
    v.data = PyUnicode_DATA(s)
    v.n = PyUnicode_GET_LENGTH(s)
    return v


cdef inline Py_UCS4 _at(_Str v, Py_ssize_t i) noexcept:
    return PyUnicode_READ(v.kind, v.data, i)


cdef inline Py_ssize_t _token_end(_Str v, Py_ssize_t i) noexcept:
    """The end of the token starting at ``i`` (a word character): text._TOKEN,
    ``\\w+(?:[joiners]\\w+)*``, matched greedily. (Word characters and joiners are disjoint,
    so the match never needs to back off more than the one joiner it looked past.)"""
    i += 1
    while i < v.n and _is_word(_at(v, i)):
        i += 1
    while i + 1 < v.n and _is_joiner(_at(v, i)) and _is_word(_at(v, i + 1)):
        i += 2
        while i < v.n and _is_word(_at(v, i)):
            i += 1
    return i


def tokens(str text):
    """``text._TOKEN.findall(text)``."""
    cdef _Str v = _view(text)
    cdef Py_ssize_t i = 0, end
    cdef list out = []
    while i < v.n:
        if _is_word(_at(v, i)):
            end = _token_end(v, i)
            out.append(text[i:end])
            i = end
        else:
            i += 1
    return out


cdef inline str _unpossessive(str token):
    """text._unpossessive: without a possessive 's ("Assad's" -> "Assad")."""
    cdef Py_ssize_t n = len(token)
    cdef Py_UCS4 last
    if n >= 2 and token[n - 2] == u"'":
        last = token[n - 1]
        if last == u"s" or last == u"S":
            return token[:n - 2]
    return token


cdef inline void _add(dict counts, object key, object n):
    cdef PyObject *old = PyDict_GetItem(counts, key)
    if old is NULL:
        counts[key] = n
    else:
        counts[key] = <object>old + n


cdef struct _Span:
    Py_ssize_t start
    Py_ssize_t length
    Py_ssize_t count
    unsigned long long hash


cdef class _SpanCounts:
    """Occurrences of substrings of one string, counted by position and length in a C hash
    table (open addressing), so that a text's ~900 tokens make ~350 str objects, not 900."""

    cdef _Str v
    cdef _Span *slots
    cdef Py_ssize_t *order
    cdef Py_ssize_t size, used

    def __cinit__(self, str text):
        self.v = _view(text)
        self.size = 256
        while self.size < self.v.n // 4:
            self.size *= 2
        self.slots = <_Span *>calloc(self.size, sizeof(_Span))
        self.order = <Py_ssize_t *>malloc((self.size // 2 + 1) * sizeof(Py_ssize_t))
        if self.slots is NULL or self.order is NULL:
            raise MemoryError()
        self.used = 0

    def __dealloc__(self):
        free(self.slots)
        free(self.order)

    cdef int add(self, Py_ssize_t start, Py_ssize_t length) except -1:
        cdef unsigned long long h = 14695981039346656037ULL  # FNV-1a
        cdef Py_ssize_t i, slot
        cdef _Span *e
        for i in range(start, start + length):
            h = (h ^ <unsigned long long>_at(self.v, i)) * 1099511628211ULL
        h |= 1  # 0 marks an empty slot
        slot = <Py_ssize_t>(h & <unsigned long long>(self.size - 1))
        while True:
            e = &self.slots[slot]
            if e.hash == 0:
                break
            if e.hash == h and e.length == length and memcmp(
                    <char *>self.v.data + e.start * self.v.kind,
                    <char *>self.v.data + start * self.v.kind, length * self.v.kind) == 0:
                e.count += 1
                return 0
            slot = (slot + 1) & (self.size - 1)
        e.hash, e.start, e.length, e.count = h, start, length, 1
        self.order[self.used] = slot
        self.used += 1
        if self.used * 2 > self.size:
            self._grow()
        return 0

    cdef int _grow(self) except -1:
        cdef _Span *old = self.slots
        cdef Py_ssize_t old_size = self.size, i, slot
        cdef _Span e
        cdef Py_ssize_t *order = <Py_ssize_t *>malloc((old_size + 1) * sizeof(Py_ssize_t))
        self.size *= 2
        self.slots = <_Span *>calloc(self.size, sizeof(_Span))
        if self.slots is NULL or order is NULL:
            free(old)
            free(order)
            self.slots = NULL
            raise MemoryError()
        for i in range(self.used):
            e = old[self.order[i]]
            slot = <Py_ssize_t>(e.hash & <unsigned long long>(self.size - 1))
            while self.slots[slot].hash != 0:
                slot = (slot + 1) & (self.size - 1)
            self.slots[slot] = e
            order[i] = slot
        free(old)
        free(self.order)
        self.order = order
        return 0


def body_counts(str text):
    """text._body_counts: the tokens of ``text`` (apostrophes plain already), counted:
    lowercase key (possessive 's dropped) -> occurrences not capitalised, and capitalised
    token as written -> its occurrences. Tokens are counted as spans first (capitalised ones
    whole, others without their possessive 's), then each distinct span becomes its key."""
    cdef _Str v = _view(text)
    cdef _SpanCounts spans = _SpanCounts(text)
    cdef dict lower = {}, caps = {}
    cdef Py_ssize_t i = 0, j, end
    cdef _Span e
    cdef Py_UCS4 c
    cdef bint ascii, cased_upper
    cdef str token
    while i < v.n:
        c = _at(v, i)
        if not _is_word(c):
            i += 1
            continue
        end = _token_end(v, i)
        if (not _is_upper(c) and end - i >= 3 and _at(v, end - 2) == 39
                and (_at(v, end - 1) == 115 or _at(v, end - 1) == 83)):
            spans.add(i, end - i - 2)  # a possessive 's
        else:
            spans.add(i, end - i)
        i = end
    for j in range(spans.used):
        e = spans.slots[spans.order[j]]
        token = text[e.start:e.start + e.length]
        if _is_upper(_at(v, e.start)):
            caps[token] = e.count
            continue
        ascii, cased_upper = True, False
        for i in range(e.start, e.start + e.length):
            c = _at(v, i)
            if c >= 128:
                ascii = False
                break
            if 65 <= c <= 90:
                cased_upper = True
        if ascii:
            # ASCII: lowercase when it has no capital (then lower() changes nothing).
            _add(lower, token.lower() if cased_upper else token, e.count)
        else:
            _add(lower, token if token.islower() else token.lower(), e.count)
    return lower, caps


# ----------------------------------------------------------------------------- patterns

cdef inline bint _closing(Py_UCS4 c) noexcept:
    return c == 34 or c == 39 or c == 0x201d or c == 0x2019 or c == 41   # " ' ” ’ )


cdef inline bint _opening(Py_UCS4 c) noexcept:
    return c == 34 or c == 39 or c == 0x201c or c == 0x2018 or c == 40   # " ' “ ‘ (


def sentence_starts(str s):
    """``text._SENTENCE_START.findall(s)``: the capitalised words that start a sentence or a
    line. The pattern, ``[.!?:\\n](?:(?<=\\n)\\s*|(?<!\\n)[closing]*\\s+)[opening]*([A-Z]\\w*)``,
    has no choices to go back on (each part's characters differ from the next part's), so
    it is matched left to right in one pass; a failed attempt retries one character on."""
    cdef _Str v = _view(s)
    cdef Py_ssize_t p = 0, i, start
    cdef Py_UCS4 c
    cdef list out = []
    while p < v.n:
        c = _at(v, p)
        if not (c == 46 or c == 33 or c == 63 or c == 58 or c == 10):  # . ! ? : \n
            p += 1
            continue
        i = p + 1
        if c == 10:
            while i < v.n and _is_space(_at(v, i)):
                i += 1
        else:
            while i < v.n and _closing(_at(v, i)):
                i += 1
            start = i
            while i < v.n and _is_space(_at(v, i)):
                i += 1
            if i == start:
                p += 1
                continue
        while i < v.n and _opening(_at(v, i)):
            i += 1
        if i < v.n and _is_ascii_upper(_at(v, i)):
            start = i
            i += 1
            while i < v.n and _is_word(_at(v, i)):
                i += 1
            out.append(s[start:i])
            p = i
        else:
            p += 1
    return out


cdef Py_ssize_t _name_word(_Str v, Py_ssize_t i, Py_ssize_t end) noexcept:
    """After ``[A-Z]`` at i - 1: ``[^\\W\\d_]+(?:'[^\\W\\d_]+)?`` from ``i``, up to ``end``;
    where it ends, or -1."""
    if i >= end or not _is_letter(_at(v, i)):
        return -1
    i += 1
    while i < end and _is_letter(_at(v, i)):
        i += 1
    if i + 1 < end and _at(v, i) == 39 and _is_letter(_at(v, i + 1)):
        i += 2
        while i < end and _is_letter(_at(v, i)):
            i += 1
    return i


cdef Py_ssize_t _particle_end(_Str v, Py_ssize_t i, Py_ssize_t end):
    """``(?:al|el|de|...|of) `` at ``i``: where it ends (after the space), or -1."""
    cdef Py_ssize_t k, n
    cdef str particle
    for particle in PARTICLES:
        n = len(particle)
        if i + n >= end or _at(v, i + n) != 32:
            continue
        for k in range(n):
            if _at(v, i + k) != <Py_UCS4>particle[k]:
                break
        else:
            return i + n + 1
    return -1


cdef Py_ssize_t _name_end(_Str v, Py_ssize_t i, Py_ssize_t end):
    """text._NAME at ``i``, looking no further than ``end``: where the match ends, or -1.

    ``[A-Z](?<!\\w[A-Z])`` (a capital starting a word), a word, then one or more of: a space
    or hyphen, optionally a particle and a space, a capital and a word. Each repetition is
    taken if it matches whole (with the particle if that works, else without): the regex
    engine's greedy choice, since a name word cannot also be a particle followed by a space
    and a capital."""
    cdef Py_ssize_t j, k, q, words = 0
    if not _is_ascii_upper(_at(v, i)) or (i > 0 and _is_word(_at(v, i - 1))):
        return -1
    j = _name_word(v, i + 1, end)
    if j < 0:
        return -1
    while j < end and (_at(v, j) == 32 or _at(v, j) == 45):
        k = -1
        q = _particle_end(v, j + 1, end)
        if q >= 0 and q < end and _is_ascii_upper(_at(v, q)):
            k = _name_word(v, q + 1, end)
        if k < 0 and j + 1 < end and _is_ascii_upper(_at(v, j + 1)):
            k = _name_word(v, j + 2, end)
        if k < 0:
            break
        j = k
        words += 1
    return j if words else -1


def name_spans(str s, Py_ssize_t endpos):
    """``[m.span() for m in text._NAME.finditer(s, 0, endpos)]``."""
    cdef _Str v = _view(s)
    cdef Py_ssize_t p = 0, e, end = min(endpos, v.n)
    cdef list out = []
    while p < end:
        if _is_ascii_upper(_at(v, p)):
            e = _name_end(v, p, end)
            if e >= 0:
                out.append((p, e))
                p = e
                continue
        p += 1
    return out


cdef bint _whole_tokens(_Str v, Py_ssize_t start, Py_ssize_t end) noexcept:
    """text._whole_tokens: the match is not glued to a word before or after it."""
    cdef Py_UCS4 after
    if start >= 2 and _is_joiner(_at(v, start - 1)) and _is_word(_at(v, start - 2)):
        return False
    if end >= v.n:
        return True
    after = _at(v, end)
    if _is_word(after):
        return False
    return not (_is_joiner(after) and end + 1 < v.n and _is_word(_at(v, end + 1)))


# ----------------------------------------------------------------------------- features

cdef struct _Scored:
    double neg_weight
    PyObject *term


cdef int _by_weight_then_term(const void *a, const void *b) noexcept nogil:
    """The order of ``scored.sort()`` on (-weight, term) tuples; terms are distinct."""
    cdef _Scored *x = <_Scored *>a
    cdef _Scored *y = <_Scored *>b
    if x.neg_weight < y.neg_weight:
        return -1
    if x.neg_weight > y.neg_weight:
        return 1
    with gil:  # (a tie, rare; comparing two str cannot fail)
        return PyUnicode_Compare(<object>x.term, <object>y.term)


cdef inline bint _is_number(str term):
    """``term[0].isdigit() and text._NUMBER.fullmatch(term)`` (``[\\d.,]+``)."""
    cdef Py_UCS4 c
    if not Py_UNICODE_ISDIGIT(term[0]):
        return False
    for c in term:
        if not (c == 46 or c == 44 or Py_UNICODE_ISDECIMAL(c)):
            return False
    return True


cdef inline long _py_round(double x):
    """Python's ``round(x)`` for a float: half to even."""
    cdef double r = c_round(x)
    if fabs(x - r) == 0.5:
        r = 2.0 * c_round(x / 2.0)
    return <long>r


def py_round(double x):
    """_py_round, for the tests."""
    return _py_round(x)


def text_features(str title, str text, double title_weight, int max_terms, dict rarities,
                  dict table):
    """text.text_features (without its ``rarity`` option): the fields of its Features, as
    (terms, weights, forms, names) where ``weights`` is a list of ints."""
    cdef str body_text = text.replace(u"\u2019", u"'")
    cdef list head_tokens = tokens(title.replace(u"\u2019", u"'"))
    cdef dict lower, caps, tf_body, capital = {}, spelling = {}, tf_head = {}, tf, head_counts
    cdef object n, best, r
    cdef str token, k, term
    lower, caps = body_counts(body_text)
    tf_body = dict(lower)
    for token, n in caps.items():
        token = _unpossessive(token)
        k = token.lower()
        _add(capital, k, n)
        best = spelling.get(k)
        if best is None or (n, token) > best:  # most frequent spelling, then largest
            spelling[k] = (n, token)
        _add(tf_body, k, n)
    head_counts = {}
    for token in head_tokens:
        _add(head_counts, token, 1)
    for token, n in head_counts.items():
        token = _unpossessive(token)
        k = token.lower()
        _add(tf_head, k, n)
        if _is_upper(token[0]):
            best = spelling.get(k)
            if best is None or (n, token) > best:
                spelling[k] = (n, token)
    tf = dict(tf_body)
    for k, n in tf_head.items():
        _add(tf, k, n * title_weight)

    if capital:
        for token in sentence_starts(u"\n" + text):
            k = token.lower()
            if k in capital:
                capital[k] = capital[k] - 1
    cdef set names_like = {k for k, n in capital.items()
                           if n * 2 > tf_body.get(k, 0) + tf_head.get(k, 0)}

    # Weigh every word, then keep the max_terms heaviest (C array, C sort).
    cdef Py_ssize_t size = len(tf), count = 0, i
    cdef _Scored *scored = <_Scored *>malloc((size + 1) * sizeof(_Scored))
    cdef PyObject *found
    cdef double w, rarity, norm
    cdef long q
    cdef list terms = [], weights = [], forms = []
    if scored is NULL:
        raise MemoryError()
    try:
        for term, n in tf.items():
            found = PyDict_GetItem(rarities, term)
            if found is NULL:  # not in the table: a rare word, or a number
                if len(term) < 2:
                    continue
                rarity = NUMBER_RARITY if _is_number(term) else UNKNOWN_RARITY
            else:
                rarity = <double>(<object>found)
                if rarity == 0.0:  # too common to count
                    continue
            w = sqrt(<double>n) * rarity
            if term in names_like:
                w *= NAME_BOOST
            scored[count].neg_weight = -w
            scored[count].term = <PyObject *>term
            count += 1
        qsort(scored, count, sizeof(_Scored), _by_weight_then_term)
        if count > max_terms:
            count = max_terms
        norm = sqrt(_fsum([scored[i].neg_weight * scored[i].neg_weight
                           for i in range(count)])) or 1.0
        for i in range(count):
            q = _py_round(-scored[i].neg_weight / norm * WEIGHT_SCALE)
            if q <= 0:
                continue
            term = <str>scored[i].term
            terms.append(term)
            weights.append(q)
            # Shown as written when the text never writes it in lowercase ("Qeshm", "NATO").
            forms.append(spelling[term][1] if term in spelling and term not in lower else term)
    finally:
        free(scored)

    names = _names(title, text, dict(zip(terms, weights)), table, head_tokens, body_text)
    return (u"\n".join(terms), weights,
            u"\n".join([u"" if f == t else f for f, t in zip(forms, terms)])
            if forms != terms else u"",
            u"\n".join([spelt for _, spelt in names]))


cdef str _token_line(list tokens):
    """text._token_line: the tokens as one lowercase line, possessive 's dropped."""
    cdef str line = u" " + u" ".join(tokens).lower() + u" "
    return line.replace(u"'s ", u" ")


cdef list _names(str title, str text, dict weight, dict table, list head_tokens,
                 str body_text):
    """text._names: multi-word names whose words include a kept term, heaviest first."""
    cdef dict found = {}
    cdef tuple lines = None
    cdef list parts, matches = []
    cdef str where, spelt, key, word, line
    cdef _Str view
    cdef Py_ssize_t start, end
    cdef object score
    for start, end in name_spans(title, len(title)):
        matches.append((title, start, end))
    for start, end in name_spans(text, NAME_SCAN_CHARS):
        matches.append((text, start, end))
    for where, start, end in matches:
        spelt = where[start:end]
        if u"\u2019" in spelt:
            spelt = spelt.replace(u"\u2019", u"'")
        if spelt.endswith(u"'s"):
            spelt = spelt[:len(spelt) - 2]
        parts = spelt.replace(u"-", u" ").split(u" ")
        # Drop capitalised function words in front: "The Philadelphia 76ers", "In Aleppo".
        while parts and table.get(parts[0].lower(), 0.0) >= LEADING_WORD_ZIPF:
            parts.pop(0)
        if len(parts) < 2:
            continue
        key = u" ".join(parts).lower()
        if key in found or u"'s " in key:
            continue
        view = _view(where)
        if u"'" in key or not _whole_tokens(view, start, end):
            if lines is None:
                lines = (_token_line(head_tokens), _token_line(tokens(body_text)))
            for line in lines:
                if u" " + key + u" " in line:
                    break
            else:
                continue
        score = 0
        for word in key.split(u" "):
            score += weight.get(word[:len(word) - 2] if word.endswith(u"'s") else word, 0)
        if score > 0:
            found[key] = (score, spelt[len(spelt) - len(key):])
    ranked = sorted(found.items(), key=_rank)[:MAX_NAMES]
    return [(key, spelt) for key, (_, spelt) in ranked]


def _rank(kv):
    return (-kv[1][0], kv[0])
