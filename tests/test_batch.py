"""Batch screening: records in = records out, order, every input form, --jobs, --resume after a kill."""

from __future__ import annotations

import gzip
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from dossier_rules.cli import main
from dossier_rules.labels import TERMS
from dossier_rules.report import ErrorRecord, Report
from dossier_rules.results import read_results

from .conftest import ROOT, SAMPLES

BAD = ['{"dossier_id": ', '{"dossier_id": "X", "kind": "candidate", "country": "ZZ", "submitted": "2025-01-01", "identity": {"name": "A"}}', "[1, 2]"]


def sample_lines() -> list[str]:
    return [json.dumps(json.loads(p.read_text()), ensure_ascii=False) for p in sorted(SAMPLES.glob("*.json"))]


def make_input(path: Path, n: int, bad_every: int = 50) -> Path:
    """n records: samples in rotation with a bad record every ``bad_every``, and blank lines (not records)."""
    samples = sample_lines()
    lines = []
    for i in range(n):
        lines.append(BAD[i % len(BAD)] if i % bad_every == bad_every - 1 else samples[i % len(samples)])
        if i % 97 == 0:
            lines.append("")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def batch(*args: str, stdin: bytes | None = None):
    return CliRunner().invoke(main, ["batch", *args], input=stdin, catch_exceptions=False)


def records(path: Path) -> list[dict]:
    """The reports and error records of a batch output (without its run header and checkpoints)."""
    return list(read_results(path))


def body(path: Path) -> bytes:
    """A batch output without its run header, whose start time differs between runs."""
    return path.read_bytes().split(b"\n", 1)[1]


def test_records_in_equal_records_out_in_input_order(tmp_path: Path) -> None:
    source = make_input(tmp_path / "in.jsonl", 600)
    result = batch(str(source), "--out", str(tmp_path / "out.jsonl"), "--jobs", "1")
    assert result.exit_code == 2  # bad records present
    out = records(tmp_path / "out.jsonl")
    assert len(out) == 600
    record_lines = [n for n, text in enumerate(source.read_text().splitlines(), 1) if text.strip()]
    assert [r["source"] for r in out] == [f"{source}:{n}" for n in record_lines]
    errors = [r for r in out if "errors" in r]
    assert len(errors) == 12
    assert {e["errors"][0]["kind"] for e in errors} == {"syntax", "schema", "no_pack"}  # ZZ: no pack screens it
    assert all(e["errors"][0]["line"] == int(e["source"].rsplit(":", 1)[1]) for e in errors)
    assert "600 = 600" in result.stderr


def test_every_output_record_matches_the_report_or_error_schema(tmp_path: Path) -> None:
    source = make_input(tmp_path / "in.jsonl", 120, bad_every=10)
    batch(str(source), "--out", str(tmp_path / "out.jsonl"), "--jobs", "1")
    for record in records(tmp_path / "out.jsonl"):
        (ErrorRecord if "errors" in record else Report).model_validate(record)


def test_batch_and_check_agree(tmp_path: Path) -> None:
    batch(str(SAMPLES), "--out", str(tmp_path / "out.jsonl"), "--jobs", "1")
    checked = CliRunner().invoke(main, ["check", str(SAMPLES), "--format", "jsonl", "--fail-on", "never"]).output
    strip = lambda r: {k: v for k, v in r.items() if k not in ("generated_at", "checks")}  # noqa: E731
    complete = list(read_results(tmp_path / "out.jsonl", self_contained=True))
    from_check = [json.loads(line) for line in checked.splitlines()]
    assert [strip(r) for r in complete] == [strip(r) for r in from_check]
    assert not any("checks" in r for r in complete)  # batch stays lean; check says what was checked
    assert all("checks" in r for r in from_check if "errors" not in r)


def test_jobs_give_the_same_output_as_one_job(tmp_path: Path) -> None:
    source = make_input(tmp_path / "in.jsonl", 3000)
    batch(str(source), "--out", str(tmp_path / "one.jsonl"), "--jobs", "1")
    batch(str(source), "--out", str(tmp_path / "two.jsonl"), "--jobs", "2")
    assert body(tmp_path / "one.jsonl") == body(tmp_path / "two.jsonl")


def test_input_forms(tmp_path: Path) -> None:
    source = make_input(tmp_path / "in.jsonl", 40, bad_every=20)
    reference = tmp_path / "ref.jsonl"
    batch(str(source), "--out", str(reference), "--jobs", "1")
    expected = [{k: v for k, v in r.items() if k != "source"} for r in records(reference)]

    gz = tmp_path / "in.jsonl.gz"
    gz.write_bytes(gzip.compress(source.read_bytes()))
    batch(str(gz), "--out", str(tmp_path / "gz.jsonl"), "--jobs", "1")
    assert [{k: v for k, v in r.items() if k != "source"} for r in records(tmp_path / "gz.jsonl")] == expected

    batch("-", "--out", str(tmp_path / "stdin.jsonl"), "--jobs", "1", stdin=source.read_bytes())
    got = records(tmp_path / "stdin.jsonl")
    assert [{k: v for k, v in r.items() if k != "source"} for r in got] == expected
    assert got[0]["source"].startswith("<stdin>:")

    result = batch(str(SAMPLES), "--out", str(tmp_path / "dir.jsonl"), "--jobs", "1")
    assert result.exit_code == 0
    assert [r["source"] for r in records(tmp_path / "dir.jsonl")] == [str(p) for p in sorted(SAMPLES.glob("*.json"))]


