"""Related stories in built pages: lists under articles, forward links, pins, drafts, switches."""

from __future__ import annotations

import re

import pytest

from conftest import NOW, Site, article, topic

QUAKE = ("A magnitude 6.1 earthquake struck Lombok island in Indonesia, collapsing homes in "
         "Mataram. Rescuers searched the rubble near Senggigi for survivors of the quake.")
FIRE = ("Firefighters battled a wildfire in the Sonoma hills of California as winds pushed "
        "flames toward Santa Rosa. Evacuations were ordered for Healdsburg.")


@pytest.fixture
def stories(tmp_path):
    site = Site(tmp_path / "site")
    site.write("content/topics/lombok-quake.md", topic("Lombok earthquake", starts="2018-08-01"))
    for i, day in enumerate(("05", "06", "08", "11")):
        site.write(f"content/articles/quake-{i}.md", article(
            f"Lombok earthquake day {i}: rescuers in Mataram", f"2018-08-{day}",
            QUAKE + f" Report {i} adds the toll in Senggigi.", topics=["lombok-quake"]))
    for i, day in enumerate(("05", "07", "09")):
        site.write(f"content/articles/fire-{i}.md", article(
            f"Sonoma wildfire update {i}", f"2018-08-{day}", FIRE + f" Update {i}."))
    return site


def related_links(site: Site, slug: str) -> list[str]:
    return _list(site, slug, "data-briefs-related")


def later_links(site: Site, slug: str) -> list[str]:
    return _list(site, slug, "data-briefs-later")


def _list(site: Site, slug: str, attribute: str) -> list[str]:
    html = site.read(f"articles/{slug}/index.html")
    m = re.search(rf"<ol {attribute}>(.*?)</ol>", html, re.S)
    return re.findall(r'href="\.\./\.\./articles/([a-z0-9-]+)/"', m.group(1)) if m else []


def test_articles_list_their_own_story_first_with_reasons(stories):
    stories.build()
    links = related_links(stories, "quake-0")
    assert links and set(links[:3]) == {"quake-1", "quake-2", "quake-3"}
    assert not any(s.startswith("fire") for s in links[:3])
    html = stories.read("articles/quake-0/index.html")
    reasons = re.search(r'<span class="reasons">(.*?)</span>', html, re.S).group(1)
    assert "Lombok earthquake" in reasons or "Mataram" in reasons or "Senggigi" in reasons
    assert set(related_links(stories, "fire-1")[:2]) == {"fire-0", "fire-2"}


def test_older_articles_link_forward_to_later_developments(stories):
    stories.build()
    assert later_links(stories, "quake-0")[:1] == ["quake-1"]
    assert "quake-3" in later_links(stories, "quake-0")
    assert later_links(stories, "quake-3") == []  # the newest has nothing later


def test_drafts_are_never_related_and_pins_come_first(stories):
    stories.write("content/articles/quake-draft.md", article(
        "Lombok earthquake draft: Mataram rescuers", "2018-08-07", QUAKE, draft=True,
        topics=["lombok-quake"]))
    stories.write("content/articles/fire-0.md", article(
        "Sonoma wildfire update 0", "2018-08-05", FIRE, related=["quake-2"]))
    stories.write("content/articles/quake-1.md", article(
        "Lombok earthquake day 1", "2018-08-06", QUAKE, related=False, topics=["lombok-quake"]))
    stories.build()
    for slug in ("quake-0", "quake-2", "fire-1"):
        assert "quake-draft" not in related_links(stories, slug) + later_links(stories, slug)
    assert related_links(stories, "fire-0")[0] == "quake-2"
    assert "picked by the editor" in stories.read("articles/fire-0/index.html")
    page = stories.read("articles/quake-1/index.html")
    assert "data-briefs-related" not in page and "data-briefs-later" not in page
    assert "quake-1" in related_links(stories, "quake-0")  # still listed elsewhere


def test_no_related_switch_and_setting(stories, tmp_path):
    stories.build(related=False)
    assert "data-briefs-related" not in stories.read("articles/quake-0/index.html")
    off = Site(tmp_path / "off", {"title": "T", "base_url": "https://x.org/",
                                  "related": {"enabled": False}})
    off.write("content/articles/a.md", article("Lombok quake", "2018-08-05", QUAKE))
    off.write("content/articles/b.md", article("Lombok quake again", "2018-08-06", QUAKE))
    off.build()
    assert "data-briefs-related" not in off.read("articles/a/index.html")


def test_an_edit_moves_an_article_between_stories(stories):
    stories.build()
    assert "fire-2" not in related_links(stories, "quake-0")[:3]
    stories.write("content/articles/fire-2.md", article(
        "Lombok earthquake: more rescuers reach Mataram", "2018-08-09", QUAKE,
        topics=["lombok-quake"]))
    stories.build()
    assert "fire-2" in related_links(stories, "quake-0")
    assert "fire-2" not in related_links(stories, "fire-1")[:1]


def test_unknown_related_setting_is_a_located_error(tmp_path):
    site = Site(tmp_path / "s", {"title": "T", "base_url": "https://x.org/",
                                 "related": {"count": 5, "cuont": 3}})
    with pytest.raises(Exception) as exc:
        site.build()
    text = str(exc.value)
    assert "site.yaml:" in text and "related.cuont" in text


