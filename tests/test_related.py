"""Related stories: configuration, features, ranking, reasons, pins, later developments.

Drafts are not tested here: the pipeline never hands a draft to the related-stories engine,
so a draft can neither have related stories nor be one (tested with the pipeline).
"""

from __future__ import annotations

import dataclasses
import pickle
import random
import re
from collections import Counter
from datetime import timedelta

import pytest

from builder.related import (RelatedConfig, RelatedIndex, RelatedInput, Weights, features,
                             features_key, from_mapping)
from builder.related.reasons import shared_terms
from test_related_corpus import BASE, corpus, story_of, topic_titles


def build(items, config=None):
    config = config or RelatedConfig()
    feats = {it.slug: features(it, config) for it in items}
    return RelatedIndex.build(items, feats, config, topic_titles())


def snapshot(index, slugs):
    return {s: (index.related(s), index.later(s)) for s in sorted(slugs)}


# ----------------------------------------------------------------------------- config
def test_config_defaults_when_section_missing():
    config, problems = from_mapping(None)
    assert problems == []
    assert config == RelatedConfig()
    assert config.enabled and config.count == 5


def test_config_reads_every_key_and_weights():
    config, problems = from_mapping({
        "enabled": True, "count": 3, "later_count": 2, "min_score": 0.2, "story_score": 0.5,
        "date_window_days": 30, "weights": {"title": 2, "topics": 0.1, "date": 0}})
    assert problems == []
    assert (config.count, config.later_count, config.min_score) == (3, 2, 0.2)
    assert config.date_window_days == 30
    assert config.weights == Weights(title=2.0, topics=0.1, date=0.0)


def test_config_reports_every_problem_at_once():
    config, problems = from_mapping({"count": "five", "min_score": -1, "colour": "red",
                                     "weights": {"text": "high", "tagz": 1},
                                     "date_window_days": 1.5, "enabled": "yes"})
    text = "\n".join(problems)
    for key in ("related.count", "related.min_score", "related.colour",
                "related.weights.text", "related.weights.tagz", "related.date_window_days",
                "related.enabled"):
        assert key in text
    assert len(problems) == 7
    assert config.count == RelatedConfig().count  # bad values fall back to defaults


def test_config_false_turns_the_feature_off():
    config, problems = from_mapping(False)
    assert problems == [] and config.enabled is False
    index = build(corpus(), config)
    assert all(index.related(s.slug) == () and index.later(s.slug) == () for s in corpus())


# ----------------------------------------------------------------------------- features
def test_features_are_pure_picklable_and_keyed():
    item = corpus()[0]
    config = RelatedConfig()
    a, b = features(item, config), features(dataclasses.replace(item, slug="other"), config)
    assert a == b  # only title and text matter
    assert pickle.loads(pickle.dumps(a)) == a
    assert features_key(config) == features_key(RelatedConfig())
    assert features_key(config) != features_key(RelatedConfig(max_terms=10))


def test_features_weigh_rare_words_and_names_over_common_ones():
    item = RelatedInput("x", "Flooding in Dargahan",
                        "The water rose in Dargahan on Monday and the people said the water "
                        "was high. Officials in Dargahan said a levee failed.", BASE)
    f = features(item, RelatedConfig())
    terms = f.term_list()
    assert terms[0] == "dargahan"  # an invented name: rare, in the title, capitalised
    weight = dict(zip(terms, f.weight_list()))
    assert "the" not in weight and "and" not in weight  # too common to carry any weight
    assert weight["said"] * 5 < weight["dargahan"]      # common: little weight
    assert dict(zip(terms, f.form_list()))["dargahan"] == "Dargahan"
    assert sum(w * w for w in f.weight_list()) == pytest.approx(1000 ** 2, rel=0.01)


# The patterns as first written; text.py words them so that they start with a character set
# (the regex engine then skips ahead instead of trying every position), claiming the same
# matches. Compared on tricky strings, random ones, and real news.
_PLAIN_SENTENCE_START = re.compile(
    r"(?:[.!?:][\"'\u201d\u2019)]*\s+|\n\s*)[\"'\u201c\u2018(]*([A-Z]\w*)")
