"""A tiny news corpus for the related-stories tests (no tests here): six stories, three topics.

Each story has its own invented names and rare words; stories in one topic share the topic's
words, so a look-alike story is always close by (like ECB+). Dates put a story's articles a
day or two apart.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from builder.related import RelatedInput

BASE = datetime(2024, 3, 1, 9, 0, tzinfo=timezone.utc)

TOPICS = {
    "quakes": ("Earthquakes in the gulf", "earthquake tremor magnitude aftershocks seismic"),
    "rehab": ("Celebrities in rehab", "rehab clinic actress probation publicist"),
    "strikes": ("Port strikes", "dockworkers strike picket union wages"),
}

STORIES = [
    ("qeshm", "quakes", "Qeshm Dargahan Bandar Abbas", "villages collapsed tents blankets"),
    ("zarand", "quakes", "Zarand Kerman Hojedk", "mosque minaret rubble bulldozers"),
    ("lohan", "rehab", "Lindsay Lohan Betty Ford", "porsche highway lawyer Holley"),
    ("reid", "rehab", "Tara Reid Promises Malibu", "fashion Mantra Ketsoyan magazine"),
    ("rotterdam", "strikes", "Rotterdam Maasvlakte Smits", "cranes containers lashing overtime"),
    ("antwerp", "strikes", "Antwerp Zeebrugge Peeters", "tugboats pilots locks barges"),
]

FILLER = ("officials said on Monday that the situation remained difficult and that more "
          "details would follow later in the week according to local reports")


def make_article(story_index: int, k: int) -> RelatedInput:
    slug_base, topic, names, rare = STORIES[story_index]
    topic_words = TOPICS[topic][1]
    name_list = names.split()
    title = f"{name_list[0]} {rare.split()[k % 4]} update {k + 1}"
    sentences = [
        f"{names} were in the news again as {rare} dominated the day.",
        f"Reporters in {name_list[0]} described {topic_words}.",
        f"{FILLER}.",
        f"A spokesperson for {name_list[-1]} said {rare.split()[(k + 1) % 4]} mattered most.",
        f"Story note {k}: {name_list[1]} and {name_list[0]} again.",
    ]
    return RelatedInput(
        slug=f"{slug_base}-{k + 1}", title=title, text="\n\n".join(sentences),
        date=BASE + timedelta(days=story_index * 20 + 2 * k, hours=k),
        topics=(topic,), tags=(slug_base, "news"), source="wire" if k % 2 else "desk",
        pins=(), enabled=True)


def corpus(per_story: int = 4) -> list[RelatedInput]:
    return [make_article(s, k) for s in range(len(STORIES)) for k in range(per_story)]


def story_of(slug: str) -> str:
    return slug.rsplit("-", 1)[0]


def topic_titles() -> dict[str, str]:
    return {t: title for t, (title, _) in TOPICS.items()}
