"""The compiled twin of features() (builder/related/_features.pyx) gives what text.py gives.

text.py is the reference. The twin replaces its regular expressions with scanners written
out in C and its per-word loops with C loops, so each scanner is compared with the pattern it
replaces, and the whole function with the Python one, on tricky strings, random text made of
the tokenizer's edge cases, text drawn by hypothesis from an alphabet of the characters where
CPython's character classes are subtle, and real news.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builder.related import text as features_text
from test_related import _texts_to_check

ECBPLUS = Path(__file__).resolve().parents[2] / "shared" / "data" / "related" / "ecbplus.jsonl"

fast = features_text._compiled


def test_the_compiled_twin_is_built():
    # `pip install -e .` compiles it (setup.py); a build that silently left it out would make
    # every build about three times slower at features without any test noticing.
    assert fast is not None, "builder/related/_features.pyx was not compiled: pip install -e ."


def test_an_install_without_a_c_compiler_still_succeeds(monkeypatch):
    """setup.py marks the extension optional, so a machine without a C compiler installs
    briefs with the Python code. (cythonize drops the flag from the Extension it is given: a
    pip install with CC=/bin/false then failed.)"""
    import runpy
    import setuptools
    seen: dict = {}
    monkeypatch.setattr(setuptools, "setup", lambda **kw: seen.update(kw))
    repo = Path(__file__).resolve().parents[1]
    monkeypatch.chdir(repo)
    runpy.run_path(str(repo / "setup.py"))
    exts = seen["ext_modules"]
    assert [e.name for e in exts] == ["builder.related._features"]
    assert all(e.optional for e in exts)


needs_twin = pytest.mark.skipif(fast is None, reason="the compiled twin is not built")


def python_features(title: str, text: str, **kw) -> features_text.Features:
    compiled, features_text._compiled = features_text._compiled, None
    try:
        return features_text.text_features(title, text, **kw)
    finally:
        features_text._compiled = compiled


def assert_same(title: str, text: str, **kw) -> None:
    body = text.replace("\u2019", "'")
    assert fast.tokens(body) == features_text._TOKEN.findall(body), text
    assert fast.body_counts(body) == features_text._body_counts(body), text
    for s in (text, "\n" + text):
        assert fast.sentence_starts(s) == features_text._SENTENCE_START.findall(s), s
    for end in (len(text), features_text.NAME_SCAN_CHARS, len(text) // 2, 3):
        assert fast.name_spans(text, end) == [
            m.span() for m in features_text._NAME.finditer(text, 0, end)], (text, end)
    got = features_text.text_features(title, text, **kw)
    assert got == python_features(title, text, **kw), (title, text)


@needs_twin
def test_weights_round_half_to_even_like_python():
    import random
    rng = random.Random(3)
    values = [0.5, 1.5, 2.5, 999.5, 0.49999999999999994, 1e15 + 0.5, 0.0, 1000.0]
    values += [rng.uniform(0, 1000) for _ in range(2000)]
    values += [rng.randrange(2000) / 2 for _ in range(2000)]
    assert [fast.py_round(x) for x in values] == [round(x) for x in values]


def _titles_and_texts():
    texts = list(_texts_to_check())
    for i, text in enumerate(texts):
        yield texts[(i * 7) % len(texts)][:80], text


@needs_twin
def test_same_features_on_tricky_random_and_corpus_text():
    n = 0
    for title, text in _titles_and_texts():
        assert_same(title, text)
        n += 1
    assert n > 1500


@needs_twin
def test_same_features_with_other_settings():
    for title, text in list(_titles_and_texts())[::10]:
        assert_same(title, text, title_weight=3.0, max_terms=7)
        assert_same(title, text, title_weight=0.0, max_terms=200)


@needs_twin
@pytest.mark.skipif(not ECBPLUS.exists(), reason="the shared ECB+ data is not here")
def test_same_features_on_real_news():
    names = 0
    for line in ECBPLUS.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        assert_same(item["title"] or "", item["text"])
        names += bool(features_text.text_features(item["title"] or "", item["text"]).names)
    assert names > 500  # the name finder was exercised, not skipped


# Characters where the classes differ or surprise: word characters that are not letters
# (digits, "_", "²" is a digit but not decimal, "٣" is a decimal), letters outside ASCII
# (lower() of "İ" is two characters; "ǅ" is titlecase; "Σ" lowercases by context), the
# whitespace str.split and \s agree on ("\x1c", "\u2028"), joiners, quotes and brackets.
ALPHABET = ("AaBbDdEeLlOoSsZz019_ \t\n'\u2019.,!?:;-()\"\u201c\u201d\u2018"
            "\u00c9\u00e9\u00fc\u0130\u01c5\u03a3\u00df\u00b2\u0663\u2163\x1c\u2028\u00a0")
WORDS = ["Sarah", "Palin", "al", "de", "del", "of", "von", "Bank", "England", "The", "In",
         "said", "O'Brien", "Assad's", "it's", "IT'S", "2008", "1,200", "5.6", "U.S.",
         "\u0130stanbul", "\u00c9lan", "Z\u00fcrich", "\u03a3\u0391\u03a3"]


def _texts(draw_chars):
    return st.lists(st.one_of(st.sampled_from(WORDS), st.text(ALPHABET, max_size=4)),
                    max_size=60).map(draw_chars)


@needs_twin
@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=_texts("".join), text=_texts("".join), spaced=_texts(" ".join))
def test_same_features_on_generated_text(title, text, spaced):
    assert_same(title[:60], text)
    assert_same(title[:60], spaced)
