"""Every file output that may hold personal data is 0600 (its new folders 0700) under a permissive umask, and is whole or absent."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from dossier_rules.cli import main
from dossier_rules.private_files import private_output, write_private

from .conftest import SAMPLES


@pytest.fixture(autouse=True)
def permissive_umask() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def invoke(*args: str) -> None:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output + result.stderr


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_helper_replaces_a_file_whole_and_leaves_nothing_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "new" / "deeper" / "out.txt"
    write_private(target, "first")
    target.chmod(0o644)
    write_private(target, "second")
    assert target.read_text() == "second" and mode(target) == 0o600
    assert mode(tmp_path / "new") == mode(tmp_path / "new" / "deeper") == 0o700
    with pytest.raises(RuntimeError), private_output(target) as handle:
        handle.write(b"half")
        raise RuntimeError("disk full, say")
    assert target.read_text() == "second" and sorted(p.name for p in target.parent.iterdir()) == ["out.txt"]


def test_every_output_is_private(tmp_path: Path) -> None:
    out = tmp_path / "results" / "reports.jsonl"
    invoke("batch", str(SAMPLES), "--out", str(out), "--jobs", "1")
    invoke("check", str(SAMPLES), "--format", "json", "--fail-on", "never")
    outputs = [out, out.parent]
    for fmt, name in (("csv", "by-rule.csv"), ("jsonl", "selected.jsonl"), ("table", "summary.txt"), ("xlsx", "views.xlsx")):
        views = ["--view", "rule"] if fmt == "csv" else []
        invoke("report", str(out), "--format", fmt, *views, "--output", str(tmp_path / "exports" / name))
        outputs.append(tmp_path / "exports" / name)
    outbox = str(tmp_path / "o.sqlite")
    invoke("share", "build", str(out), "--outbox", outbox)
    listed = json.loads(CliRunner().invoke(main, ["share", "list", "--format", "json", "--outbox", outbox]).output)
    invoke("share", "approve", listed[0]["id"], listed[1]["id"], "--by", "Kato", "--outbox", outbox)
    invoke("share", "export", listed[0]["id"], "--format", "md", "--output", str(tmp_path / "notice.md"), "--outbox", outbox)
    invoke("share", "export", listed[1]["id"], "--format", "html", "--dir", str(tmp_path / "notices"), "--outbox", outbox)
    outputs += [tmp_path / "notice.md", tmp_path / "notices", *(tmp_path / "notices").iterdir()]
    invoke("sheet", "template", str(tmp_path / "sheets" / "filled.xlsx"), "--from", str(SAMPLES))
    invoke("sheet", "import", str(tmp_path / "sheets" / "filled.xlsx"), "--out", str(tmp_path / "sheets" / "imported.jsonl"))
    outputs += [tmp_path / "sheets", tmp_path / "sheets" / "filled.xlsx", tmp_path / "sheets" / "imported.jsonl"]
    rows = tmp_path / "agencies.csv"
    rows.write_text("id,name,listed_from\nA-1,One,2024-01-01\nA-2,Two,not a date\n")
    invoke(
        "registry",
        "import",
        str(rows),
        "--country",
        "KH",
        "--kind",
        "accredited-agencies",
        "--source",
        "s",
        "--registries",
        str(tmp_path / "reg"),
        "--skip-bad",
    )
    outputs.append(tmp_path / "reg" / "kh-accredited-agencies.json.rejected.csv")
    modes = {str(p.relative_to(tmp_path)): oct(mode(p)) for p in outputs}
    assert modes == {str(p.relative_to(tmp_path)): oct(0o700 if p.is_dir() else 0o600) for p in outputs}
    assert not list(tmp_path.rglob("*.tmp")), "no temporary file is left behind"


def test_the_log_export_is_private(tmp_path: Path) -> None:
    from .server_support import make_service

    service = make_service(tmp_path)
    response = service.client.post(
        "/api/v1/screenings",
        content=(SAMPLES / "kh-candidate-clean.json").read_bytes(),
        headers={**service.as_("screener"), "content-type": "application/json"},
    )
    assert response.status_code == 201
    archive = tmp_path / "archives" / "log.jsonl"
    invoke("log", "export", "--db", str(tmp_path / "service.sqlite"), "--output", str(archive))
    assert archive.read_text().count("\n") == 1 and mode(archive) == 0o600 and mode(archive.parent) == 0o700


def test_a_fifo_is_written_in_place_and_a_link_is_followed(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo, 0o644)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        write_private(fifo, "through the pipe")
        assert os.read(reader, 100) == b"through the pipe"
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(fifo.lstat().st_mode) and mode(fifo) == 0o644, "a FIFO (or device) is neither replaced nor chmodded"
    real, link = tmp_path / "real.txt", tmp_path / "link.txt"
    real.write_text("old")
    link.symlink_to(real)
    write_private(link, "new")
    assert link.is_symlink() and real.read_text() == "new" and mode(real) == 0o600
