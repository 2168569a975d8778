"""Notices in bulk: list filters, approve many by filter (count and confirmation), export many to a folder."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from dossier_rules.cli import main
from dossier_rules.sharing import NoticeFilter, Outbox

from .conftest import SAMPLES


def share(*args: str, outbox: Path, stdin: str | None = None):
    return CliRunner().invoke(main, ["share", *args, "--outbox", str(outbox)], input=stdin, catch_exceptions=False)


@pytest.fixture()
def outbox(tmp_path: Path) -> Path:
    """An outbox built from every sample (notices for KH, LA, KG, PK; TJ's MOC is not in force)."""
    reports = tmp_path / "reports.jsonl"
    assert CliRunner().invoke(main, ["batch", str(SAMPLES), "--out", str(reports), "--jobs", "1"]).exit_code == 0
    path = tmp_path / "o.sqlite"
    assert share("build", str(reports), outbox=path).exit_code == 0
    return path


def listed(outbox: Path, *filters: str) -> list[dict]:
    return json.loads(share("list", "--format", "json", *filters, outbox=outbox).output)


def test_list_filters(outbox: Path) -> None:
    every = listed(outbox)
    assert len(every) > 4
    for country in ("KH", "PK"):
        assert [n["id"] for n in listed(outbox, "--country", country)] == [n["id"] for n in every if n["country"] == country]
    assert {n["act"] for n in listed(outbox, "--country", "pk", "--act", "b", "--act", "c")} == {"b", "c"}
    # the party by id, and by name ignoring case and spacing (grouped as notices are)
    by_id = listed(outbox, "--intermediary", "PK-BRK-0001")
    assert {n["country"] for n in by_id} == {"PK"} and {n["act"] for n in by_id} == {"b", "c", "d", "e"}
    assert [n["act"] for n in listed(outbox, "--intermediary", "sakura  example BROKERAGE (fictional)")] == ["b"]
    today = date.today().isoformat()
    assert len(listed(outbox, "--created-from", today, "--created-to", today)) == len(every)
    assert listed(outbox, "--created-to", "2000-01-01") == []
    assert listed(outbox, "--state", "approved") == []


def test_filter_values_are_parameters(outbox: Path) -> None:
    with Outbox(outbox) as box:
        assert box.notices(chosen=NoticeFilter(countries=frozenset(["KH' OR '1'='1"]))) == []
        assert box.notices(chosen=NoticeFilter(intermediaries=frozenset(["%"]))) == []


def test_approve_many_counts_and_asks(outbox: Path) -> None:
    pk = [n["id"] for n in listed(outbox, "--country", "PK")]
    declined = share("approve", "--country", "PK", "--by", "Kato", outbox=outbox, stdin="n\n")
    assert declined.exit_code == 1 and f"approve {len(pk)} draft notice(s) as Kato?" in declined.stderr
    assert listed(outbox, "--state", "approved") == []
    accepted = share("approve", "--country", "PK", "--by", "Kato", outbox=outbox, stdin="y\n")
    assert accepted.exit_code == 0 and f"{len(pk)} of {len(pk)} notice(s) approved" in accepted.output
    assert [n["id"] for n in listed(outbox, "--state", "approved")] == pk
    again = share("approve", "--country", "PK", "--by", "Kato", "--yes", outbox=outbox)
    assert again.exit_code == 0 and "no draft notice matches" in again.output


def test_approve_needs_ids_or_a_filter(outbox: Path) -> None:
    result = share("approve", "--by", "Kato", "--yes", outbox=outbox)
    assert result.exit_code == 2 and listed(outbox, "--state", "approved") == []
    (first, second) = [n["id"] for n in listed(outbox)][:2]
    both = share("approve", first, second, "--by", "Kato", outbox=outbox)
    assert both.exit_code == 0 and "2 of 2 notice(s) approved" in both.output
    assert share("approve", first, "--by", "Kato", outbox=outbox).exit_code == 1  # already approved


def test_export_many_to_a_folder(outbox: Path, tmp_path: Path) -> None:
    share("approve", "--country", "KH", "--by", "Kato", "--yes", outbox=outbox)
    kh = [n["id"] for n in listed(outbox, "--country", "KH")]
    folder = tmp_path / "out"
    result = share("export", "--country", "KH", "--dir", str(folder), "--format", "md", outbox=outbox)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{nid}.md" for nid in kh)
    assert {n["state"] for n in listed(outbox, "--country", "KH")} == {"exported"}
    drafts = [n["id"] for n in listed(outbox, "--country", "PK")]
    refused = share("export", *drafts[:2], "--dir", str(folder), outbox=outbox)
    assert refused.exit_code == 1 and "approve it first" in refused.stderr and "0 of 2" in refused.output
    assert share("export", *drafts[:2], outbox=outbox).exit_code == 2  # several need --dir
