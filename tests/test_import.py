"""`briefs import` on raw text: the seed's exact body, and the rules every import follows
(duplicates, no overwrite, dry run, folders, bad files, safe YAML)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import yaml

from builder.errors import BuildError
from builder.importer import ImportResult, import_paths
from builder.slugs import is_slug
from conftest import Site, article, topic

SEED = Path(__file__).resolve().parent / "data" / "syria-raw.txt"
SEED_TARGET = ("content/articles/2024/"
               "syria-says-its-strikes-with-russia-have-killed-at-least-400-insurgents-over-past.md")

# The article's own paragraphs, in order, copied by hand from the raw file: everything else in it
# (image block, section promo, video notices, durations and video captions, "Read more:" with its
# links, "Articles You May Like" with its headlines) is boilerplate.
SEED_PARAGRAPHS = [
    "Syria’s military has said its joint airstrikes with Russia have killed at least 400 "
    "insurgents over the past 24 hours – as Vladimir Putin reaffirmed his support for Syrian "
    "President Bashar al Assad.",
    "The strikes are being carried out after insurgents led by jihadi group Hayat Tahrir al Sham "
    "and including Turkey-backed fighters launched a two-pronged attack on Aleppo, Syria’s second "
    "largest city, on Saturday.",
    "The rebels then moved into the countryside around the provinces of Idlib and neighbouring "
    "Hama.",
    "Syrian and Russian airstrikes have mainly been carried out on rebel positions in those two "
    "provinces, Syria’s military said.",
    "Syria’s opposition-run White Helmets rescue service said on Monday that at least 25 people, "
    "including 10 children, have been killed in airstrikes carried out by the Syrian government "
    "and Russia.",
    "It comes as Mr Putin and Iranian President Masoud Pezeshkian spoke in a phone call about the "
    "“escalating situation” in Syria, the Kremlin said.",
    "The pair, who are both longtime allies of the Syrian president, discussed “large-scale "
    "aggression” by rebel fighters which they viewed “as an attempt to undermine the sovereignty, "
    "political, and socio-economic stability of the Syrian state”, a statement read.",
    "Mr Putin and Mr Pezeshkian expressed their “unconditional support” for the Syrian "
    "government, it added.",
    "Meanwhile, Kremlin spokesman Dmitry Peskov told reporters on Monday: “We, of course, continue "
    "to support (Syrian president) Bashar Assad, we continue our contacts at the appropriate level "
    "and analyse the situation.",
    "“A position will be formed regarding what is needed to stabilise the situation.”",
    "Separately, Mr Pezeshkian told Mr Assad in a phone call that Tehran is willing to provide all "
    "the support needed to push back the insurgency.",
    "It came as Syria’s military said on Monday that government forces were mobilising to "
    "encircle rebels in the countryside of Aleppo, Hama and Idlib.",
    "Meanwhile, two Syrian army sources told Reuters that Iran-backed militant groups had entered "
    "Syria from Iraq.",
    "They added that the Iraqi militants were heading north to bolster Syrian army forces "
    "battling rebels.",
    "According to the Syrian Observatory for Human Rights, a UK-based opposition war monitor, some "
    "200 Iraqi militiamen riding on pickups crossed into Syria overnight through the strategic Bou "
    "Kamal crossing.",
    "They were expected to deploy in Aleppo to support the Syrian army’s pushback against the "
    "insurgents, the monitor said.",
    "The push by the rebels in the north of the country is among their strongest in years and "
    "raised the prospect of another violent front reopening in the Middle East, at a time when "
    "US-backed Israel is fighting Hamas in Gaza and Hezbollah in Lebanon – both Iran-allied groups",
    "It also risks drawing Russia and Turkey – each with its own interests to protect in Syria – "
    "into direct confrontation.",
    "The advance by the insurgents is also huge embarrassment for Mr Assad, and it comes at a time "
    "when his allies – Iran and the groups it backs, and Russia – are preoccupied with their own "
    "conflicts.",
]

SEED_BOILERPLATE = [
    "Image:", "People walk past a damaged site in Aleppo", "Pic: Reuters", "More from World",
    "Please use Chrome browser", "0:59", "1:21", "Rebels seen by Aleppo air defences",
    "Rebels post video of gun fight at prison", "Read more", "Who are the Syrian rebels?",
    "Why the significance of Syria’s rebel offensive is immense", "Articles You May Like",
    "Teachers told", "Tesla board", "Trump inauguration", "Justin Trudeau", "Microsoft confirms",
]


def split(path: Path) -> tuple[dict, str]:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n")
    front, body = text[4:].split("\n---\n", 1)
    return yaml.safe_load(front), body


@pytest.fixture
def newsroom(tmp_path) -> Site:
    s = Site(tmp_path / "site")
    s.write("content/topics/syria-offensive-dec-2024.md",
            topic("Syria offensive, Dec 2024", starts="2024-11-30"))
    return s


def only(results: list[ImportResult]) -> ImportResult:
    assert len(results) == 1, results
    return results[0]


# --- the seed ----------------------------------------------------------------------------------

def test_seed_body_is_exactly_the_articles_own_paragraphs(newsroom):
    result = only(import_paths(newsroom.root, [SEED], date="2024-12-02",
                               topic="syria-offensive-dec-2024"))
    assert result.status == "written", result
    assert result.target == SEED_TARGET
    path = newsroom.root / SEED_TARGET
    front, body = split(path)
    assert body == "\n" + "\n\n".join(SEED_PARAGRAPHS) + "\n"
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # an ordinary file, not a private temp
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left
    for line in SEED_BOILERPLATE:
        assert line not in body, line
    assert front == {
        "title": "Syria says its strikes with Russia have killed at least 400 insurgents over "
                 "past 24 hours",
        "date": "2024-12-02",
        "topics": ["syria-offensive-dec-2024"],
        "section": "World",
        "image_caption": "People walk past a damaged site in Aleppo.",
        "extra": {"image_credit": "Reuters"},
    }
    assert "source" not in front  # the raw text never names its outlet: nothing is invented


def test_seed_test_copy_matches_the_shared_seed():
    shared = Path(__file__).resolve().parents[2] / "shared" / "seed" / "syria-raw.txt"
    if not shared.is_file():
        pytest.skip(f"{shared} not present (the shared folder sits next to the repository)")
    assert SEED.read_bytes() == shared.read_bytes()


def test_no_date_fails_for_that_file_while_the_others_import(newsroom, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a-seed.txt").write_bytes(SEED.read_bytes())
    (inbox / "b-dated.txt").write_text(
        "Rebels reach the outskirts of Hama\n\nWorld\n\n5 December 2024\n\n"
        "Rebels reached the outskirts of Hama on Thursday, a monitor said.\n", encoding="utf-8")
    results = import_paths(newsroom.root, [inbox])
    assert [(Path(r.source_path).name, r.status) for r in results] == [
        ("a-seed.txt", "failed"), ("b-dated.txt", "written")]
    assert results[0].message == "no date found (pass --date YYYY-MM-DD)"
    assert results[0].target is None
    assert not (newsroom.root / SEED_TARGET).exists()
    front, body = split(newsroom.root / results[1].target)
    assert results[1].target == "content/articles/2024/rebels-reach-the-outskirts-of-hama.md"
    assert front["date"] == "2024-12-05" and front["section"] == "World"
    assert body.strip() == "Rebels reached the outskirts of Hama on Thursday, a monitor said."


def test_a_date_in_the_file_wins_over_the_date_option(newsroom, tmp_path):
    raw = tmp_path / "dated.txt"
    raw.write_text("Talks resume in Doha\n\nDecember 1, 2024\n\nDelegations met in Doha.\n",
                   encoding="utf-8")
    result = only(import_paths(newsroom.root, [raw], date="2024-12-09"))
    assert split(newsroom.root / result.target)[0]["date"] == "2024-12-01"


def test_a_short_first_paragraph_with_a_date_is_text_not_a_dateline(newsroom, tmp_path):
    raw = tmp_path / "short.txt"
    raw.write_text("Rebels take Aleppo\n\nBy the end of Monday\n\nRebels took Aleppo on "
                   "30 November.\n\nThe army withdrew.\n", encoding="utf-8")
    result = only(import_paths(newsroom.root, [raw], date="2024-12-02"))
    front, body = split(newsroom.root / result.target)
    assert front["date"] == "2024-12-02" and "author" not in front
    assert body.strip().split("\n\n") == [
        "By the end of Monday", "Rebels took Aleppo on 30 November.", "The army withdrew."]


@pytest.mark.parametrize("line, is_date", [
    ("Monday 2 December 2024 10:32, UK", True),
    ("UPDATED: Tue., Nov. 19, 2019", True),
    ("5:45 AM PST 11/19/2019 by Patrick Shanley", True),
    ("Updated at 1:23 p.m.", True),
    ("Rebels took Aleppo on 30 November.", False),
    ("Rockledge 14 11 6 15 — 44", False),
    ("Top 10", False),
])
def test_what_counts_as_a_dateline(line, is_date):
    from builder.importer.text import only_a_date

    assert only_a_date(line) is is_date


# --- duplicates and overwriting -------------------------------------------------------------------

def test_reimporting_the_same_text_is_skipped_as_duplicate(newsroom):
    first = only(import_paths(newsroom.root, [SEED], date="2024-12-02"))
    again = only(import_paths(newsroom.root, [SEED], date="2024-12-02"))
    assert first.status == "written"
    assert again.status == "skipped"
    assert again.message == f"duplicate of {SEED_TARGET} (same text)"
    # a different date would have given another path: the text still gives it away
    third = only(import_paths(newsroom.root, [SEED], date="2025-01-05"))
    assert third.status == "skipped" and SEED_TARGET in third.message


def test_a_hand_written_copy_of_the_story_counts_as_duplicate(newsroom):
    newsroom.write("content/articles/2024/syria-strikes.md", article(
        "Syria strikes", "2024-12-02", "\n\n".join(SEED_PARAGRAPHS)))
    result = only(import_paths(newsroom.root, [SEED], date="2024-12-02"))
    assert (result.status, result.target) == ("skipped", "content/articles/2024/syria-strikes.md")
    assert "same text" in result.message


def test_nearly_the_same_text_is_a_duplicate_too(newsroom, tmp_path):
    newsroom.write("content/articles/2024/syria-strikes.md", article(
        "Syria strikes", "2024-12-02", "\n\n".join(SEED_PARAGRAPHS[:-1])))
    result = only(import_paths(newsroom.root, [SEED], date="2024-12-02"))
    assert result.status == "skipped"
    assert "nearly the same text" in result.message


def test_what_is_remembered_between_imports_follows_edits(newsroom, tmp_path):
    other = tmp_path / "other.txt"
    other.write_text("Another story\n\nSomething else happened somewhere else.\n",
                     encoding="utf-8")
    hand = newsroom.write("content/articles/2024/by-hand.md", article(
        "By hand", "2024-12-02", "A first draft that says little."))
    assert only(import_paths(newsroom.root, [other], date="2024-12-02")).status == "written"
    assert (newsroom.root / ".briefs-cache" / "import-index.json").is_file()
    hand.write_text(article("By hand", "2024-12-02", "\n\n".join(SEED_PARAGRAPHS)),
                    encoding="utf-8")  # the editor pastes the story in by hand
    result = only(import_paths(newsroom.root, [SEED], date="2024-12-02"))
    assert (result.status, result.target) == ("skipped", "content/articles/2024/by-hand.md")


def test_same_source_url_is_a_duplicate_even_with_other_text(newsroom, tmp_path):
    newsroom.write("content/articles/2024/aleppo.md", article(
        "Aleppo", "2024-12-02", "Something else entirely.",
        source_url="https://news.example/story/aleppo-123"))
    page = tmp_path / "page.html"
    page.write_text(html_page("Rebels take Aleppo airport", "2024-12-03",
                              "http://www.news.example/story/aleppo-123/#comments"),
                    encoding="utf-8")
    result = only(import_paths(newsroom.root, [page]))
    assert result.status == "skipped"
    assert result.message == "duplicate of content/articles/2024/aleppo.md (same source_url)"


def test_an_existing_file_is_never_overwritten_without_force(newsroom):
    other = article("Another story", "2024-12-02", "A different story altogether, with its "
                                                     "own words.")
    path = newsroom.write(SEED_TARGET, other)
    result = only(import_paths(newsroom.root, [SEED], date="2024-12-02"))
    assert result.status == "failed"
    assert result.target == SEED_TARGET
    assert "exists already" in result.message and "--force" in result.message
    assert path.read_text(encoding="utf-8") == other

    forced = only(import_paths(newsroom.root, [SEED], date="2024-12-02", force=True))
    assert forced.status == "written" and "replaced" in forced.message
    assert split(path)[1] == "\n" + "\n\n".join(SEED_PARAGRAPHS) + "\n"


def test_force_reimports_a_story_over_its_earlier_import(newsroom):
    only(import_paths(newsroom.root, [SEED], date="2024-12-02"))
    again = only(import_paths(newsroom.root, [SEED], date="2024-12-02",
                              topic="syria-offensive-dec-2024", force=True))
    assert again.status == "written"
    assert split(newsroom.root / SEED_TARGET)[0]["topics"] == ["syria-offensive-dec-2024"]


def test_a_slug_taken_in_another_year_gets_a_suffix(newsroom, tmp_path):
    newsroom.write("content/articles/2023/talks-resume-in-doha.md", article(
        "Talks resume in Doha", "2023-03-01", "Last year's round of talks."))
    raw = tmp_path / "doha.txt"
    raw.write_text("Talks resume in Doha\n\nDelegations met again in Doha on Sunday.\n",
                   encoding="utf-8")
    result = only(import_paths(newsroom.root, [raw], date="2024-12-01"))
    assert result.target == "content/articles/2024/talks-resume-in-doha-2.md"


# --- dry run, folders, bad files -------------------------------------------------------------------

def test_dry_run_writes_nothing_but_reports_everything(newsroom, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "one.txt").write_bytes(SEED.read_bytes())
    (inbox / "two.txt").write_bytes(SEED.read_bytes())
    before = sorted(p.relative_to(newsroom.root) for p in newsroom.root.rglob("*"))
    results = import_paths(newsroom.root, [inbox], date="2024-12-02", dry_run=True)
    assert [r.status for r in results] == ["would-write", "skipped"]
    assert results[0].target == SEED_TARGET
    assert results[1].message == f"duplicate of {SEED_TARGET} (same text)"
    assert sorted(p.relative_to(newsroom.root) for p in newsroom.root.rglob("*")) == before


def test_a_folder_imports_every_file_in_it(newsroom, tmp_path):
    inbox = tmp_path / "inbox"
    (inbox / "more").mkdir(parents=True)
    for i, name in enumerate(["b.txt", "a.txt", "more/c.txt"]):
        (inbox / name).write_text(f"Story number {i}\n\nThe body of story {i} in one sentence.\n",
                                  encoding="utf-8")
    (inbox / ".DS_Store").write_bytes(b"\x00\x01")
    (inbox / "a.txt~").write_text("editor backup\n", encoding="utf-8")
    results = import_paths(newsroom.root, [inbox], date="2024-12-02")
    assert [Path(r.source_path).relative_to(inbox).as_posix() for r in results] == [
        "a.txt", "b.txt", "more/c.txt"]
    assert all(r.status == "written" for r in results)
    assert sorted(p.name for p in (newsroom.root / "content/articles/2024").iterdir()) == [
        "story-number-0.md", "story-number-1.md", "story-number-2.md"]


@pytest.mark.parametrize("name, data, message", [
    ("empty.txt", b"", "empty file"),
    ("blank.txt", b"  \n\n\t\n", "empty file"),
    ("photo.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "binary file, not text or HTML"),
    ("nav.html", b"<html><body><nav><a href='/'>Home</a></nav></body></html>",
     "no article text found in the HTML"),
    ("latin1.txt", "Caf\u00e9 opens\n\nA caf\u00e9 opened.\n".encode("latin-1"),
     "not UTF-8 text (byte 0xe9 at offset 3; save it as UTF-8)"),
    ("broken.html.gz", b"\x1f\x8b\x08\x00garbage", "damaged gzip file"),
    ("article.md", b"---\ntitle: Already an article\ndate: 2024-12-01\n---\n\nBody text.\n",
     "already has front matter (a briefs article?): import is for raw text and HTML; copy the "
     "file into content/articles/ instead"),
])
def test_bad_files_fail_with_one_clear_line_and_the_rest_import(newsroom, tmp_path, name, data,
                                                                 message):
    bad = tmp_path / name
    bad.write_bytes(data)
    good = tmp_path / "good.txt"
    good.write_text("A good story\n\nIt has one paragraph of text.\n", encoding="utf-8")
    results = import_paths(newsroom.root, [bad, good], date="2024-12-02")
    assert [r.status for r in results] == ["failed", "written"]
    assert results[0].message == message
    assert "\n" not in str(results[0])
    assert sorted(p.name for p in (newsroom.root / "content/articles").rglob("*")) == [
        "2024", "a-good-story.md"]


def test_a_missing_path_fails_on_its_own(newsroom, tmp_path):
    results = import_paths(newsroom.root, [tmp_path / "nope.txt"])
    assert [(r.status, r.message) for r in results] == [("failed", "no such file or folder")]


def test_unknown_topic_and_bad_date_are_option_errors(newsroom):
    with pytest.raises(BuildError) as err:
        import_paths(newsroom.root, [SEED], topic="no-such-topic", date="2024-13-40")
    text = str(err.value)
    assert "--topic: unknown topic 'no-such-topic' (create content/topics/no-such-topic.md first)" in text
    assert "--date: '2024-13-40' is not a valid date" in text
    assert not (newsroom.root / "content" / "articles").exists()


# --- what is written ---------------------------------------------------------------------------

def test_written_yaml_round_trips_and_the_slug_is_valid(newsroom, tmp_path):
    title = "Breaking: 'Quotes', \"doubles\" & #hashes - yes: no [1] {x} *stars* @at %pct"
    raw = tmp_path / "odd.txt"
    raw.write_text(f"{title}\n\nBody with *stars*, <script>alert(1)</script> and _under_ "
                   "scores.\n\n# Not a heading\n\n- not a list\n", encoding="utf-8")
    result = only(import_paths(newsroom.root, [raw], date="2024-12-02T14:30:00+01:00",
                               source="Example: Wire"))
    path = newsroom.root / result.target
    front, body = split(path)
    assert front["title"] == title
    assert front["date"] == "2024-12-02T14:30:00+01:00"
    assert front["source"] == "Example: Wire"
    assert is_slug(path.stem) and path.stem == (
        "breaking-quotes-doubles-hashes-yes-no-1-x-stars-at-pct")

    from builder.markdown import plain_text, render
    html = render(body)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<h1" not in html and "<ul>" not in html and "<em>" not in html
    assert [line for line in plain_text(html).split("\n") if line] == [
        "Body with *stars*, <script>alert(1)</script> and _under_ scores.",
        "# Not a heading", "- not a list"]


def test_a_title_without_latin_letters_gets_a_stable_fallback_slug(newsroom, tmp_path):
    raw = tmp_path / "ar.txt"
    raw.write_text("سوريا تقول إن غاراتها قتلت 400\n\nنص المقال هنا.\n", encoding="utf-8")
    result = only(import_paths(newsroom.root, [raw], date="2024-12-02"))
    assert Path(result.target).stem == "400"  # what slugify leaves: the digits
    raw.write_text("سوريا\n\nنص المقال هنا.\n", encoding="utf-8")
    result = only(import_paths(newsroom.root, [raw], date="2024-12-02", dry_run=True))
    assert result.status == "skipped"  # same text as before
    raw.write_text("سوريا\n\nنص آخر.\n", encoding="utf-8")
    result = only(import_paths(newsroom.root, [raw], date="2024-12-02"))
    assert Path(result.target).stem.startswith("article-") and is_slug(Path(result.target).stem)


def test_nothing_is_half_written_when_the_write_fails(newsroom, monkeypatch):
    import builder.importer.store as store

    def broken_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store.os, "fsync", broken_fsync)
    result = only(import_paths(newsroom.root, [SEED], date="2024-12-02"))
    assert result.status == "failed"
    assert result.message == f"cannot write {SEED_TARGET}: No space left on device"
    folder = newsroom.root / "content" / "articles" / "2024"
    assert not folder.exists() or list(folder.iterdir()) == []


# --- helpers -------------------------------------------------------------------------------------

def html_page(title: str, date: str, canonical: str, paragraphs: int = 4) -> str:
    body = "\n".join(
        f"<p>Paragraph {i} of the story about {title.lower()}, with enough words in it to be "
        f"read as the article's text by the extractor, sentence {i}.</p>" for i in range(paragraphs))
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{title} - News Example</title>
<link rel="canonical" href="{canonical}">
<meta property="og:site_name" content="News Example">
<meta property="article:published_time" content="{date}T08:00:00Z">
<meta name="description" content="Paragraph 0 of the story about {title.lower()}.">
</head><body><nav><a href="/">Home</a> <a href="/world">World</a></nav>
<article><h1>{title}</h1>{body}
<p>Read more:</p><ul><li><a href="/other-1">Another story entirely</a></li>
<li><a href="/other-2">Yet another headline here</a></li></ul>
</article><footer>Copyright 2024 News Example. All rights reserved.</footer></body></html>"""


def test_the_readme_section_lists_every_boilerplate_rule():
    from builder.importer.boilerplate import RULES

    doc = (Path(__file__).resolve().parents[1] / "docs" / "import.md").read_text(encoding="utf-8")
    section = doc[doc.index("### Boilerplate rules"):doc.index("### How well it works")]
    listed = re.findall(r"^\| `([a-z-]+)` \|", section, re.M)
    assert listed == [rule.name for rule in RULES]


def test_a_web_address_or_an_empty_folder_fails_with_a_clear_line(newsroom, tmp_path):
    (tmp_path / "inbox").mkdir()
    results = import_paths(newsroom.root, [Path("https://example.com/story"), tmp_path / "inbox"])
    assert [(r.source_path, r.status, r.message) for r in results] == [
        ("https://example.com/story", "failed",
         "a web address: import reads files; save the page first (e.g. `curl -o story.html URL`) "
         "and import that"),
        (str(tmp_path / "inbox"), "failed", "folder with no files to import")]