_PLAIN_NAME = re.compile(
    r"\b[A-Z][^\W\d_]+(?:'[^\W\d_]+)?"
    r"(?:[ -](?:(?:al|el|de|del|der|di|da|du|la|le|van|von|bin|ibn|of) )?"
    r"[A-Z][^\W\d_]+(?:'[^\W\d_]+)?)+")
_TRICKY = [
    "Gov.Sarah Palin met Sarah Palin\u2019s aide. \u201cThe Bank of England\u201d said. 3Com Corp "
    "and McDonald Jones. Al-Assad's regime; Hayat Tahrir al Sham.\n\nIn Aleppo the 76ers won.",
    "(Reuters) \u2018Quoted Start\u2019 here! What? Yes: Now.\n  Indented Line\tTab Word.Word "
    "Over.\u2019Tis said.) Then x_Y Zed, \u00c9lan \u00dcber Z\u00fcrich Zo\u00eb",
    "A", "", "\n", ". A", "Ab Cd", "_Ab Cd", "1Ab Cd", "aAb Cd", "A1b Cd", "Ab-Cd of Ef Gh",
]


def _same_matches(text: str) -> None:
    from builder.related import text as features_text
    for plain, fast in ((_PLAIN_SENTENCE_START, features_text._SENTENCE_START),
                        (_PLAIN_NAME, features_text._NAME)):
        assert fast.findall(text) == plain.findall(text), (fast.pattern, text)
        assert fast.findall("\n" + text) == plain.findall("\n" + text), (fast.pattern, text)


@pytest.mark.parametrize("text", _TRICKY)
def test_fast_patterns_match_what_the_plain_ones_match(text):
    _same_matches(text)


