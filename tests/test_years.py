"""Years as people type them: one reading for every form and filter that takes a year."""

import pytest

from evalplatform.services import years


@pytest.mark.parametrize("typed, year", [
    ("2026", 2026),
    (" 2027 ", 2027),
    ("２０２６", 2026),  # full-width, as a Chinese input method types it
    ("2000", 2000),
    ("2100", 2100),
    (2026, 2026),
])
def test_a_year_is_four_digits_from_2000_to_2100(typed, year):
    assert years.parse(typed) == year


@pytest.mark.parametrize("typed", [
    "", None, "1999", "2101", "26", "02026", "2_026", "+2026", "2026.0", "二〇二六", "²⁰²⁶",
    "٢٠٢٦", "2026年",
])
def test_anything_else_is_refused(typed):
    assert years.parse(typed) is None


def test_the_refusal_names_the_rule_in_the_readers_language():
    assert "2026" in years.problem()


def test_project_list_and_contract_list_filters_refuse_the_same_years():
    from evalplatform.services import contracts, projects

    for typed in ("2_026", "1999", "二〇二六"):
        assert "year" in projects.ProjectFilters(year=typed).problems()
        assert "year" in contracts.ContractFilters(year=typed).problems()
    assert not projects.ProjectFilters(year="２０２６").problems()
    assert not contracts.ContractFilters(year="２０２６").problems()
