"""The one formula guard every spreadsheet and CSV goes through."""

from __future__ import annotations

import pytest

from dossier_rules.cells import guard, guard_row, unguard


@pytest.mark.parametrize("text", ["=1+1", "+81 3", "-5", "@SUM(A1)", "\tcmd", "\r=1"])
def test_text_that_starts_like_a_formula_is_written_as_text_and_read_back(text: str) -> None:
    assert guard(text) == "'" + text
    assert unguard(guard(text)) == text


@pytest.mark.parametrize("value", ["Mekong", "'quoted", "", 5, None, 2.5])
def test_other_values_are_left_alone(value: object) -> None:
    assert guard(value) == value
    if isinstance(value, str):
        assert unguard(value) == value


def test_a_row_is_guarded_cell_by_cell() -> None:
    assert guard_row(["=A1", 3, "ok"]) == ["'=A1", 3, "ok"]