def test_fast_patterns_match_the_plain_ones_on_random_and_real_text():
    rng = random.Random(7)
    alphabet = "AaBbZz19_ '\u2019\u201c\u201d\u2018.!?:()-\n\t\u00c9\u00e9"
    for _ in range(3000):
        _same_matches("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40))))
    for item in corpus():
        _same_matches(item.title + "\n" + item.text)


def _random_prose(rng: random.Random) -> str:
    """Text made of words that test the tokenizer's and the name finder's edges."""
    words = ["Sarah", "Palin", "Gov.Sarah", "Palin2", "Palin.com", "Palin's", "Palin\u2019s",
             "O'Brien", "al", "of", "Bank", "England", "England's", "Prosecutor's", "Office",
             "The", "the", "said", "it's", "IT'S", "iPhone", "2008", "1,200", "5.6", "a.,b",
             "x_Y", "\u00c9lan", "Z\u00fcrich", "(Reuters)", "\u201cQuoted", "end.\u201d", "-",
             "U.S.", "Al-Assad", "76ers", "Assad's's"]
    seps = [" ", " ", " ", "-", ", ", ". ", "\n\n", ".", ",", "'", "\u2019", ""]
    return "".join(rng.choice(words) + rng.choice(seps) for _ in range(rng.randint(1, 30)))


def _texts_to_check():
    rng = random.Random(11)
    yield from _TRICKY
    for _ in range(1500):
        yield _random_prose(rng)
    for item in corpus():
        yield item.title + "\n" + item.text


def test_body_counts_equal_counting_every_token():
    from builder.related import text as features_text
    for text in _texts_to_check():
        text = text.replace("\u2019", "'")
        lower: dict[str, int] = {}
        caps: dict[str, int] = {}
        for token, n in Counter(features_text._TOKEN.findall(text)).items():
            if token[0].isupper():
                caps[token] = caps.get(token, 0) + n
                continue
            if token.endswith(("'s", "'S")):
                token = token[:-2]
            lower[token.lower()] = lower.get(token.lower(), 0) + n
        assert features_text._body_counts(text) == (lower, caps), text


def test_names_found_in_place_equal_names_looked_up_in_all_tokens(monkeypatch):
    """A name is kept when its words are a run of whole tokens of the text. Most are seen to
    be one where they were found; forcing the slow check (the whole token sequence) for every
    name must give the same features."""
    from builder.related import text as features_text
    monkeypatch.setattr(features_text, "_compiled", None)  # text.py's own code (the reference)
    rng = random.Random(5)
    texts = list(_texts_to_check())
    pairs = [(rng.choice(texts)[:80], text) for text in texts]
    fast = [features_text.text_features(title, text) for title, text in pairs]
    monkeypatch.setattr(features_text, "_whole_tokens", lambda *args: False)
    slow = [features_text.text_features(title, text) for title, text in pairs]
    assert sum(bool(f.names) for f in fast) > 100
    for f, g, (title, text) in zip(fast, slow, pairs):
        assert f == g, (title, text)


def test_typographic_and_plain_apostrophes_count_as_one():
    curly = RelatedInput("a", "Assad\u2019s fall", "Bashar al-Assad\u2019s army left. O\u2019Brien\u2019s "
                         "report: Assad\u2019s forces and O\u2019Brien said Assad fled.", BASE)
    plain = dataclasses.replace(curly, title=curly.title.replace("\u2019", "'"),
                                text=curly.text.replace("\u2019", "'"))
    config = RelatedConfig()
    f = features(curly, config)
    assert f == features(plain, config)
    weights = dict(zip(f.term_list(), f.weight_list()))
    assert "assad" in weights and "o'brien" in weights and "assad's" not in weights


def test_features_keep_at_most_max_terms():
    item = corpus()[0]
    assert len(features(item, RelatedConfig(max_terms=5)).term_list()) == 5


# ----------------------------------------------------------------------------- ranking
def test_related_lists_find_the_same_story_first():
    items = corpus()
    index = build(items)
    for item in items:
        links = index.related(item.slug)
        assert len(links) == 5
        assert [story_of(link.slug) for link in links[:3]] == [story_of(item.slug)] * 3
        assert all(link.slug != item.slug for link in links)
        assert [link.score for link in links] == sorted((link.score for link in links),
                                                        reverse=True)


def test_results_do_not_depend_on_input_order():
    items = corpus()
    reference = snapshot(build(items), [it.slug for it in items])
    for seed in range(3):
        shuffled = items[:]
        random.Random(seed).shuffle(shuffled)
        assert snapshot(build(shuffled), [it.slug for it in items]) == reference


def test_ties_break_by_newer_date_then_slug():
    text = "Zubrovka ferry capsized near Kalvintra harbour."
    day = BASE
    items = [RelatedInput(s, "Zubrovka ferry", text, when)
             for s, when in (("a", day), ("c", day + timedelta(days=1)), ("b", day),
                             ("d", day + timedelta(days=1)))]
    index = build(items, RelatedConfig(weights=Weights(date=0.0)))
    assert [link.slug for link in index.related("a")] == ["c", "d", "b"]


def test_min_score_and_count_limit_the_list():
    items = corpus()
    assert all(len(build(items, RelatedConfig(count=2)).related(it.slug)) == 2 for it in items)
    strict = build(items, RelatedConfig(min_score=1.0))
    for it in items:
        assert all(link.score >= 1.0 for link in strict.related(it.slug))


def test_date_window_keeps_far_apart_articles_apart():
    items = corpus()
    index = build(items, RelatedConfig(date_window_days=3))
    for it in items:
        for link in index.related(it.slug):
            other = next(x for x in items if x.slug == link.slug)
            assert abs(other.date - it.date) <= timedelta(days=3)


# ----------------------------------------------------------------------------- reasons
def _tokens(text: str) -> str:
    words = re.findall(r"\w+(?:['.,]\w+)*", text.replace("\u2019", "'").replace("-", " ").lower())
    return " " + " ".join(w[:-2] if w.endswith("'s") else w for w in words) + " "


def test_reasons_are_present_and_true_of_both_articles():
    items = corpus()
    by_slug = {it.slug: it for it in items}
    index = build(items)
    checked = 0
    for item in items:
        for link in index.related(item.slug):
            assert link.reasons, f"{item.slug} -> {link.slug} has no reason"
            other = by_slug[link.slug]
            for reason in link.reasons:
                if reason.startswith("same topic: "):
                    title = reason[len("same topic: "):]
                    shared = set(item.topics) & set(other.topics)
                    assert title in {topic_titles()[t] for t in shared}
                elif reason.startswith("also about "):
                    for name in reason[len("also about "):].split(", "):
                        needle = _tokens(name)
                        assert needle in _tokens(item.title + "\n" + item.text), name
                        assert needle in _tokens(other.title + "\n" + other.text), name
                        checked += 1
                elif reason.startswith("also tagged "):
                    assert set(reason[len("also tagged "):].split(", ")) <= \
                        set(item.tags) & set(other.tags)
                else:
                    days = (other.date - item.date).days
                    assert re.fullmatch(r"same day|\d+ (day|week|month|year)s? (later|earlier)",
                                        reason)
                    assert ("later" in reason) == (other.date > item.date) or days == 0
    assert checked > 100


def test_index_reasons_match_the_reference_implementation():
    items = corpus()
    config = RelatedConfig()
    feats = {it.slug: features(it, config) for it in items}
    index = RelatedIndex.build(items, feats, config, topic_titles())
    for item in items:
        for link in index.related(item.slug):
            about = [r for r in link.reasons if r.startswith("also about ")]
            expected = shared_terms(feats[item.slug], feats[link.slug])
            assert about == (["also about " + ", ".join(expected)] if expected else [])


def test_shared_terms_never_name_a_word_one_text_lacks():
    a = RelatedInput("a", "Qeshm quake", "Villages near Qeshm and Dargahan collapsed.", BASE)
    b = RelatedInput("b", "Qeshm aftershock", "Tents were handed out in Qeshm.", BASE)
    config = RelatedConfig()
    named = shared_terms(features(a, config), features(b, config))
    assert named and named[0] == "Qeshm"
    assert "Dargahan" not in named and "Villages" not in named


def test_shared_multi_word_names_are_named_whole():
    a = RelatedInput("a", "Lohan checks in", "Lindsay Lohan checked into the Betty Ford Center "
                     "on Thursday, her lawyer Shawn Holley said.", BASE)
    b = RelatedInput("b", "Lohan leaves", "A week after arriving, Lindsay Lohan left the Betty "
                     "Ford Center for a clinic in Malibu.", BASE)
    config = RelatedConfig()
    named = shared_terms(features(a, config), features(b, config))
    assert "Betty Ford Center" in named and "Lindsay Lohan" in named
    assert "Betty" not in named and "Lohan" not in named  # not repeated inside a name


def test_undated_imports_get_no_time_reason():
    items = [dataclasses.replace(it, date=BASE) for it in corpus()]
    index = build(items)
    assert not any("day" in r for it in items for link in index.related(it.slug)
                   for r in link.reasons if not r.startswith(("also", "same topic")))


# ----------------------------------------------------------------------------- pins, flags
def test_pins_come_first_in_their_order_and_are_never_cut():
    items = corpus()
    pins = ("antwerp-3", "missing-article", "reid-1", "antwerp-3", "qeshm-1")
    items[0] = dataclasses.replace(items[0], pins=pins)   # qeshm-1 pins 3 others + itself
    index = build(items, RelatedConfig(count=2))
    links = index.related("qeshm-1")
    assert [link.slug for link in links] == ["antwerp-3", "reid-1"]
    assert all(link.reasons[0] == "picked by the editor" for link in links)
    index = build(items, RelatedConfig(count=5))
    links = [link.slug for link in index.related("qeshm-1")]
    assert links[:2] == ["antwerp-3", "reid-1"]
    assert len(links) == 5 and len(set(links)) == 5
    assert all(story_of(s) == "qeshm" for s in links[2:])


def test_related_false_hides_the_lists_but_not_the_article():
    items = corpus()
    items[1] = dataclasses.replace(items[1], enabled=False)  # qeshm-2
    index = build(items)
    assert index.related("qeshm-2") == () and index.later("qeshm-2") == ()
    assert "qeshm-2" in [link.slug for link in index.related("qeshm-1")]
    assert "qeshm-2" in index.later("qeshm-1")


# ----------------------------------------------------------------------------- later
def test_later_developments_link_forward_oldest_first():
    items = corpus()
    index = build(items)
    by_slug = {it.slug: it for it in items}
    for story in ("qeshm", "lohan", "antwerp"):
        assert index.later(f"{story}-1") == (f"{story}-2", f"{story}-3", f"{story}-4")
        assert index.later(f"{story}-3") == (f"{story}-4",)
        assert index.later(f"{story}-4") == ()
    for item in items:
        later = index.later(item.slug)
        assert all(by_slug[s].date > item.date and story_of(s) == story_of(item.slug)
                   for s in later)
        assert [by_slug[s].date for s in later] == sorted(by_slug[s].date for s in later)


def test_later_count_limits_to_the_nearest():
    index = build(corpus(), RelatedConfig(later_count=2))
    assert index.later("reid-1") == ("reid-2", "reid-3")


def test_later_needs_a_shared_topic_when_both_have_topics():
    items = corpus()
    items[3] = dataclasses.replace(items[3], topics=("strikes",))   # qeshm-4 moved topic
    index = build(items)
    assert "qeshm-4" not in index.later("qeshm-1")
    items[3] = dataclasses.replace(items[3], topics=())             # no topic: allowed
    assert "qeshm-4" in build(items).later("qeshm-1")


# ----------------------------------------------------------------------------- topics
def test_related_topics_count_shared_articles_and_links():
    items = corpus()
    items.append(RelatedInput("both", "Qeshm dockworkers strike after the earthquake",
                              items[0].text + "\n\n" + items[16].text,
                              BASE + timedelta(days=1), topics=("quakes", "strikes")))
    index = build(items)
    related = dict((t, (score, reason)) for t, score, reason in index.related_topics("quakes"))
    assert "strikes" in related
    assert "1 article in both" in related["strikes"][1]
    assert index.related_topics("nonexistent") == ()


# ----------------------------------------------------------------------------- pickling
def test_a_pickled_index_answers_the_same_and_keeps_updating():
    items = corpus()
    config = RelatedConfig()
    feats = {it.slug: features(it, config) for it in items}
    index = RelatedIndex.build(items, feats, config, topic_titles())
    clone = pickle.loads(pickle.dumps(index))
    slugs = [it.slug for it in items]
    assert snapshot(clone, slugs) == snapshot(index, slugs)
    assert clone.related_topics("quakes") == index.related_topics("quakes")
    edited = dataclasses.replace(items[5], text=items[5].text + " Qeshm Dargahan tents.")
    feats[edited.slug] = features(edited, config)
    assert clone.update([edited], feats) == index.update([edited], feats)
    assert snapshot(clone, slugs) == snapshot(index, slugs)
    again = pickle.loads(pickle.dumps(clone))
    assert snapshot(again, slugs) == snapshot(index, slugs)


def test_duplicate_slugs_and_naive_dates_are_refused():
    item = corpus()[0]
    with pytest.raises(ValueError, match="two articles"):
        build([item, item])
    with pytest.raises(ValueError, match="timezone"):
        build([dataclasses.replace(item, date=item.date.replace(tzinfo=None))])


def test_dot_blocks_are_the_greedy_partition():
    """_block_end finds, with numpy, the same blocks as adding row groups one at a time until
    the scratch matrix or the gathered entries would grow past their bounds."""
    import numpy as np

    from builder.related import index as engine

    def greedy(g_len, g_ent):
        blocks, g, n = [], 0, len(g_len)
        while g < n:
            h, cells, entries = g, 0, 0
            while h < n:
                w2, e2 = cells + int(g_len[h]), entries + int(g_ent[h])
                if h > g and ((h - g + 1) * (w2 + 1) > engine._DENSE_CELLS
                              or e2 > engine._BLOCK_ENTRIES):
                    break
                cells, entries, h = w2, e2, h + 1
            blocks.append((g, h))
            g = h
        return blocks

    rng = np.random.default_rng(3)
    exact = [  # sums landing exactly on a bound (which still fits)
        (np.array([524287, 524288, 1, 0, 7]), np.zeros(5, dtype=np.int64)),
        (np.ones(9, dtype=np.int64), np.full(9, engine._BLOCK_ENTRIES // 4))]
    for trial in range(62):
        if trial < 2:
            g_len, g_ent = exact[trial]
            n = len(g_len)
        else:
            n = int(rng.integers(1, 3000))
            scale = [1, 60, 5000, 3 << 20][trial % 4]
            g_len = rng.integers(0, 80 if trial % 2 else 3, n)
            g_ent = rng.integers(0, scale, n)
        cum_len = np.concatenate(([0], np.cumsum(g_len)))
        cum_ent = np.concatenate(([0], np.cumsum(g_ent)))
        found, g = [], 0
        while g < n:
            h = engine._block_end(g, cum_len, cum_ent)
            found.append((g, h))
            g = h
        assert found == greedy(g_len, g_ent), trial


# ----------------------------------------------------------------------------- two processes
def _internals(index):
    """Everything stages 1 and 2 store, by slug (ids are the same: one build each)."""
    import numpy as np
    d = index._docs
    return {
        "rows": [(d.slug[i], d.nbrs[i], d.nbr_last[i], d.rel[i], d.pinned[i], d.best[i],
                  d.later[i], d.ecols[i].tolist(), d.evals[i].tolist(),
                  np.asarray(d.ecols[i]).dtype.str, np.asarray(d.evals[i]).dtype.str)
                 for i in range(len(d))],
        "rev_nbrs": {k: v for k, v in index._rev_nbrs.items() if v},
        "topic_links": +index._topic_links,
    }


@pytest.mark.parametrize("config", [
    RelatedConfig(),
    RelatedConfig(term_cap_min=2, term_cap_share=0.1, count=3, later_count=2, expand=3),
], ids=["default", "tiny cap"])
def test_a_build_in_two_processes_equals_one_in_one(monkeypatch, config):
    """jobs=2 hands half the rows to a forked process for each stage; what comes back must
    leave the index exactly as one process does, and it must keep updating the same way."""
    from builder.related import index as engine
    monkeypatch.setattr(engine, "PARALLEL_MIN", 0)
    items = corpus(per_story=5)
    items[3] = dataclasses.replace(items[3], pins=(items[20].slug, "nowhere"))
    items[7] = dataclasses.replace(items[7], topics=("quakes", "rehab"))
    feats = {it.slug: features(it, config) for it in items}
    calls = []
    real = engine.RelatedIndex._both_halves

    def counted(self, method, mine, theirs):
        calls.append((len(mine[0]), len(theirs[0])))
        return real(self, method, mine, theirs)

    monkeypatch.setattr(engine.RelatedIndex, "_both_halves", counted)
    two = RelatedIndex.build(items, feats, config, topic_titles(), jobs=2)
    assert calls == [(15, 15), (15, 15)]  # both stages were split
    one = RelatedIndex.build(items, feats, config, topic_titles(), jobs=1)
    assert len(calls) == 2
    assert _internals(two) == _internals(one)
    slugs = [it.slug for it in items]
    assert snapshot(two, slugs) == snapshot(one, slugs)
    assert {t: two.related_topics(t) for t in topic_titles()} == \
        {t: one.related_topics(t) for t in topic_titles()}
    edited = dataclasses.replace(items[12], text=items[0].text, title=items[0].title)
    feats[edited.slug] = features(edited, config)
    assert two.update([edited], feats, [items[25].slug]) == \
        one.update([edited], feats, [items[25].slug])
    assert snapshot(two, slugs) == snapshot(one, slugs)
