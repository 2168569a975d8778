"""The condition language: every operator, missing versus false, and static checks."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from dossier_rules import conditions as cond
from dossier_rules.model import BrokerDossier, CandidateDossier

from .conftest import candidate

SCOPE = cond.Scope(cond.type_of_model(CandidateDossier))


def run(condition: Any, dossier: Any, as_of: date = date(2025, 3, 1)) -> bool:
    program = cond.parse(condition, SCOPE).program()
    return program({cond.ROOT: dossier, "$as_of": as_of})


def error(condition: Any, scope: cond.Scope = SCOPE) -> str:
    with pytest.raises(cond.ConditionError) as info:
        cond.parse(condition, scope)
    return info.value.message


# ---------------------------------------------------------------- comparisons


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        ("eq", "abroad", True),
        ("eq", "japan", False),
        ("ne", "japan", True),
        ("ne", "abroad", False),
    ],
)
def test_eq_ne_on_enum(op: str, value: str, expected: bool) -> None:
    assert run({"field": "residence", op: value}, candidate(residence="abroad")) is expected


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [("lt", 100, False), ("le", 100, True), ("gt", 99.5, True), ("ge", 101, False)],
)
def test_ordering_on_numbers(op: str, value: float, expected: bool) -> None:
    dossier = candidate(fees=[{"amount": 100}])
    assert run({"some": {"in": "fees", "as": "f", "where": {"field": "f.amount", op: value}}}, dossier) is expected


def test_date_literal_comparison() -> None:
    dossier = candidate(certificate={"issue_date": "2025-02-01"})
    assert run({"field": "certificate.issue_date", "lt": "2025-02-02"}, dossier)
    assert not run({"field": "certificate.issue_date", "lt": "2025-02-01"}, dossier)


def test_date_against_as_of_with_offset() -> None:
    dossier = candidate(certificate={"issue_date": "2024-12-01"})
    older_than_3_months = {"field": "certificate.issue_date", "lt": {"var": "as_of", "offset": "-3m"}}
    assert not run(older_than_3_months, dossier, as_of=date(2025, 3, 1))
    assert run(older_than_3_months, dossier, as_of=date(2025, 3, 2))


def test_offset_units_are_calendar_aware() -> None:
    dossier = candidate(certificate={"issue_date": "2024-02-29"})
    one_year_later = {"field": "certificate.issue_date", "ge": {"var": "as_of", "offset": "-1y"}}
    assert run(one_year_later, dossier, as_of=date(2025, 2, 28))
    assert not run(one_year_later, dossier, as_of=date(2025, 3, 1))
    assert run({"field": "certificate.issue_date", "lt": {"var": "as_of", "offset": "-2w"}}, dossier, as_of=date(2024, 3, 15))


def test_field_to_field_comparison() -> None:
    dossier = candidate(sending_agency={"accreditation": {"valid_from": "2020-01-01", "valid_to": "2019-01-01"}})
    inverted = {"field": "sending_agency.accreditation.valid_to", "lt": {"field": "sending_agency.accreditation.valid_from"}}
    assert run(inverted, dossier)
    assert not run(inverted, candidate(sending_agency={"accreditation": {"valid_to": "2019-01-01"}}))


def test_membership_in_literal_list_and_in_list_field() -> None:
    dossier = candidate(languages=["km", "en"], fees=[{"explanation_language": "en"}, {"explanation_language": "ja"}])
    assert run({"field": "residence", "in": ["abroad", "japan"]}, candidate(residence="japan"))
    assert run({"field": "residence", "not_in": ["abroad"]}, candidate(residence="japan"))
    understood = {"some": {"in": "fees", "as": "f", "where": {"field": "f.explanation_language", "in": {"field": "languages"}}}}
    foreign = {"every": {"in": "fees", "as": "f", "where": {"field": "f.explanation_language", "not_in": {"field": "languages"}}}}
    assert run(understood, dossier)
    assert not run(foreign, dossier)


# ---------------------------------------------------------------- missing is not false


def test_missing_and_exists() -> None:
    assert run({"missing": "certificate"}, candidate())
    assert not run({"exists": "certificate"}, candidate())
    assert run({"exists": "certificate.number"}, candidate(certificate={"number": "X"}))
    assert run({"missing": "certificate.number"}, candidate(certificate={"issuer": "MoLVT"}))


@pytest.mark.parametrize("op", ["eq", "ne"])
def test_comparison_with_missing_field_is_never_true(op: str) -> None:
    dossier = candidate(tests=[{"kind": "skills"}])
    for value in (True, False):
        condition = {"some": {"in": "tests", "as": "t", "where": {"field": "t.identity_verified", op: value}}}
        assert not run(condition, dossier)


def test_explicit_false_differs_from_missing() -> None:
    said_no = candidate(tests=[{"kind": "skills", "identity_verified": False}])
    unknown = candidate(tests=[{"kind": "skills"}])
    condition = {"some": {"in": "tests", "as": "t", "where": {"field": "t.identity_verified", "eq": False}}}
    assert run(condition, said_no)
    assert not run(condition, unknown)


def test_not_in_with_missing_value_or_list_is_false() -> None:
    condition = {"some": {"in": "fees", "as": "f", "where": {"field": "f.explanation_language", "not_in": {"field": "languages"}}}}
    assert not run(condition, candidate(fees=[{"explanation_language": "ja"}]))  # languages unknown
    assert not run(condition, candidate(languages=["km"], fees=[{"amount": 1}]))  # language unknown
    assert run(condition, candidate(languages=["km"], fees=[{"explanation_language": "ja"}]))


def test_quantifiers_over_missing_and_empty_lists() -> None:
    some = {"some": {"in": "dependents", "as": "d", "where": {"field": "d.relation", "eq": "spouse"}}}
    every = {"every": {"in": "dependents", "as": "d", "where": {"field": "d.relation", "eq": "spouse"}}}
    assert not run(some, candidate())
    assert not run(some, candidate(dependents=[]))
    assert run(every, candidate(dependents=[]))
    assert run(every, candidate(dependents=[{"relation": "spouse"}]))
    assert not run(every, candidate(dependents=[{"relation": "spouse"}, {"relation": "child"}]))


def test_boolean_combinators() -> None:
    dossier = candidate(residence="abroad", status_sought="SSW1")
    abroad, ssw2 = {"field": "residence", "eq": "abroad"}, {"field": "status_sought", "eq": "SSW2"}
    assert not run({"all": [abroad, ssw2]}, dossier)
    assert run({"all": [abroad, {"not": ssw2}]}, dossier)
    assert run({"any": [ssw2, abroad]}, dossier)
    assert not run({"any": [ssw2, {"missing": "residence"}]}, dossier)
    assert run({"all": [abroad, abroad, {"not": ssw2}]}, dossier)


def test_nested_quantifier_can_see_outer_binding() -> None:
    condition = {
        "some": {
            "in": "fees",
            "as": "f",
            "where": {"some": {"in": "intermediaries", "as": "i", "where": {"field": "i.id", "eq": {"field": "f.payee.id"}}}},
        }
    }
    assert run(condition, candidate(fees=[{"payee": {"id": "B-1"}}], intermediaries=[{"id": "B-1"}]))
    assert not run(condition, candidate(fees=[{"payee": {"id": "B-1"}}], intermediaries=[{"id": "B-2"}]))


# ---------------------------------------------------------------- static checks


def test_unknown_field_is_rejected_with_a_suggestion() -> None:
    message = error({"missing": "certficate"})
    assert "unknown field 'certficate'" in message and "did you mean 'certificate'" in message


def test_unknown_nested_field_names_its_parent() -> None:
    assert "in 'certificate'" in error({"exists": "certificate.numbr"})


def test_list_field_needs_a_quantifier() -> None:
    assert "use 'some' or 'every'" in error({"field": "fees.amount", "gt": 0})


def test_unknown_operator_is_rejected() -> None:
    assert "unknown operator 'exist'" in error({"exist": "certificate"})
    assert "unknown comparison 'equals'" in error({"field": "residence", "equals": "abroad"})


def test_impossible_enum_value_is_a_type_error() -> None:
    message = error({"field": "residence", "eq": "abraod"})
    assert "not a possible value" in message and "did you mean 'abroad'" in message


@pytest.mark.parametrize(
    ("condition", "fragment"),
    [
        ({"field": "residence", "lt": "abroad"}, "orders numbers or dates"),
        ({"field": "certificate.issue_date", "lt": 5}, "expected a date"),
        ({"field": "certificate.issue_date", "lt": "2025-13-01"}, "expected a date"),
        ({"field": "certificate.number", "eq": True}, "expected a string"),
        ({"field": "certificate", "eq": "x"}, "compare one of its fields"),
        ({"field": "residence", "eq": {"field": "submitted"}}, "cannot compare"),
        ({"field": "certificate.number", "eq": {"var": "as_of"}}, "cannot compare"),
        ({"field": "certificate.number", "eq": {"field": "certificate.issuer", "offset": "1d"}}, "applies to dates only"),
        ({"field": "certificate.issue_date", "lt": {"var": "as_of", "offset": "3 months"}}, "offset must look like"),
        ({"field": "certificate.issue_date", "lt": {"var": "today"}}, "unknown variable"),
        ({"field": "residence", "in": []}, "non-empty list"),
        ({"field": "certificate.issue_date", "in": {"field": "languages"}}, "needs a list of date"),
        ({"field": "residence", "in": {"field": "fees"}}, "needs a list of string"),
    ],
)
def test_type_mismatches_are_rejected(condition: Any, fragment: str) -> None:
    assert fragment in error(condition)


def test_membership_list_items_are_type_checked() -> None:
    assert "'in' item" in error({"field": "residence", "in": ["abroad", "mars"]})


@pytest.mark.parametrize(
    ("condition", "fragment"),
    [
        ({"all": []}, "non-empty list"),
        ({"any": "x"}, "non-empty list"),
        ({"some": {"in": "fees", "where": {"exists": "fees"}}}, "takes {in: LIST_PATH"),
        ({"some": {"in": "certificate", "as": "c", "where": {"exists": "c"}}}, "iterates over a list"),
        ({"some": {"in": "fees", "as": "fees", "where": {"exists": "fees"}}}, "already a field"),
        ({"some": {"in": "fees", "as": "Fee", "where": {"exists": "Fee"}}}, "lower-case identifier"),
        ({"missing": "certificate", "exists": "certificate"}, "one operator"),
        ({"eq": "abroad"}, "needs a 'field'"),
        ({"field": "residence"}, "exactly one of"),
        ("residence == abroad", "must be a mapping"),
        ({"exists": "certificate..number"}, "dotted names"),
    ],
)
def test_malformed_conditions_are_rejected(condition: Any, fragment: str) -> None:
    assert fragment in error(condition)


def test_scopes_do_not_leak_between_kinds() -> None:
    broker_scope = cond.Scope(cond.type_of_model(BrokerDossier))
    assert "unknown field 'certificate'" in error({"missing": "certificate"}, broker_scope)
    cond.parse({"field": "practices.holds_passports", "eq": True}, broker_scope)


def test_outline_and_str_render_the_condition() -> None:
    node = cond.parse({"all": [{"missing": "certificate"}, {"not": {"field": "residence", "eq": "japan"}}]}, SCOPE)
    assert cond.outline(node) == ["all of:", "  certificate is missing", "  not:", "    residence == 'japan'"]
    assert str(node) == "(certificate is missing AND NOT residence == 'japan')"


# ---------------------------------------------------------------- aggregates

INTERMEDIARY_USD = {
    "in": "fees",
    "as": "f",
    "of": "f.amount",
    "where": {"field": "f.payee.role", "in": ["intermediary", "sending_agency"]},
    "unit": {"field": "f.currency", "eq": "USD"},
}


def fee(amount: float | None, currency: str | None = "USD", role: str = "intermediary") -> dict[str, Any]:
    item: dict[str, Any] = {"payee": {"role": role}}
    if amount is not None:
        item["amount"] = amount
    if currency is not None:
        item["currency"] = currency
    return item


def test_count_with_and_without_where() -> None:
    dossier = candidate(dependents=[{"relation": "child", "accompanying": True}, {"relation": "child"}, {"relation": "spouse", "accompanying": True}])
    assert run({"count": {"in": "dependents"}, "eq": 3}, dossier)
    accompanying = {"in": "dependents", "as": "d", "where": {"field": "d.accompanying", "eq": True}}
    assert run({"count": accompanying, "eq": 2}, dossier)
    assert run({"count": accompanying, "gt": 1}, dossier)
    assert not run({"count": accompanying, "gt": 2}, dossier)


def test_sum_adds_only_matching_items_in_the_named_currency() -> None:
    total_above_cap = {"sum": INTERMEDIARY_USD, "gt": 1000}
    assert run(total_above_cap, candidate(fees=[fee(600), fee(600.5)]))
    assert not run(total_above_cap, candidate(fees=[fee(600), fee(400)]))  # exactly the cap is not above it
    assert not run(total_above_cap, candidate(fees=[fee(600), fee(900, role="relative")]))  # not an intermediary
    assert run({"sum": INTERMEDIARY_USD, "eq": 1000}, candidate(fees=[fee(600), fee(400)]))


def test_sum_in_another_currency_or_of_an_unknown_amount_is_unknown() -> None:
    for fees in ([fee(600), fee(900, currency="KHR")], [fee(600), fee(900, currency=None)], [fee(1200), fee(None)]):
        assert not run({"sum": INTERMEDIARY_USD, "gt": 1000}, candidate(fees=fees))
        assert not run({"sum": INTERMEDIARY_USD, "le": 1000}, candidate(fees=fees))
    # an item that where leaves out may be in any currency
    assert run({"sum": INTERMEDIARY_USD, "gt": 1000}, candidate(fees=[fee(1200), fee(5, currency="KHR", role="relative")]))


def test_aggregates_over_absent_and_empty_lists() -> None:
    for func in ("count", "sum"):
        arg = {"in": "dependents"} if func == "count" else INTERMEDIARY_USD | {"in": "fees"}
        lst = "dependents" if func == "count" else "fees"
        assert run({func: arg, "eq": 0}, candidate(**{lst: []}))
        assert not run({func: arg, "eq": 0}, candidate())  # not declared: unknown
        assert not run({func: arg, "ne": 0}, candidate())
    earliest = {"min": {"in": "tests", "as": "t", "of": "t.taken_on"}, "lt": "2025-01-01"}
    latest = {"max": {"in": "tests", "as": "t", "of": "t.taken_on"}, "ge": "2025-01-01"}
    for tests in ([], None):
        dossier = candidate(tests=tests) if tests is not None else candidate()
        assert not run(earliest, dossier) and not run(latest, dossier)  # no least or greatest of nothing
        assert run({"not": earliest}, dossier)


def test_min_and_max_of_numbers_and_dates() -> None:
    tests = [{"kind": "skills", "taken_on": "2024-05-01"}, {"kind": "japanese", "taken_on": "2025-02-01"}]
    earliest = {"in": "tests", "as": "t", "of": "t.taken_on"}
    assert run({"min": earliest, "eq": "2024-05-01"}, candidate(tests=tests))
    assert run({"max": earliest, "eq": "2025-02-01"}, candidate(tests=tests))
    assert run({"min": earliest, "lt": {"var": "as_of", "offset": "-6m"}}, candidate(tests=tests), as_of=date(2025, 3, 1))
    assert not run({"max": earliest, "lt": {"var": "as_of", "offset": "-6m"}}, candidate(tests=tests), as_of=date(2025, 3, 1))
    largest = {"in": "fees", "as": "f", "of": "f.amount", "unit": {"field": "f.currency", "eq": "USD"}}
    assert run({"max": largest, "eq": 900}, candidate(fees=[fee(600), fee(900, role="relative")]))
    assert run({"min": largest, "eq": 600}, candidate(fees=[fee(600), fee(900, role="relative")]))


def test_aggregate_compares_with_a_field() -> None:
    count_fees = {"count": {"in": "fees"}, "gt": {"field": "dependents"}}
    assert "cannot compare a number with a list" in error(count_fees)


def test_aggregate_inside_a_quantifier_sees_the_outer_item() -> None:
    # some intermediary was paid more than twice
    condition = {
        "some": {
            "in": "intermediaries",
            "as": "i",
            "where": {"count": {"in": "fees", "as": "f", "where": {"field": "f.payee.id", "eq": {"field": "i.id"}}}, "gt": 2},
        }
    }
    paid = [{"payee": {"id": "B-1"}}] * 3
    assert run(condition, candidate(intermediaries=[{"id": "B-2"}, {"id": "B-1"}], fees=paid))
    assert not run(condition, candidate(intermediaries=[{"id": "B-2"}], fees=paid))


@pytest.mark.parametrize(
    ("condition", "fragment"),
    [
        ({"sum": {"in": "fees", "as": "f", "of": "f.amount"}, "gt": 1}, "has a currency: say which one to sum with 'unit: {field: f.currency"),
        ({"max": {"in": "held_property", "as": "h", "of": "h.amount"}, "gt": 1}, "has a currency"),
        ({"sum": {"in": "fees", "as": "f", "of": "f.payee", "unit": {"field": "f.currency", "eq": "USD"}}, "gt": 1}, "'sum' needs number values"),
        ({"sum": {"in": "tests", "as": "t", "of": "t.taken_on"}, "gt": "2025-01-01"}, "'sum' needs number values"),
        ({"min": {"in": "tests", "as": "t", "of": "t.name"}, "gt": 1}, "needs number or date values"),
        ({"sum": {"in": "fees", "as": "f"}, "gt": 1}, "needs 'of: f.FIELD'"),
        ({"sum": {"in": "fees", "of": "amount"}, "gt": 1}, "needs 'as: NAME'"),
        ({"sum": {"in": "fees", "as": "f", "of": "identity.name"}, "gt": 1}, "reads a field of each item"),
        ({"sum": INTERMEDIARY_USD | {"unit": {"field": "f.currency", "eq": 3}}, "gt": 1}, "'unit': expected a string"),
        ({"sum": INTERMEDIARY_USD | {"unit": {"field": "f.amount", "eq": "USD"}}, "gt": 1}, "names a text field"),
        ({"sum": INTERMEDIARY_USD | {"unit": "USD"}, "gt": 1}, "'unit' takes {field: f.currency"),
        ({"count": {"in": "fees", "as": "f", "of": "f.amount"}, "gt": 1}, "'count' takes {in: LIST_PATH"),
        ({"count": {"in": "certificate"}, "gt": 1}, "works over a list"),
        ({"count": {"in": "fees", "where": {"exists": "certificate"}}, "gt": 1}, "needs 'as: NAME'"),
        ({"count": {"in": "fees"}, "gt": "many"}, "expected a number"),
        ({"count": {"in": "fees"}, "in": [1, 2]}, "exactly one of eq, ne, lt, le, gt, ge"),
        ({"count": {"in": "fees"}}, "exactly one of eq"),
        ({"count": {"in": "fees"}, "sum": {"in": "fees"}, "gt": 1}, "one of count, sum, min, max"),
        ({"count": {"in": "fees", "as": "f", "where": {"field": "f.amout", "gt": 1}}, "gt": 1}, "did you mean 'amount'"),
    ],
)
def test_aggregate_type_errors(condition: Any, fragment: str) -> None:
    assert fragment in error(condition)


@pytest.mark.parametrize(
    ("condition", "suggestion"),
    [
        ({"count": {"in": "fees"}, "gte": 1}, "did you mean 'ge'"),
        ({"count": {"in": "fees"}, "lte": 1}, "did you mean 'le'"),
        ({"field": "residence", "gte": 1}, "did you mean 'ge'"),
        ({"field": "residence", "equals": "abroad"}, "did you mean 'eq'"),
        ({"field": "residence", "not_inn": ["abroad"]}, "did you mean 'not_in'"),
        ({"exsits": "certificate"}, "did you mean 'exists'"),
    ],
)
def test_operator_suggestions_keep_the_meaning(condition: Any, suggestion: str) -> None:
    assert suggestion in error(condition)


def test_an_operator_one_letter_from_another_is_not_suggested_as_it() -> None:
    message = error({"field": "residence", "gtt": 1})
    assert "did you mean" not in message


def test_aggregates_render_for_people() -> None:
    node = cond.parse({"sum": INTERMEDIARY_USD, "gt": 1000}, SCOPE)
    assert str(node) == "SUM(f.amount FOR f IN fees WHERE f.payee.role in ['intermediary', 'sending_agency'] WITH f.currency == 'USD') > 1000"
    assert cond.outline(node) == [
        "sum of f.amount with f.currency == 'USD' > 1000, over each f in fees where:",
        "  f.payee.role in ['intermediary', 'sending_agency']",
    ]
    assert str(cond.parse({"count": {"in": "dependents"}, "ge": 3}, SCOPE)) == "COUNT(dependents) >= 3"
