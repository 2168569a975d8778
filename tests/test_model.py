"""The dossier model, its generated schemas, and dossier errors with JSON pointers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dossier_rules import schemas
from dossier_rules.engine import Engine
from dossier_rules.model import DOSSIER_ADAPTER, CandidateDossier
from dossier_rules.packs import PackSet
from dossier_rules.problems import InputError
from dossier_rules.sources import check_dossier_data, load_dossier, parse_dossier, read_dossier

from .conftest import ROOT, SAMPLES, candidate

SCHEMAS = ROOT / "schemas"


def problems(raw: str | bytes) -> list:
    with pytest.raises(InputError) as info:
        parse_dossier(raw, "x.json")
    return info.value.problems


def test_unknown_is_distinguishable_from_false() -> None:
    unknown = DOSSIER_ADAPTER.validate_python(candidate(tests=[{"kind": "skills"}]))
    said_no = DOSSIER_ADAPTER.validate_python(candidate(tests=[{"kind": "skills", "identity_verified": False}]))
    assert unknown.tests[0].identity_verified is None
    assert said_no.tests[0].identity_verified is False
    assert DOSSIER_ADAPTER.validate_python(candidate()).fees is None and DOSSIER_ADAPTER.validate_python(candidate(fees=[])).fees == []


def test_kind_selects_the_model() -> None:
    assert isinstance(DOSSIER_ADAPTER.validate_python(candidate()), CandidateDossier)
    broker = parse_dossier(json.dumps({"dossier_id": "B", "kind": "broker", "country": "PK", "submitted": "2025-01-01", "name": "B"}), "b")
    assert broker.kind == "broker"


def test_schema_violations_carry_json_pointers() -> None:
    doc = {
        "dossier_id": "X",
        "kind": "candidate",
        "country": "KH",
        "submitted": "2025-01-01",
        "identity": {"name": "A"},
        "fees": [{"amount": 5}, {"amount": -1}],
        "residence": "moon",
        "colour": "red",
    }
    found = {p.pointer: p.message for p in problems(json.dumps(doc))}
    assert set(found) == {"/fees/1/amount", "/residence", "/colour"}
    assert "must be 0 or more" in found["/fees/1/amount"]
    assert "unknown field" in found["/colour"]


def test_unknown_country_and_kind(engine: Engine, packset: PackSet) -> None:
    doc = {"dossier_id": "X", "kind": "candidate", "country": "VNM", "submitted": "2025-01-01", "identity": {"name": "A"}}
    (problem,) = problems(json.dumps(doc))
    assert problem.pointer == "/country"  # not a country code
    # a well-formed code is screened only if a pack is present for it: the packs decide, not the model
    vietnam = {**doc, "country": "VN"}
    with pytest.raises(InputError) as info:
        engine.evaluate_data(load_dossier(json.dumps(vietnam).encode(), "x.json"), timestamp=False)
    (problem,) = info.value.problems
    assert problem.pointer == "/country" and problem.kind == "no_pack"
    assert all(country in problem.message for country in packset.countries)
    # a wrong or missing kind is reported with the other problems, not instead of them
    assert [p.pointer for p in problems(json.dumps({**doc, "kind": "employer"}))] == ["/kind", "/country"]
    assert [p.pointer for p in problems(json.dumps({k: v for k, v in doc.items() if k != "kind"}))] == ["/kind", "/country"]


def test_a_kind_that_is_not_a_string_is_an_error_not_a_crash() -> None:
    doc = {"dossier_id": "X", "kind": ["candidate"], "country": "KH", "submitted": "2025-01-01", "identity": {"name": "A"}}
    (problem,) = problems(json.dumps(doc))
    assert problem.pointer == "/kind"


def test_missing_required_field() -> None:
    doc = {"dossier_id": "X", "kind": "candidate", "country": "KH", "submitted": "2025-01-01"}
    (problem,) = problems(json.dumps(doc))
    assert problem.pointer == "/identity" and problem.message == 'required field "identity" is missing'


def test_invalid_json_names_line_and_column() -> None:
    (problem,) = problems('{\n  "dossier_id": "X",\n  oops\n}')
    assert problem.kind == "syntax" and "line 3" in problem.message


def test_empty_and_missing_and_huge_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.json"
    empty.write_text("   \n")
    huge = tmp_path / "huge.json"
    huge.write_bytes(b" " * (4 * 1024 * 1024 + 1))
    for path, kind in ((empty, "empty"), (tmp_path / "nope.json", "not_found"), (huge, "too_large"), (tmp_path, "not_found")):
        with pytest.raises(InputError) as info:
            read_dossier(path)
        assert info.value.problems[0].kind == kind
        assert info.value.problems[0].source == str(path)


def test_checked_in_schemas_are_current(packset: PackSet) -> None:
    assert schemas.stale(SCHEMAS, packset) == [], "run: dossier-rules schemas write"


def test_samples_validate_against_the_published_json_schema() -> None:
    schema = json.loads((SCHEMAS / "dossier.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    for path in sorted(SAMPLES.glob("*.json")):
        data = json.loads(path.read_text())
        assert not list(validator.iter_errors(data)), path
        read_dossier(path)


def test_published_schema_and_model_agree_on_a_bad_dossier() -> None:
    schema = json.loads((SCHEMAS / "dossier.schema.json").read_text())
    bad = json.loads((SAMPLES / "kh-candidate-clean.json").read_text())
    bad["fees"][0]["currency"] = "dollars"
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(bad))
    assert problems(json.dumps(bad))[0].pointer == "/fees/0/currency"


def test_the_published_schema_decides_where_the_model_would_coerce() -> None:
    """The model alone would read "yes" as true; the published schema refuses it, at its pointer."""
    doc = json.loads((SAMPLES / "kh-candidate-clean.json").read_text())
    doc["fees"][0]["basis_shown"] = "yes"
    (problem,) = problems(json.dumps(doc))
    assert problem.pointer == "/fees/0/basis_shown" and "use true or false" in problem.message


def test_screening_reads_the_dossier_as_submitted() -> None:
    """Validated data is the parsed JSON itself: no field is added, dropped or converted."""
    raw = (SAMPLES / "kh-candidate-clean.json").read_bytes()
    assert load_dossier(raw, "x.json") == json.loads(raw)


JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(-2, 2, allow_nan=False),
    st.sampled_from(["", "x", "KH", "km", "2025-02-30", "2025-01-01", "USD", "yes", "true"]),
)


@settings(max_examples=500, deadline=None, database=None)
@given(data=st.data())
def test_what_the_schema_accepts_the_model_accepts(data: st.DataObject) -> None:
    """Screening trusts the published schema, so the model must never reject a dossier the schema lets through.

    Each example replaces one value somewhere in a sample with an arbitrary scalar.
    """
    names = sorted(p.name for p in SAMPLES.glob("*.json"))
    doc = json.loads((SAMPLES / data.draw(st.sampled_from(names))).read_text())
    spots = list(_locations(doc))
    parent, key = data.draw(st.sampled_from(spots))
    parent[key] = data.draw(JSON_SCALARS)
    try:
        check_dossier_data(doc, "x.json")
    except InputError:
        return
    DOSSIER_ADAPTER.validate_python(doc)


def _locations(node: Any) -> Any:
    """Every (container, key) pair of a JSON document."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        yield node, key
        yield from _locations(value)
