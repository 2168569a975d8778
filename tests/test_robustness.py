"""No record ends a run: dates, defects in evaluation, odd numbers, odd file names, damaged input."""

from __future__ import annotations

import gzip
import json
import os
from datetime import date
from pathlib import Path

import jsonschema_rs
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from dossier_rules import batch
from dossier_rules import conditions as cond
from dossier_rules.cli import main
from dossier_rules.engine import Engine
from dossier_rules.model import ISO_DATE_PATTERN, CandidateDossier, parse_date
from dossier_rules.problems import InputError
from dossier_rules.rete import fact_value
from dossier_rules.sources import load_dossier

from .conftest import SAMPLES, candidate

CLEAN = (SAMPLES / "kh-candidate-clean.json").read_text(encoding="utf-8")


def results_in(path: Path) -> list[dict]:
    """The reports and error records of a batch output (not its run header and checkpoints)."""
    return [r for r in map(json.loads, path.read_text(encoding="utf-8").splitlines()) if "record_type" not in r]


def invoke(*args: str, stdin: bytes | None = None):
    return CliRunner().invoke(main, list(args), input=stdin, catch_exceptions=False)


def with_submitted(text: str) -> bytes:
    data = json.loads(CLEAN)
    data["submitted"] = text
    return json.dumps(data).encode()


# ---------------------------------------------------------------- one date definition


@pytest.mark.parametrize("text", ["2025-01-0,", "2.25-01-01", "0000-01-01", "2025-02-30", "２０２５-01-01", "2025-01-01\n", "20250101"])
def test_the_schema_refuses_what_is_not_a_date(text: str) -> None:
    with pytest.raises(InputError) as info:
        load_dossier(with_submitted(text), "t.json")
    assert info.value.problems[0].pointer == "/submitted"


DATE_SCHEMA = jsonschema_rs.validator_for(CandidateDossier.model_json_schema()["properties"]["submitted"], validate_formats=True)


@settings(max_examples=400, derandomize=True, deadline=None)
@given(st.one_of(st.from_regex(r"[0-9.,\-+ ]{4}-[0-9O]{2}-[0-9,]{2}", fullmatch=True), st.text(max_size=12)))
def test_what_the_schema_accepts_as_a_date_the_engine_reads(text: str) -> None:
    accepted = DATE_SCHEMA.is_valid(text)
    assert accepted == (parse_date(text) is not None)
    if accepted:
        assert cond.as_date(text) == parse_date(text)


def test_date_pattern_is_in_the_published_schema() -> None:
    schema = json.loads((SAMPLES.parent / "schemas" / "candidate.schema.json").read_text())
    assert schema["properties"]["submitted"]["pattern"] == ISO_DATE_PATTERN


def test_bad_dates_give_error_records_and_the_run_goes_on(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"\n".join([with_submitted("2025-01-0,"), CLEAN.replace("\n", " ").encode(), with_submitted("0000-01-01")]) + b"\n")
    result = invoke("batch", str(source), "--out", str(tmp_path / "o.jsonl"), "--jobs", "1")
    out = results_in(tmp_path / "o.jsonl")
    assert result.exit_code == 2 and len(out) == 3
    assert ["errors" in r for r in out] == [True, False, True]


# ---------------------------------------------------------------- a defect costs one record


