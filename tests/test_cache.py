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
