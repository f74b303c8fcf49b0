"""The evaluation command: scoring, the fixed held-out split, the printed table."""

from __future__ import annotations

import gzip
import json

import pytest

from builder.importer import evaluate
from test_import_html import HTML_PAGE


def test_bag_of_words_scores_count_repeated_words():
    p, r, f = evaluate.score("the cat the cat sat", "The cat sat on the mat")
    assert (p, r) == (4 / 5, 4 / 6)
    assert f == pytest.approx(2 * p * r / (p + r))
    assert evaluate.score("", "gold words") == (0.0, 0.0, 0.0)


def test_the_held_out_split_is_fixed_by_the_page_id():
    ids = [f"{i:064x}" for i in range(300)]
    held = [i for i in ids if evaluate.is_held_out(i)]
    assert 80 <= len(held) <= 120  # about a third
    assert held == [i for i in ids if evaluate.is_held_out(i)]  # same answer every time
    assert evaluate.is_held_out(
        "042bb7b5fedab6eac7db576522b89b93904c237d344bcbe14a6a5ab7f7335856") is False


def test_the_command_prints_all_tuning_and_held_out_rows(tmp_path, capsys):
    (tmp_path / "html").mkdir()
    rows = []
    for n in range(4):
        page_id = f"{n:064x}"
        (tmp_path / "html" / f"{page_id}.html.gz").write_bytes(
            gzip.compress(HTML_PAGE.encode("utf-8")))
        rows.append({"id": page_id, "html_file": f"html/{page_id}.html.gz",
                     "url": "https://news.example/world/aleppo-airport",
                     "text": "Rebels have taken Aleppo's airport, a war monitor said on Sunday."})
    (tmp_path / "ground-truth.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    assert evaluate.main([str(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "| pages | method | P | R | F1 (mean of pages) | F1 (of mean P, R) |"
    held = sum(evaluate.is_held_out(r["id"]) for r in rows)
    labels = [line.split(" | ")[0].lstrip("| ") for line in out[2:]]
    assert labels == (["all (4)"] * 3 + [f"tuning ({4 - held})"] * 3 + [f"held-out ({held})"] * 3)
    ours = [line for line in out if line.startswith("| all (4) | briefs import |")]
    assert ours and ours[0].split(" | ")[3] == "1.000"  # recall: every gold word found


def test_rules_can_be_left_out_to_measure_what_they_bring(tmp_path, capsys):
    test_the_command_prints_all_tuning_and_held_out_rows(tmp_path, capsys)
    assert evaluate.main([str(tmp_path), "--without", "read-more,newsletter"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines()
            if line.startswith("| all (4) |")]
    assert [r.split(" | ")[1] for r in rows] == [
        "trafilatura", "trafilatura, no comments", "briefs import",
        "briefs import without 2 rules"]
    # without the newsletter rule the sign-up line stays: precision falls, recall does not
    full, fewer = rows[2].split(" | "), rows[3].split(" | ")
    assert float(fewer[2]) < float(full[2]) and fewer[3] == full[3]
    assert evaluate.main([str(tmp_path), "--without", "no-such-rule"]) == 2
    assert "no rule named no-such-rule" in capsys.readouterr().err


def test_a_missing_data_folder_is_one_clear_line(tmp_path, capsys):
    assert evaluate.main([str(tmp_path / "nowhere")]) == 2
    assert "no ground-truth.jsonl here" in capsys.readouterr().err