def test_an_exception_in_a_rule_is_that_records_internal_error(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    data = candidate()
    runners = [r for items, group in engine._plans[("KH", "candidate")] if items is None for r in group]  # rules every dossier runs
    victim = runners[len(runners) // 2]

    def broken(env: cond.Env) -> bool:
        raise ZeroDivisionError("boom")

    def generated_broken(*args: object) -> None:
        raise ZeroDivisionError("boom in generated code")

    monkeypatch.setattr(victim, "program", broken)
    screens = dict(engine._screens)
    for with_generated_code in (False, True):
        monkeypatch.setattr(engine, "_screens", {("KH", "candidate"): generated_broken} if with_generated_code else {})
        record = batch.screen_record(engine, "x.json", None, json.dumps(data).encode(), None)
        assert record["errors"][0]["kind"] == "internal"
        assert record["errors"][0]["rule"] == victim.static["rule_id"], "the interpreter names the rule"
        assert "ZeroDivisionError" in record["errors"][0]["message"]
    monkeypatch.undo()
    assert engine._screens == screens
    assert "findings" in batch.screen_record(engine, "x.json", None, json.dumps(data).encode(), None)


def test_date_offset_beyond_the_calendar_is_no_such_date() -> None:
    scope = cond.Scope(cond.type_of_model(CandidateDossier))
    before = cond.parse({"field": "submitted", "lt": {"var": "as_of", "offset": "-6m"}}, scope).program()
    after = cond.parse({"field": "submitted", "gt": {"var": "as_of", "offset": "+1y"}}, scope).program()
    dossier = candidate(submitted="0001-01-01")
    assert before({cond.ROOT: dossier, "$as_of": date(1, 1, 1)}) is False
    assert after({cond.ROOT: dossier, "$as_of": date(9999, 12, 31)}) is False
    assert before({cond.ROOT: dossier, "$as_of": date(2025, 1, 1)}) is True


# ---------------------------------------------------------------- rete numbers


def test_numbers_durable_rules_cannot_read_are_converted_or_refused() -> None:
    assert fact_value({"a": 1e16, "b": None, "c": [2.5, 1e300]}) == {"a": 10**16, "c": [2.5, 1e300]}
    assert type(fact_value(1e16)) is int
    with pytest.raises(InputError) as info:
        fact_value({"fees": [{"amount": 1}, {"amount": 5e-324}]})
    assert info.value.problems[0].pointer == "/fees/1/amount"
    assert info.value.problems[0].kind == "unsupported_number"


# ---------------------------------------------------------------- file names and damaged input


def test_a_file_name_that_is_not_utf8_is_named_with_escapes(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(CLEAN)
    odd = os.fsencode(tmp_path) + b"/b\xff.json"
    with open(odd, "w") as handle:
        handle.write(CLEAN)
    out = tmp_path.parent / (tmp_path.name + "-out.jsonl")
    result = invoke("batch", str(tmp_path), "--out", str(out), "--jobs", "1")
    assert result.exit_code in (0, 1)
    sources = [r["source"] for r in results_in(out)]
    assert sources == [str(tmp_path / "a.json"), str(tmp_path / "b\\xff.json")]
    checked = invoke("check", str(tmp_path), "--format", "jsonl")
    assert [json.loads(line)["source"] for line in checked.stdout.splitlines()] == sources


def test_a_truncated_gzip_screens_every_whole_line_then_names_the_damage(tmp_path: Path) -> None:
    line = CLEAN.replace("\n", " ").encode() + b"\n"
    whole = gzip.compress(line * 3000)
    damaged = tmp_path / "in.jsonl.gz"
    damaged.write_bytes(whole[: len(whole) // 2])
    result = invoke("batch", str(damaged), "--out", str(tmp_path / "o.jsonl"), "--jobs", "2")
    assert result.exit_code == 2
    out = results_in(tmp_path / "o.jsonl")
    assert all("findings" in r for r in out[:-1]) and len(out) > 100
    assert out[-1]["errors"][0]["kind"] == "corrupt" and "bytes" in out[-1]["errors"][0]["message"]
    assert out[-1]["source"] == f"{damaged}:{len(out)}"


def test_a_corrupt_gzip_is_an_error_record_not_a_traceback(tmp_path: Path) -> None:
    data = bytearray(gzip.compress((CLEAN.replace("\n", " ") + "\n").encode() * 50))
    data[len(data) // 2] ^= 0xFF
    damaged = tmp_path / "in.jsonl.gz"
    damaged.write_bytes(bytes(data))
    result = invoke("batch", str(damaged), "--out", str(tmp_path / "o.jsonl"), "--jobs", "1")
    out = results_in(tmp_path / "o.jsonl")
    assert result.exit_code == 2 and out[-1]["errors"][0]["kind"] == "corrupt"


def test_dates_at_the_ends_of_the_calendar_give_reports_with_every_engine(engine: Engine) -> None:
    """Shipped rules shift the as-of date (``-6m``, ``+1y``...): at 0001-01-01 or 9999-12-31 that is no such date."""
    for day in ("0001-01-01", "9999-12-31"):
        data = json.loads(CLEAN)
        data["submitted"] = day
        for as_of in (None, date.fromisoformat(day)):
            record = batch.screen_record(engine, "x.json", None, json.dumps(data).encode(), as_of)
            assert "findings" in record, record