def test_directory_with_bad_files(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text((SAMPLES / "pk-candidate-clean-no-certificate.json").read_text())
    (tmp_path / "b.json").write_text("")
    (tmp_path / "c.json").write_text("{")
    result = batch(str(tmp_path), "--out", str(tmp_path / "out" / "o.jsonl"), "--jobs", "1")
    out = records(tmp_path / "out" / "o.jsonl")
    assert result.exit_code == 2 and len(out) == 3
    assert [("errors" in r) for r in out] == [False, True, True]


def test_exit_codes_and_missing_input(tmp_path: Path) -> None:
    clean = tmp_path / "clean.jsonl"
    clean.write_text((SAMPLES / "kh-candidate-abroad-no-agency.json").read_text().replace("\n", "") + "\n")
    assert batch(str(clean), "--out", str(tmp_path / "o.jsonl"), "--jobs", "1").exit_code == 0
    assert batch(str(clean), "--out", str(tmp_path / "o.jsonl"), "--jobs", "1", "--fail-on", "block").exit_code == 1
    assert batch(str(tmp_path / "nope.jsonl"), "--out", str(tmp_path / "o.jsonl")).exit_code == 2


def test_resume_cuts_a_half_written_record_and_completes(tmp_path: Path) -> None:
    source = make_input(tmp_path / "in.jsonl", 2000)
    reference = tmp_path / "ref.jsonl"
    batch(str(source), "--out", str(reference), "--jobs", "1")
    full = reference.read_bytes()
    out = tmp_path / "out.jsonl"
    out.write_bytes(full[: int(len(full) * 0.4)])  # an interruption mid-record
    assert not out.read_bytes().endswith(b"\n")
    result = batch(str(source), "--out", str(out), "--jobs", "2", "--resume")
    assert out.read_bytes() == full
    assert "already in the output (resumed)" in result.stderr


def test_resume_refuses_another_input(tmp_path: Path) -> None:
    first = make_input(tmp_path / "a.jsonl", 300)
    batch(str(first), "--out", str(tmp_path / "out.jsonl"), "--jobs", "1")
    other = tmp_path / "b.jsonl"
    other.write_text("\n".join(sample_lines()) + "\n")
    result = batch(str(other), "--out", str(tmp_path / "out.jsonl"), "--resume")
    assert result.exit_code == 2 and "cannot resume" in result.stderr


def test_resume_after_a_kill(tmp_path: Path) -> None:
    source = make_input(tmp_path / "in.jsonl", 30000)
    reference = tmp_path / "ref.jsonl"
    batch(str(source), "--out", str(reference), "--jobs", "2")
    out = tmp_path / "out.jsonl"
    cmd = [sys.executable, "-m", "dossier_rules", "batch", str(source), "--out", str(out), "--jobs", "2", "--packs", str(ROOT / "rules")]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not out.exists() or out.stat().st_size < 200_000):
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    written = out.read_bytes()
    assert 0 < len(written) < len(reference.read_bytes()), "the run must be killed part-way"
    resumed = subprocess.run(cmd + ["--resume"], capture_output=True, text=True, check=False)
    assert resumed.returncode == 2, resumed.stderr  # the input holds bad records
    assert body(out) == body(reference)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_empty_input(tmp_path: Path, jobs: str) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n")
    result = batch(str(empty), "--out", str(tmp_path / "o.jsonl"), "--jobs", jobs)
    assert result.exit_code == 0 and records(tmp_path / "o.jsonl") == [] and body(tmp_path / "o.jsonl") == b"" and "0 = 0" in result.stderr


def test_summary_counts_dossiers_by_outcome(tmp_path: Path) -> None:
    source = make_input(tmp_path / "in.jsonl", 120)
    result = batch(str(source), "--out", str(tmp_path / "out.jsonl"), "--jobs", "2")
    out = records(tmp_path / "out.jsonl")
    expected = {o: sum(r["outcome"] == o for r in out) for o in ("blocked", "review", "clear", "not_in_force", "unreadable")}
    assert expected["unreadable"] == 2 and expected["blocked"] and expected["clear"] and expected["not_in_force"]
    table = result.output.split("by outcome", 1)[1].split("by country", 1)[0]
    code = {english: key for key, (_ja, english) in TERMS["outcome"].items()}
    shown = {code.get(label, label): int(n) for label, n in re.findall(r"│ ([A-Za-z_ ]+?) +│ +(\d+) │", table)}
    assert shown == expected
