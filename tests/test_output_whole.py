"""Nothing cut: in a pipe or a file every line is whole; on a terminal tables wrap their cells and never cut an id."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from rich.console import Console

from dossier_rules import locale
from dossier_rules.cli import main
from dossier_rules.cli.views import text_table

from .conftest import SAMPLES


def invoke(*args: str) -> Any:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    locale.set_language("en")
    return result


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("whole")
    out, outbox = tmp / "results.jsonl", tmp / "outbox.sqlite"
    batch = invoke("batch", str(SAMPLES), "--out", str(out), "--jobs", "1", "--lang", "ja")
    invoke("share", "build", str(out), "--outbox", str(outbox))
    return {"results": out, "outbox": outbox, "batch": batch}


def test_share_list_to_a_file_keeps_every_notice_id_whole(run: dict[str, Any]) -> None:
    ids = [n["id"] for n in json.loads(invoke("share", "list", "--outbox", str(run["outbox"]), "--format", "json").output)]
    assert ids and max(map(len, ids)) > 20
    text = invoke("share", "list", "--outbox", str(run["outbox"])).output
    assert "…" not in text
    for nid in ids:
        assert re.search(rf"│ {re.escape(nid)} +│", text), nid  # whole, on its row, pasteable into share show


def test_the_batch_summary_in_a_pipe_does_not_wrap(run: dict[str, Any]) -> None:
    """The intermediary table of the summary used to wrap into 10-character columns when stderr was not a terminal."""
    summary = run["batch"].stderr
    parties = json.loads(invoke("report", str(run["results"]), "--format", "json").output)["summary"]["intermediary"]
    names = [p["name"] for p in parties.values() if p["name"]]
    assert names
    for name in names:
        assert any(name in line for line in summary.splitlines()), name
    rows = [line for line in summary.splitlines() if line.startswith("│")]
    assert all(line.endswith("│") for line in rows)  # one line per row: nothing folded onto a second line
    assert "…" not in summary.replace("… ほか", "")


def test_report_and_registry_tables_in_a_pipe_are_whole(run: dict[str, Any]) -> None:
    report = invoke("report", str(run["results"]), "--view", "rule").output
    rules = json.loads(invoke("report", str(run["results"]), "--format", "json").output)["summary"]["rule"]
    for rule in rules:
        assert re.search(rf"│ {re.escape(rule)} +│", report), rule
    listing = invoke("registry", "show", "accredited-agencies", "--country", "KH").output
    assert "Angkor Example Manpower Co. (fictional)" in listing and "…" not in listing


@pytest.mark.parametrize("width", [40, 60, 100])
def test_on_a_narrow_terminal_cells_wrap_and_ids_stay_whole(width: int) -> None:
    ident = "N-KG-test-fraud-36c590d1f0a2b3c4"
    text = "Mekong Example Recruiting (fictional), a long name that must wrap rather than be cut"
    stream = io.StringIO()
    Console(file=stream, width=width, force_terminal=True, color_system=None).print(text_table(("id", "name"), [[ident, text]], ids=[0]))
    out = stream.getvalue()
    assert "…" not in out
    assert any(ident in line for line in out.splitlines())
    cells = "".join(re.findall(r"│ ([^│]*?) *│\s*$", out, flags=re.M))
    assert re.sub(r"\s", "", text) in re.sub(r"\s", "", out) or re.sub(r"\s", "", text) in re.sub(r"\s", "", cells)


def test_users_list_in_a_pipe(tmp_path: Path) -> None:
    db = str(tmp_path / "service.sqlite")
    name = "a-rather-long-user-name-that-a-narrow-column-would-cut"
    CliRunner().invoke(main, ["users", "add", name, "--role", "admin", "--password-stdin", "--db", db], input="correct horse battery\n")
    assert name in invoke("users", "list", "--db", db).output
