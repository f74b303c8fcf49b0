"""`briefs import` on HTML: real news pages from the shared extraction set (when present), the
trafilatura-XML-to-Markdown conversion, and an imported article built with the real build."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest
import yaml

from builder.importer import import_paths
from builder.importer.boilerplate import clean
from builder.importer.html import read_html, xml_to_blocks
from builder.markdown import plain_text, render
from conftest import Site, topic

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "extraction"
SEED = Path(__file__).resolve().parent / "data" / "syria-raw.txt"

needs_data = pytest.mark.skipif(
    not (DATA / "ground-truth.jsonl").is_file(),
    reason=f"extraction data set not found at {DATA} (../shared/data/extraction beside the repo)")


def page(prefix: str) -> tuple[dict, bytes]:
    with open(DATA / "ground-truth.jsonl", encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            if row["id"].startswith(prefix):
                return row, gzip.decompress((DATA / row["html_file"]).read_bytes())
    raise LookupError(prefix)


def split(path: Path) -> tuple[dict, str]:
    front, body = path.read_text(encoding="utf-8")[4:].split("\n---\n", 1)
    return yaml.safe_load(front), body


# --- real pages --------------------------------------------------------------------------------

@needs_data
@pytest.mark.parametrize("prefix, title, date, url, source, first_words, gone", [
    ("c7e39ac4", "Sweden drops Assange rape investigation", "2019-11-19",
     "https://www.bbc.com/news/world-europe-50473792", "BBC News",
     "Prosecutors in Sweden have dropped an investigation",
     ["Julian Assange: Sweden drops rape investigation"]),
    # the page's address is only in <link rel=canonical>; the agency credit line is boilerplate
    ("57d46c9d", "Oversupply angst drags oil lower, stocks drift near highs", "2019-11-19",
     "https://www.reuters.com/article/us-global-markets-idUSKBN1XT00W", "Reuters",
     "NEW YORK (Reuters)", ["Reporting by Rodrigo Campos", "Editing by"]),
    # the title loses its " - The Paradigm" suffix; newsletter promo and comment header go
    ("0dd13570", "BREAKING: Lawan moves motion for Senate’s adjournment over Nzeribe, "
                 "Adedoyin’s deaths", "2018-10-09",
     "http://www.theparadigmng.com/2018/10/09/breaking-lawan-moves-motion-senates-adjournment-"
     "nzeribe-adedoyins-deaths/", "The Paradigm",
     "Senator representing Yobe North", ["Click here to subscribe", "Comments"]),
])
def test_real_pages_keep_title_date_and_canonical_url(tmp_path, prefix, title, date, url, source,
                                                      first_words, gone):
    row, html = page(prefix)
    raw = tmp_path / f"{prefix}.html"
    raw.write_bytes(html)
    site = Site(tmp_path / "site")
    [result] = import_paths(site.root, [raw])
    assert result.status == "written", result
    front, body = split(site.root / result.target)
    assert front["title"] == title
    assert front["date"] == date
    assert front["source_url"] == url
    assert front["source"] == source
    assert result.target.startswith(f"content/articles/{date[:4]}/")
    assert body.lstrip().startswith(first_words)
    for text in gone:
        assert text not in body


@needs_data
def test_embedded_tweets_a_story_quotes_are_kept_as_quotes():
    _, html = page("3f65af7b")  # nj.com quoting five tweets inside social-media-embed wrappers
    body = clean(read_html(html)).body_markdown()
    assert "> Yes this is real and yes the state spent nearly half a million dollars on it" in body


@pytest.fixture(scope="module")
def every_page():
    """(page, cleaned draft) for all pages of the data set, extracted once for this module."""
    from builder.importer import evaluate

    return [(p, clean(read_html(p.html()))) for p in evaluate.load_pages(DATA)]


@needs_data
@pytest.mark.slow
def test_what_a_reader_sees_is_the_extracted_text_on_every_page(every_page):
    """Escaping and emphasis are right: the rendered Markdown shows exactly the page's words
    (no stray asterisks, no text turned into lists or headings)."""
    for page_, draft in every_page:
        seen = re.findall(r"\S+", plain_text(render(draft.body_markdown())))
        assert seen == re.findall(r"\S+", draft.body_text()), page_.id


@needs_data
@pytest.mark.slow
def test_extraction_quality_stays_above_the_goal(every_page):
    from builder.importer import evaluate

    scores = {p.id: evaluate.score(evaluate.visible_text(d.body_markdown()), p.gold)
              for p, d in every_page}
    every = evaluate.summarise(list(scores.values()))
    held = evaluate.summarise([scores[p.id] for p, _ in every_page if p.held_out])
    assert every.f1_of_means >= 0.975 and every.recall >= 0.98
    assert held.f1_of_means >= 0.97


# --- conversion details ------------------------------------------------------------------------

def xml(body: str) -> str:
    return f"<doc><main>{body}</main></doc>"


def test_links_are_made_absolute_and_unsafe_ones_dropped():
    [block] = xml_to_blocks(xml(
        '<p>See <ref target="/world/1">the report</ref>, <ref target="javascript:alert(1)">'
        'this</ref> and <ref target="https://x.example/a b">that</ref>.</p>'),
        "https://news.example/story/9")
    assert block.markdown == ("See [the report](<https://news.example/world/1>), this and "
                              "[that](<https://x.example/a%20b>).")
    assert block.text == "See the report, this and that."


def test_a_paragraph_split_around_a_link_is_joined_back():
    blocks = xml_to_blocks(xml(
        "<div><p>according to the publication </p><hi rend=\"#i\"><ref target=\"https://d.example/\">"
        "DigiTimes</ref></hi><p>. A preview was shared. </p>"
        "<hi rend=\"#i\">A photo caption</hi><p>The next paragraph.</p></div>"), None)
    assert [b.text for b in blocks] == [
        "according to the publication DigiTimes. A preview was shared.", "A photo caption",
        "The next paragraph."]
    assert blocks[0].markdown == ("according to the publication *[DigiTimes](<https://d.example/>)*"
                                  ". A preview was shared.")


def test_headings_lists_quotes_and_tables_become_markdown():
    blocks = xml_to_blocks(xml(
        '<head rend="h3">What next</head><list rend="ul"><item>one</item><item>two <hi rend="#b">'
        'bold</hi></item></list><quote><p>Said one.</p><p>Said two.</p></quote>'
        '<table><row><cell>a</cell><cell>b|c</cell></row><row><cell>1</cell><cell>2</cell></row>'
        '</table>'), None)
    assert [b.markdown for b in blocks] == [
        "### What next", "- one", "- two **bold**", "> Said one.\n>\n> Said two.",
        "| a | b\\|c |\n|---|---|\n| 1 | 2 |"]


def test_unrenderable_emphasis_is_left_plain():
    [block] = xml_to_blocks(xml(
        '<p><hi rend="#b"><ref target="https://a.example/">Pochettino was sacked</ref></hi>'
        'last night, <hi rend="#i">The</hi><hi rend="#i">Hollywood Reporter</hi> said.</p>'), None)
    assert block.markdown == ("[Pochettino was sacked](<https://a.example/>)last night, "
                              "*The Hollywood Reporter* said.")


def test_promos_on_a_page_are_removed_by_their_rules():
    draft = clean(read_html(HTML_PAGE))
    removed = {}
    for rule, text in draft.removed:
        removed.setdefault(rule, []).append(text)
    assert removed == {
        "repeated-title": ["Rebels take Aleppo airport"],
        "read-more": ["Read more:"],  # trafilatura drops the link list under it itself
        "newsletter": ["Sign up for our daily newsletter to get the latest news in your inbox."],
    }
    assert [b.text[:30] for b in draft.blocks] == [
        "Rebels have taken Aleppo's air", "Government troops withdrew fro",
        "The airport had been closed to"]
    assert draft.title == "Rebels take Aleppo airport"
    assert draft.source == "News Example" and draft.date == "2024-12-01"
    assert draft.summary == "Rebels have taken Aleppo's airport, a war monitor said."


def test_link_titles_under_a_read_more_marker_go_with_it():
    from builder.importer.document import Draft

    blocks = xml_to_blocks(xml(
        '<p>First paragraph of the story, long enough to be prose for the rules.</p>'
        '<p>Read more:</p><list rend="ul"><item><ref target="/a">Who are the rebels?</ref></item>'
        '<item><ref target="/b">Analysis: why it matters</ref></item></list>'
        '<p>The story goes on after the links, in a sentence of its own.</p>'
        '<list rend="ul"><item><ref target="/c">Photos: the city</ref></item>'
        '<item><ref target="/d">Map of the front</ref></item></list>'), "https://n.example/")
    draft = clean(Draft(blocks=tuple(blocks), title="A story"))
    assert [b.text for b in draft.blocks] == [
        "First paragraph of the story, long enough to be prose for the rules.",
        "The story goes on after the links, in a sentence of its own."]
    assert [rule for rule, _ in draft.removed] == ["read-more"] * 3 + ["link-list"] * 2


def test_rights_and_credits_leave_the_body_but_are_kept():
    from builder.importer.document import Draft

    blocks = xml_to_blocks(xml(
        "<p>The story itself, told in a sentence that is long enough to be prose.</p>"
        "<p>http://sources.example/report.pdf</p>"
        "<p>https://www.news.example/story/1</p>"
        "<p>(Reporting by Jane Doe; Editing by John Roe)</p>"
        "<p>© 2019 Associated Press. All Rights Reserved. This material may not be published, "
        "broadcast, rewritten, or redistributed.</p>"), None)
    draft = clean(Draft(blocks=tuple(blocks), title="A story",
                        source_url="https://news.example/story/1/"))
    assert [b.text for b in draft.blocks] == [
        "The story itself, told in a sentence that is long enough to be prose.",
        "http://sources.example/report.pdf"]  # a source the story cites stays; its own URL goes
    assert dict(draft.extra) == {
        "credits": "(Reporting by Jane Doe; Editing by John Roe)",
        "rights": "© 2019 Associated Press. All Rights Reserved. This material may not be "
                  "published, broadcast, rewritten, or redistributed."}


def test_a_lead_sentence_retelling_the_headline_is_kept():
    from builder.importer.document import Draft

    blocks = xml_to_blocks(xml(
        '<head rend="h1">Van Der Beek eliminated from Dancing with the Stars</head>'
        "<p>James Van Der Beek has been eliminated from “Dancing with the Stars.”</p>"
        '<head rend="h2">Dancing with the Stars</head><p>More text follows here.</p>'), None)
    draft = clean(Draft(blocks=tuple(blocks),
                        title="Van Der Beek eliminated from 'Dancing with the Stars'"))
    assert [b.text for b in draft.blocks] == [
        "James Van Der Beek has been eliminated from “Dancing with the Stars.”",
        "Dancing with the Stars", "More text follows here."]


def test_a_headline_run_together_with_its_dateline_goes():
    from builder.importer.document import Draft

    blocks = xml_to_blocks(xml(
        "<p>Atendimento Domiciliar registra arrombamento em veículos 05/10/2018 - Publicado "
        "por: Clarissa Borba</p><p>A equipe do Serviço registrou nesta manhã o arrombamento.</p>"
        "<p>Atendimento Domiciliar registra arrombamento em veículos pela segunda vez.</p>"),
        None)
    draft = clean(Draft(blocks=tuple(blocks),
                        title="Atendimento Domiciliar registra arrombamento em veículos"))
    assert [b.text[:20] for b in draft.blocks] == ["A equipe do Serviço ", "Atendimento Domicili"]


# --- the real build ------------------------------------------------------------------------------

def test_imported_articles_build_with_the_real_build(tmp_path):
    site = Site(tmp_path / "site")
    site.write("content/topics/syria-offensive-dec-2024.md",
               topic("Syria offensive, Dec 2024", starts="2024-11-30"))
    page_file = tmp_path / "aleppo.html"
    page_file.write_text(HTML_PAGE, encoding="utf-8")
    results = import_paths(site.root, [SEED, page_file], date="2024-12-02",
                           topic="syria-offensive-dec-2024")
    assert [r.status for r in results] == ["written", "written"], results
    result = site.build()
    assert result.pages_by_kind["article"] == 2
    seed_page = site.read("articles/syria-says-its-strikes-with-russia-have-killed-at-least-400-"
                          "insurgents-over-past/index.html")
    assert "Bou Kamal crossing" in seed_page
    assert "Articles You May Like" not in seed_page and "More from World" not in seed_page
    html_page = site.read("articles/rebels-take-aleppo-airport/index.html")
    assert 'href="https://news.example/world/aleppo-airport"' in html_page  # the original
    assert "Government troops withdrew from the airport" in html_page
    assert 'href="https://news.example/world/map"' in html_page  # an in-text link, made absolute
    assert "Another story entirely" not in html_page  # the related-links list
    topic_page = site.read("topics/syria-offensive-dec-2024/index.html")
    assert "Rebels take Aleppo airport" in topic_page


HTML_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Rebels take Aleppo airport | News Example</title>
<link rel="canonical" href="https://news.example/world/aleppo-airport">
<meta property="og:site_name" content="News Example">
<meta property="article:published_time" content="2024-12-01T08:00:00Z">
<meta name="description" content="Rebels have taken Aleppo's airport, a war monitor said.">
</head><body><nav><a href="/">Home</a> <a href="/world">World</a></nav>
<article><h1>Rebels take Aleppo airport</h1>
<p>Rebels have taken Aleppo's airport, a war monitor said on Sunday, as the offensive that began
on Wednesday pushed further into the city.</p>
<p>Government troops withdrew from the airport overnight, according to the monitor, which
published <a href="/world/map">a map of the front lines</a> on its website.</p>
<p>The airport had been closed to civilian flights since the offensive began, officials said
earlier in the week.</p>
<p>Read more:</p>
<ul><li><a href="/world/other-1">Another story entirely</a></li>
<li><a href="/world/other-2">Yet another headline here</a></li></ul>
<p>Sign up for our daily newsletter to get the latest news in your inbox.</p>
</article>
<footer><p>Copyright 2024 News Example. All rights reserved.</p></footer></body></html>"""
