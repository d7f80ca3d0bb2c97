"""The two-looks rule and .done markers decide when a landing file has finished arriving."""

from __future__ import annotations

from wholesaler_assets.domain.ingestion.arrival import FileLook, cursor_of, previous_look, ready_files


def test_a_file_is_ready_after_two_equal_looks_or_with_a_done_marker():
    first = [FileLook("sales", "a.csv", 10, 1), FileLook("sales", "b.csv", 5, 1, done_marker=True)]
    ready, arriving = ready_files(first, previous_look(None))
    assert [f.name for f in ready] == ["b.csv"] and [f.name for f in arriving] == ["a.csv"]
    grown = [FileLook("sales", "a.csv", 20, 2)]
    ready, _ = ready_files(grown, previous_look(cursor_of(first)))
    assert ready == []
    ready, _ = ready_files(grown, previous_look(cursor_of(grown)))
    assert ready == grown


def test_a_foreign_cursor_remembers_nothing():
    assert previous_look("7") == {} and previous_look("not json") == {} and previous_look("") == {}
