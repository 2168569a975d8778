"""A batch output says what produced it (run header, checkpoints), and --resume refuses anything different."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from dossier_rules.cli import main
from dossier_rules.packs import load_packs
from dossier_rules.provenance import differences
from dossier_rules.report import Checkpoint, Report, RunHeader

from .conftest import RULES, SAMPLES
from .test_batch import body, make_input, records


def batch(*args: str):
    return CliRunner().invoke(main, ["batch", *args, "--jobs", "1"], catch_exceptions=False)


@pytest.fixture()
def interrupted(tmp_path: Path) -> tuple[Path, Path, bytes]:
    """An input of 1,200 records and its output cut in the middle of the third chunk, as a kill would leave it."""
    source = make_input(tmp_path / "in.jsonl", 1200)
    out = tmp_path / "out.jsonl"
    assert batch(str(source), "--out", str(out)).exit_code == 2
    full = out.read_bytes()
    out.write_bytes(full[: int(len(full) * 0.6)])
    return source, out, full


def copy_rules(tmp_path: Path) -> Path:
    return Path(shutil.copytree(RULES, tmp_path / "rules"))


def refused(result, *words: str) -> None:
    assert result.exit_code == 2, result.output
    assert "cannot resume" in result.stderr
    for word in words:
        assert word in result.stderr, result.stderr


def test_output_is_a_header_then_lean_reports_and_checkpoints(tmp_path: Path) -> None:
    source = make_input(tmp_path / "in.jsonl", 1100)
    out = tmp_path / "out.jsonl"
    batch(str(source), "--out", str(out))
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    header = RunHeader.model_validate(lines[0])
    assert set(header.packs) == set(header.registries) == set(load_packs(RULES).packs)
    checkpoints = [Checkpoint.model_validate(r) for r in lines if r.get("record_type") == "checkpoint"]
    assert [c.records for c in checkpoints] == [512, 1024, 1100]
    assert lines[-1]["record_type"] == "checkpoint"
    reports = [r for r in records(out) if "errors" not in r]
    assert reports and all("packs" not in r and "registries" not in r for r in reports)
    assert all(Report.model_validate(r).packs is None for r in reports)


def test_check_json_stays_self_contained() -> None:
    result = CliRunner().invoke(main, ["check", str(SAMPLES / "kh-candidate-clean.json"), "--format", "json"])
    report = json.loads(result.output)["results"][0]
    assert report["packs"] and report["registries"] and report["outcome"] == "clear"


def test_resume_continues_the_same_run(interrupted: tuple[Path, Path, bytes]) -> None:
    source, out, full = interrupted
    result = batch(str(source), "--out", str(out), "--resume")
    assert result.exit_code == 2  # the input holds bad records
    assert out.read_bytes() == full
    assert "already in the output (resumed)" in result.stderr


def test_resume_refuses_other_packs(interrupted: tuple[Path, Path, bytes], tmp_path: Path) -> None:
    source, out, _ = interrupted
    rules = copy_rules(tmp_path)
    pack = rules / "kh.yaml"
    pack.write_text(pack.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    kept = out.read_bytes()
    refused(batch(str(source), "--out", str(out), "--resume", "--packs", str(rules)), "packs differ", "kh:")
    assert out.read_bytes() == kept  # nothing cut, nothing appended


def test_resume_refuses_other_registries(interrupted: tuple[Path, Path, bytes], tmp_path: Path) -> None:
    source, out, _ = interrupted
    rules = copy_rules(tmp_path)
    (rules / "registries" / "kh-accredited-agencies.json").unlink()
    refused(
        batch(str(source), "--out", str(out), "--resume", "--registries", str(rules / "registries")),
        "registries differ",
        "KH accredited-agencies",
        "not loaded",
    )


def test_resume_refuses_another_as_of_or_registry_age(interrupted: tuple[Path, Path, bytes]) -> None:
    source, out, _ = interrupted
    refused(batch(str(source), "--out", str(out), "--resume", "--as-of", "2025-09-01"), "--as-of was None, now 2025-09-01")
    refused(batch(str(source), "--out", str(out), "--resume", "--max-registry-age", "30"), "--max-registry-age was 180, now 30")


def test_resume_refuses_an_input_edited_in_place(interrupted: tuple[Path, Path, bytes]) -> None:
    source, out, _ = interrupted
    text = source.read_text(encoding="utf-8")
    source.write_text(text.replace("KH-CAND-0001", "KH-CAND-0009", 1), encoding="utf-8")  # same size, one record changed
    refused(batch(str(source), "--out", str(out), "--resume"), "input's first 512 records are not the ones")


def test_resume_refuses_a_shorter_input(interrupted: tuple[Path, Path, bytes]) -> None:
    source, out, _ = interrupted
    lines = source.read_text(encoding="utf-8").splitlines()
    source.write_text("\n".join(lines[:300]) + "\n", encoding="utf-8")
    refused(batch(str(source), "--out", str(out), "--resume"), "covers 512 input records but the input has only")


def test_resume_refuses_an_output_without_header(tmp_path: Path) -> None:
    source = make_input(tmp_path / "in.jsonl", 10)
    out = tmp_path / "out.jsonl"
    out.write_text('{"source": "x", "errors": []}\n')
    refused(batch(str(source), "--out", str(out), "--resume"), "no run header")


def test_resume_redoes_records_after_the_last_checkpoint(interrupted: tuple[Path, Path, bytes]) -> None:
    source, out, full = interrupted
    assert body(out).count(b'"record_type":"checkpoint"') == 1  # one chunk and part of another were written
    batch(str(source), "--out", str(out), "--resume")
    assert len(records(out)) == 1200 and out.read_bytes() == full


def test_differences_name_the_engine() -> None:
    header = {
        "format": "dossier-rules-results",
        "format_version": "1",
        "report_version": "1",
        "engine": {"program": "dossier-rules", "version": "1.0", "backend": "native"},
        "options": {"as_of": None, "max_registry_age": 180},
        "packset_sha256": "a",
        "registries_sha256": "b",
    }
    assert differences(header, header) == []
    other = {**header, "engine": {**header["engine"], "backend": "rete"}}
    assert differences(header, other) == ["the output was written by dossier-rules 1.0 (native backend), this run is dossier-rules 1.0 (rete backend)"]
