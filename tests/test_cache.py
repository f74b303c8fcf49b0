"""The build cache's files: what is saved loads back, and damage or a failed save never leaves
a file that loads wrong."""

from __future__ import annotations

from pathlib import Path

from builder import cache


class Unpicklable:
    def __reduce__(self):
        raise RuntimeError("cannot pickle this")


def big_value() -> dict:
    # Several pickle frames (64 KB each), so the checksum covers data written in many pieces.
    return {"records": {f"a{i}.md": ("Caf\u00e9 \u2019quoted\u2019 " * 50, i, bytes([i % 256]) * 300)
                        for i in range(2000)}}


def test_saved_value_loads_back_and_only_under_its_key(tmp_path):
    path = tmp_path / "c.pickle"
    value = big_value()
    cache.save(path, ("k", 1), value)
    assert path.stat().st_size > 5 * 65536
    assert cache.load(path, ("k", 1)) == value
    assert cache.load(path, ("k", 2)) is None
    assert [p.name for p in tmp_path.iterdir()] == ["c.pickle"]  # no temporary file left


def test_a_damaged_byte_anywhere_in_the_body_is_noticed(tmp_path):
    path = tmp_path / "c.pickle"
    cache.save(path, "k", big_value())
    data = bytearray(path.read_bytes())
    for at in (len(data) - 1, len(data) // 2, len(cache.MAGIC) + 48):
        damaged = bytearray(data)
        damaged[at] ^= 0x01
        path.write_bytes(bytes(damaged))
        assert cache.load(path, "k") is None, at


def test_a_failed_save_keeps_the_old_file_and_leaves_no_scraps(tmp_path):
    path = tmp_path / "c.pickle"
    cache.save(path, "k", {"old": True})
    try:
        cache.save(path, "k", {"records": big_value(), "bad": Unpicklable()})
    except RuntimeError:
        pass
    else:  # pragma: no cover
        raise AssertionError("the save should have failed")
    assert cache.load(path, "k") == {"old": True}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.pickle"]


def test_a_missing_or_truncated_file_loads_as_nothing(tmp_path):
    path = tmp_path / "c.pickle"
    assert cache.load(path, "k") is None
    cache.save(path, "k", big_value())
    path.write_bytes(path.read_bytes()[:-100])
    assert cache.load(path, "k") is None
    assert cache.load(Path(tmp_path / "nowhere" / "x.pickle"), "k") is None


def test_background_saves_run_in_another_process_and_a_failure_fails_the_build(
        news_site, monkeypatch):
    # An edit build pickles the content cache and the related index in forked processes while
    # it goes on; it waits for them before the new output goes live, so a save that fails
    # fails the build and leaves public/ as it was.
    import os

    from conftest import article
    news_site.build()
    before = news_site.tree_digest()
    real, seen = cache.save, []

    def failing(path, key, value):
        seen.append((Path(path).name, os.getpid()))
        if Path(path).name == "related-index.pickle":
            raise OSError("disk full")
        return real(path, key, value)
    monkeypatch.setattr(cache, "save", failing)
    news_site.write("content/articles/2024/talks-resume.md", article(
        "Ceasefire talks resume", "2024-12-01", "Delegations met in Cairo.",
        topics=["gaza-talks"]))
    try:
        news_site.build()
    except OSError as exc:
        assert "related-index.pickle" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("the build should have failed")
    assert news_site.tree_digest() == before
    # The saves ran in other processes: this one saw none of them (only its own state saves).
    assert not {name for name, pid in seen if pid == os.getpid()} & {
        "content.pickle", "related-index.pickle", "related-lists.pickle"}
    monkeypatch.undo()
    news_site.build()
    assert "Delegations met in Cairo." in news_site.read("articles/talks-resume/index.html")


def test_saving_later_without_a_process_to_spare_saves_at_once(tmp_path, monkeypatch):
    import os

    def no_fork():
        raise OSError(11, "Resource temporarily unavailable")
    monkeypatch.setattr(os, "fork", no_fork)
    path = tmp_path / "c.pickle"
    job = cache.save_later([(path, "k", {"v": 1})])
    assert cache.load(path, "k") == {"v": 1}  # before any wait
    job.wait()


def test_saves_made_later_are_there_once_waited_for(tmp_path):
    first, second = tmp_path / "a.pickle", tmp_path / "b.pickle"
    value = big_value()
    job = cache.save_later([(first, "k", value), (second, "j", {"n": 2})])
    value["records"].clear()  # the forked process saves the values as they were
    job.wait()
    job.wait()  # (a second wait is harmless)
    assert cache.load(first, "k") == big_value() and cache.load(second, "j") == {"n": 2}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.pickle", "b.pickle"]