@pytest.mark.parametrize("jobs", [1, 2])
def test_features_come_from_parsing_and_equal_features_of_the_page_text(stories, monkeypatch,
                                                                         jobs):
    """The content stage computes each parsed article's features while its text is at hand;
    the links stage then computes none, and they equal features of the rendered body's text
    (what the links stage would compute), as cached for the next build."""
    from builder import cache, pipeline, relate
    from builder.markdown import plain_text
    from builder.related import RelatedConfig, features_key

    monkeypatch.setattr(pipeline, "PARALLEL_MIN", 2)  # parse in worker processes too

    def refuse(articles, *args, **kwargs):
        assert not articles, "the links stage computed features the parse had made"
        return []
    monkeypatch.setattr(relate, "compute_features", refuse)
    stories.write("content/articles/quake-markdown.md", article(
        "Lombok earthquake: *aid* arrives", "2018-08-12",
        QUAKE + "\n\n## Aid for Mataram\n\n**Rescuers** [flew in](https://aid.example/Zorblat-Vexx)"
        " with `supplies`.", topics=["lombok-quake"]))
    stories.build(jobs=jobs, search=False)
    cached = cache.load(stories.root / ".briefs-cache" / "related-features.pickle",
                        features_key(RelatedConfig()))
    builder = pipeline.Builder(stories.root)
    config = pipeline.load_config(stories.root)
    site, _ = builder.load_site(config, 1, NOW, stories.root / ".briefs-cache")
    assert len(cached) == len(site.articles) == 8
    for a in site.articles:
        assert cached[a.digest] == relate.features_of(a.title, plain_text(a.body_html),
                                                      RelatedConfig()), a.slug
    builder.close()


def test_a_site_built_with_the_index_in_two_processes_is_the_same(stories, tmp_path, monkeypatch):
    """jobs=2 splits the related index's scoring between two processes (from PARALLEL_MIN
    articles; here from any number): the published site is byte for byte the same."""
    from builder.related import index as engine
    calls = []
    real = engine.RelatedIndex._both_halves

    def counted(self, method, mine, theirs):
        calls.append(method.__name__)
        return real(self, method, mine, theirs)

    stories.build(jobs=1, incremental=False)
    one = stories.tree_digest()
    monkeypatch.setattr(engine, "PARALLEL_MIN", 0)
    monkeypatch.setattr(engine.RelatedIndex, "_both_halves", counted)
    stories.build(jobs=2, incremental=False)
    assert calls == ["_neighbours_and_vectors", "_lists_of"]
    assert stories.tree_digest() == one
    assert related_links(stories, "quake-0")


def test_pages_rendered_while_the_related_stage_runs_are_the_same(stories, tmp_path,
                                                                   monkeypatch):
    """A build that renders everything, with jobs > 1, renders the pages that show no related
    list (listings, feeds, sitemap...) in a forked process while the related stage runs (from
    PARALLEL_MIN articles; here from any number). The site is byte for byte what one process
    makes, and the next, incremental build (which renders nothing early) still matches a
    clean build."""
    import multiprocessing
    import shutil
    from builder import pipeline
    stories.build(jobs=1, incremental=False)
    one = stories.tree_digest()
    early = []
    real = pipeline.EarlyRender.__init__

    def spy(self, planner, renderer, gen):
        real(self, planner, renderer, gen)
        early.append(sorted(self.paths))

    monkeypatch.setattr(pipeline, "PARALLEL_MIN", 0)
    monkeypatch.setattr(pipeline.EarlyRender, "__init__", spy)
    shutil.rmtree(stories.root / ".briefs-cache")
    stories.build(jobs=2)
    [paths] = early
    assert "tags/index.html" in paths and "feed.xml" in paths and "index.html" in paths
    assert not any(p.startswith(("articles/", "topics/lombok-quake/index")) for p in paths)
    assert stories.tree_digest() == one
    assert not multiprocessing.active_children()

    stories.write("content/articles/fire-3.md", article(
        "Sonoma wildfire update 3", "2018-08-10", FIRE + " Update 3.", tags=["Sonoma"]))
    stories.build(jobs=2)
    assert len(early) == 1  # an incremental build renders only what changed, in plan order
    clean = stories.clean_copy(tmp_path / "clean")
    clean.build(jobs=1)
    assert stories.tree_digest() == clean.tree_digest()


def test_a_mistake_in_an_early_page_fails_the_build_with_one_line(stories, monkeypatch):
    import multiprocessing
    from builder import pipeline
    from builder.errors import BuildError
    stories.build(jobs=1)
    before = stories.tree_digest()
    monkeypatch.setattr(pipeline, "PARALLEL_MIN", 0)
    stories.write("templates/terms.html", "{% extends 'base.html' %}\n{% block main %}\n"
                                          "{{ nonsense.x }}\n{% endblock %}\n")
    with pytest.raises(BuildError) as info:
        stories.build(jobs=2, incremental=False)
    assert [str(d) for d in info.value.diagnostics] == [
        "templates/terms.html:3: 'nonsense' is undefined (while rendering /sources/ and 1 other "
        "page) (check the variable's name; the README lists what each template receives)"]
    assert stories.tree_digest() == before
    assert not multiprocessing.active_children()
