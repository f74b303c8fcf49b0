"""yamlio.simple_mapping, the shortcut for plain front matter, reads what the YAML loader reads.

It may decline anything (returning None sends the text to the loader), but every mapping it
returns must equal the loader's. Checked on generated documents made of the lines front
matter is written in and of lines that look like them but mean something else to YAML, on
what yaml.safe_dump writes, and on the demo site's and the bench generator's files. Errors
stay the loader's: a shortcut must never accept a document the loader refuses.
"""

from __future__ import annotations

import glob
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builder import yamlio
from conftest import REPO, SHARED


def loader(text: str):
    return yaml.load(text, Loader=yamlio.Loader)


def check(text: str) -> dict | None:
    fast = yamlio.simple_mapping(text)
    if fast is not None:
        try:
            expected = loader(text)
        except yaml.YAMLError as exc:  # pragma: no cover - the failure this test is for
            pytest.fail(f"the shortcut read a document the loader refuses ({exc}):\n{text}")
        assert fast == expected, text
        assert [type(v) for v in fast.values()] == [type(v) for v in expected.values()], text
    return fast


def test_reads_the_usual_front_matter():
    text = ("title: Syria says its strikes have killed 400, a monitor says\n"
            "date: 2024-12-02\n"
            'summary: "Putin: support for Assad."\n'
            "topics: [syria-offensive-dec-2024]\n"
            "tags: [Syria, Russia, \"Hayat Tahrir al-Sham\", 'it''s']\n"
            "source_url: https://wire.example/story?id=1#top\n"
            "related:\n  - rebels-enter-hama\n  - aleppo-falls\n"
            "draft: false\n"
            "# a comment line\n"
            "section:\n")
    assert check(text) == {
        "title": "Syria says its strikes have killed 400, a monitor says",
        "date": "2024-12-02", "summary": "Putin: support for Assad.",
        "topics": ["syria-offensive-dec-2024"],
        "tags": ["Syria", "Russia", "Hayat Tahrir al-Sham", "it's"],
        "source_url": "https://wire.example/story?id=1#top",
        "related": ["rebels-enter-hama", "aleppo-falls"], "draft": False, "section": None}


@pytest.mark.parametrize("text", [
    "title: a\ntitle: b\n",              # duplicate key: the loader reports it
    "title: a: b\n",                     # ': ' in a plain value is a YAML error
    "title: a # comment\n",
    "title: a\n  continued\n",           # a plain value over two lines
    'title: "escaped \\" quote"\n',
    "title: 'unclosed\n",
    "count: 12\n",                       # numbers: left to the loader
    "extra:\n  key: value\n",
    "tags: [a, [b]]\n",
    "tags: [a,, b]\n",
    "tags:\n  - a\n    - b\n",
    "title: &anchor a\n",
    "title:\tx\n",
    "yes: a\n",                          # a key YAML reads as true
    "title: |\n  block\n",
    "title: a\u2028b\n",                  # a line break to YAML
    "",
])
def test_declines_what_it_does_not_know(text):
    assert yamlio.simple_mapping(text) is None


@pytest.mark.parametrize("value", [
    "Talks, then war", "C# and F#", "5 o'clock", '"The Bank"', "it's", "a  b", "\u00c9lan",
    "100%", "a:b", "1,200", "2024-12-02T14:30:00+01:00", "yes", "No", "off", "~", "null",
    "0x1F", "1e3", ".inf", "12:30", "-", "- a", "? a", "[]", "['a']", "[a, 'b''c', \"d, e\"]",
    "'a''b'", '"a\'b"', "'", '"', "a]", "{a: b}", "*ref", "!tag x", "@x", "`x`", "<<", "=",
    "[ a , b ]", "[a, ~]", "[true, no]", "[a b, c]", "[a:b]", "['a', ]", "[a, 'b' c]",
])
def test_scalars_read_like_the_loader_or_are_declined(value):
    check(f"title: {value}\n")
    check(f"tags: [{value}]\n")
    check(f"tags:\n  - {value}\n  - x\n")


