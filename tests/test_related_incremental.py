"""RelatedIndex.update() must leave the index exactly as a clean build of the new article set.

Random edit sequences (hypothesis): add, remove, rewrite text, move dates, change topics,
tags, pins and ``related: false``, one or several per update. After every update the lists,
later developments and topic relations must equal a fresh build's, and update() must report
every slug whose lists changed. Run with a tiny candidate cap too, so that words crossing it
(the rare, expensive path) are exercised constantly.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builder.related import RelatedConfig, RelatedIndex, features
from test_related_corpus import STORIES, TOPICS, corpus, topic_titles

POOL = corpus(per_story=5)          # 30 articles; the index holds a changing subset
SLUGS = [it.slug for it in POOL]
TOPIC_SLUGS = sorted(TOPICS)

CONFIGS = {
    "default": RelatedConfig(),
    "tiny cap": RelatedConfig(term_cap_min=2, term_cap_share=0.1, count=3, later_count=2),
    "window": RelatedConfig(date_window_days=10, expand=3, weights=dataclasses.replace(
        RelatedConfig().weights, source=0.05)),
}

op = st.one_of(
    st.tuples(st.just("add"), st.integers(0, len(POOL) - 1)),
    st.tuples(st.just("remove"), st.integers(0, len(POOL) - 1)),
    st.tuples(st.just("text"), st.integers(0, len(POOL) - 1), st.integers(0, len(POOL) - 1)),
    st.tuples(st.just("date"), st.integers(0, len(POOL) - 1), st.integers(-30, 30)),
    st.tuples(st.just("topics"), st.integers(0, len(POOL) - 1),
              st.lists(st.sampled_from(TOPIC_SLUGS), max_size=2)),
    st.tuples(st.just("tags"), st.integers(0, len(POOL) - 1),
              st.lists(st.sampled_from(["news", "qeshm", "reid", "x"]), max_size=3)),
    st.tuples(st.just("pins"), st.integers(0, len(POOL) - 1),
              st.lists(st.sampled_from(SLUGS + ["nowhere"]), max_size=3)),
    st.tuples(st.just("toggle"), st.integers(0, len(POOL) - 1)),
)


def state(index: RelatedIndex, slugs):
    return ({s: (index.related(s), index.later(s)) for s in sorted(slugs)},
            {t: index.related_topics(t) for t in TOPIC_SLUGS})


def apply(current: dict, operation) -> tuple[list, list]:
    """Apply one operation to the current articles; return (added or changed, removed)."""
    kind, i = operation[0], operation[1]
    slug = SLUGS[i]
    if kind == "add":
        if slug in current:
            return [], []
        current[slug] = POOL[i]
        return [POOL[i]], []
    if slug not in current:
        return [], []
    if kind == "remove":
        del current[slug]
        return [], [slug]
    item = current[slug]
    if kind == "text":
        donor = POOL[operation[2]]
        item = dataclasses.replace(item, text=item.text + "\n\n" + donor.text[:300],
                                   title=donor.title if operation[2] % 3 == 0 else item.title)
    elif kind == "date":
        item = dataclasses.replace(item, date=item.date + timedelta(days=operation[2]))
    elif kind == "topics":
        item = dataclasses.replace(item, topics=tuple(operation[2]))
    elif kind == "tags":
        item = dataclasses.replace(item, tags=tuple(operation[2]))
    elif kind == "pins":
        item = dataclasses.replace(item, pins=tuple(operation[2]))
    elif kind == "toggle":
        item = dataclasses.replace(item, enabled=not item.enabled)
    current[slug] = item
    return [item], []


def run_sequence(config: RelatedConfig, start: list[int], batches: list[list]) -> None:
    current = {SLUGS[i]: POOL[i] for i in sorted(set(start))}
    feats = {}

    def feat(item):
        feats[item.slug] = features(item, config)
        return feats[item.slug]

    for item in current.values():
        feat(item)
    index = RelatedIndex.build(list(current.values()), feats, config, topic_titles())
    for batch in batches:
        before = state(index, current)[0]
        changed, removed = {}, []
        for operation in batch:
            ch, rm = apply(current, operation)
            for item in ch:
                changed[item.slug] = item
            for s in rm:
                changed.pop(s, None)
                removed.append(s)
        for item in changed.values():
            feat(item)
        reported = index.update(list(changed.values()), feats, removed)
        fresh = RelatedIndex.build(list(current.values()), feats, config, topic_titles())
        after = state(index, current)
        assert after == state(fresh, current)
        truly = {s for s in current if before.get(s, ((), ())) != after[0][s]}
        assert truly <= reported, f"update() missed {sorted(truly - reported)}"
        assert reported <= set(current)
        index = pickle.loads(pickle.dumps(index))   # updates must survive pickling too


batches = st.lists(st.lists(op, min_size=1, max_size=3), min_size=1, max_size=12)
start = st.lists(st.integers(0, len(POOL) - 1), min_size=3, max_size=25)
# RELATED_EXAMPLES=500 for a longer hunt; 40 keeps the suite quick.
common = settings(max_examples=int(os.environ.get("RELATED_EXAMPLES", "40")), deadline=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@common
@given(start=start, batches=batches)
def test_update_equals_clean_build(start, batches):
    run_sequence(CONFIGS["default"], start, batches)


@common
@given(start=start, batches=batches)
def test_update_equals_clean_build_with_words_crossing_the_cap(start, batches):
    run_sequence(CONFIGS["tiny cap"], start, batches)


@common
@given(start=start, batches=batches)
def test_update_equals_clean_build_with_date_window_and_wider_expansion(start, batches):
    run_sequence(CONFIGS["window"], start, batches)


def test_update_from_empty_and_back():
    config = RelatedConfig()
    feats = {it.slug: features(it, config) for it in POOL}
    index = RelatedIndex.build([], {}, config, topic_titles())
    index.update(POOL, feats, [])
    full = RelatedIndex.build(POOL, feats, config, topic_titles())
    assert state(index, SLUGS) == state(full, SLUGS)
    index.update([], feats, SLUGS)
    assert all(index.related(s) == () for s in SLUGS)
    assert len(STORIES) == 6


def test_one_edit_reports_a_few_slugs_not_everything():
    config = RelatedConfig()
    feats = {it.slug: features(it, config) for it in POOL}
    index = RelatedIndex.build(POOL, feats, config, topic_titles())
    edited = dataclasses.replace(POOL[0], text=POOL[0].text + " Tents and blankets.")
    feats[edited.slug] = features(edited, config)
    changed = index.update([edited], feats, [])
    assert "qeshm-1" in changed
    assert not any(s.startswith(("lohan", "reid", "rotterdam", "antwerp")) for s in changed)