def test_what_yaml_safe_dump_writes():
    # what `briefs new`, importers and the test helpers write
    values = ["plain", "Title: with colon", "it's", "#hash", "- dash", "yes", "2024-12-02",
              "multi word  spaced", "\u00e9\u00e8 unicode", "quote \" inside", "x" * 300]
    for v in values:
        for data in ({"title": v}, {"tags": [v, "b"]}, {"title": v, "draft": True,
                                                          "topics": ["a", v]}):
            check(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def _front(path: str) -> str:
    return Path(path).read_text(encoding="utf-8").split("---\n", 2)[1]


def test_reads_the_demo_sites_files():
    files = glob.glob(str(REPO / "content" / "**" / "*.md"), recursive=True)
    assert files
    read = [check(_front(f)) for f in files]
    assert all(r is not None for r in read)  # the shortcut covers plain front matter


@pytest.mark.skipif(not (SHARED / "bench" / "gen_corpus.py").exists(), reason="no bench")
def test_reads_the_bench_corpus_files(tmp_path):
    import subprocess
    import sys
    subprocess.run([sys.executable, str(SHARED / "bench" / "gen_corpus.py"), "--articles", "60",
                    str(tmp_path / "c")], check=True, capture_output=True)
    files = glob.glob(str(tmp_path / "c" / "content" / "**" / "*.md"), recursive=True)
    assert len(files) > 60
    assert all(check(_front(f)) is not None for f in files)


KEYS = st.sampled_from(["title", "date", "tags", "yes", "on", "a_b", "x"])
PIECES = st.sampled_from(["a", "B c", "it's", "'", '"', ":", ": ", " #", "#", ",", "[", "]",
                          "{", "}", "-", "- ", "?", "&", "*", "!", "|", ">", "%", "@", "`",
                          "yes", "No", "~", "null", "12", "1.5", "0o7", "2024-12-02",
                          "\u00e9", "\\", "''", " ", "  ", "\t", "\u2028", "\x85", "<<", "="])


# Mostly what editors write, with a little of the rest, so that many documents get read.
PLAIN_PIECES = st.sampled_from(["a", "B c", "Syria", "al-Assad", "2024", "x_y", "\u00e9", " ",
                                ", ", "it's", "yes", "On"] * 6 + list(PIECES.elements))


def _value(pieces=PIECES):
    return st.lists(pieces, max_size=6).map("".join)


def _plain_document():
    """Lines in the forms front matter is written in, each key once."""
    value = _value(PLAIN_PIECES)
    entry = st.one_of(
        value.map(lambda v: f": {v}"), value.map(lambda v: f': "{v}"'),
        st.lists(value, max_size=4).map(lambda vs: f": [{', '.join(vs)}]"),
        st.lists(value, min_size=1, max_size=3).map(
            lambda vs: ":" + "".join(f"\n  - {v}" for v in vs)))
    return st.lists(entry, min_size=1, max_size=8).map(
        lambda entries: "".join(f"key{i}{e}\n" for i, e in enumerate(entries)))


def _line(pieces=PIECES):
    return st.one_of(
        st.builds(lambda k, v: f"{k}: {v}", KEYS, _value()),
        st.builds(lambda k, v: f'{k}: "{v}"', KEYS, _value()),
        st.builds(lambda k, v: f"{k}: '{v}'", KEYS, _value()),
        st.builds(lambda k, vs: f"{k}: [{', '.join(vs)}]", KEYS, st.lists(_value(), max_size=4)),
        st.builds(lambda k: f"{k}:", KEYS),
        st.builds(lambda ind, v: f"{ind}- {v}", st.sampled_from(["", "  ", "    "]), _value()),
        st.builds(lambda v: f"  {v}", _value()),
        st.sampled_from(["", "# comment", "  # indented", "---", "..."]),
    )


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_line(), min_size=1, max_size=8))
def test_generated_documents_read_like_the_loader(lines):
    check("\n".join(lines) + "\n")


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_plain_document())
def test_generated_plain_documents_read_like_the_loader(text):
    check(text)
