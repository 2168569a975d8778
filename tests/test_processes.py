"""Processes and files: workers never outlive the run, signals stop it cleanly, hung workers are replaced,
the output is never the input, and operational failures end with one line and exit 2."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from dossier_rules import sharing, workers
from dossier_rules.cli import main

from .conftest import ROOT, SAMPLES
from .test_batch import body, make_input
from .test_robustness import results_in

ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src")}


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def batch_process(source: Path, out: Path, *extra: str) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "dossier_rules", "batch", str(source), "--out", str(out), "--packs", str(ROOT / "rules"), *extra]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=ENV)


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "State:\tZ" not in status


def wait_for(predicate: Any, seconds: float = 60) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return False


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_workers_exit_when_the_parent_goes(tmp_path: Path, how: signal.Signals) -> None:
    source = make_input(tmp_path / "in.jsonl", 20000)
    proc = batch_process(source, tmp_path / "out.jsonl", "--jobs", "3")  # the parent is one of the three jobs
    assert wait_for(lambda: len(children(proc.pid)) == 2), "the workers did not start"
    pool = children(proc.pid)
    os.kill(proc.pid, how)
    proc.wait()
    assert wait_for(lambda: not any(alive(pid) for pid in pool), 20), "a worker outlived its parent"


def test_sigterm_stops_with_whole_records_a_message_and_143_then_resume_completes(tmp_path: Path) -> None:
    source = make_input(tmp_path / "in.jsonl", 20000)
    reference = tmp_path / "ref.jsonl"
    invoke("batch", str(source), "--out", str(reference), "--jobs", "1")
    out = tmp_path / "out.jsonl"
    proc = batch_process(source, out, "--jobs", "2")
    assert wait_for(lambda: out.exists() and out.stat().st_size > 100_000)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 143, stderr
    written = out.read_bytes()
    assert written.endswith(b"\n") and 0 < len(written) < reference.stat().st_size
    kept = len(results_in(out))
    assert f"holds {kept:,} whole record(s)" in stderr and "--resume" in stderr and "Traceback" not in stderr
    assert "Aborted" not in stderr
    invoke("batch", str(source), "--out", str(out), "--jobs", "2", "--resume")
    assert body(out) == body(reference)


def _slow_on_marker(chunk: list[str]) -> list[str]:
    if "hang" in chunk:
        os.kill(os.getpid(), signal.SIGSTOP)  # a stopped worker: it never answers
    return [item.upper() for item in chunk]


def test_a_stopped_worker_is_replaced_after_the_deadline_and_its_chunk_retried_one_by_one() -> None:
    chunks = [["a", "b"], ["c", "hang", "d"], ["e"]]
    with workers.OrderedPool(2, _slow_on_marker, lambda parts: [x for p in parts for x in p], lambda task, how: [f"gave up {task}: {how}"], deadline=2) as pool:
        out = list(pool.map(chunks))
    assert out == [["A", "B"], ["C", "gave up hang: no result within 2 s", "D"], ["E"]]


def _pid_after_marker(chunk: list[str]) -> list[tuple[str, int]]:
    if "slow" in chunk:
        time.sleep(3)
    return [(item, os.getpid()) for item in chunk]


def test_a_slow_chunk_keeps_its_place_and_the_other_worker_goes_on_meanwhile() -> None:
    chunks = [["slow"], ["a"], ["b"], ["c"], ["d"]]
    with workers.OrderedPool(2, _pid_after_marker, lambda parts: [x for p in parts for x in p], lambda task, how: []) as pool:
        out = list(pool.map(chunks))
    assert [item for part in out for item, _ in part] == ["slow", "a", "b", "c", "d"]
    slow_worker, other = out[0][0][1], {pid for part in out[1:4] for _, pid in part}
    assert len(other) == 1 and slow_worker not in other  # one worker took a, b and c while the other held "slow"


def _tagged(chunk: list[str]) -> list[tuple[str, int]]:
    if "die" in chunk:
        os._exit(1)  # a crash in the worker (the native backend never crashes the parent, which screens too)
    return [(item, os.getpid()) for item in chunk]


def _tagged_in_steps(chunk: list[str]) -> Generator[None, None, list[tuple[str, int]]]:
    for _ in chunk:
        time.sleep(0.02)  # slower than the worker: it answers while the parent is inside its chunk
        yield
    return [(item, os.getpid()) for item in chunk]  # never exits: a "die" screened here fails the test, not pytest


def _pool_with_parent_share() -> workers.OrderedPool[str, list[tuple[str, int]]]:
    def gave_up(task: str, how: str) -> list[tuple[str, int]]:
        return [(f"gave up {task}: {how}", 0)]

    return workers.OrderedPool(1, _tagged, lambda parts: [x for p in parts for x in p], gave_up, steps=_tagged_in_steps)


def test_the_parent_screens_a_share_and_the_order_is_kept() -> None:
    chunks = [[f"{n}-{i}" for i in range(3)] for n in range(12)]
    with _pool_with_parent_share() as pool:
        out = list(pool.map(chunks))
    assert [[item for item, _ in part] for part in out] == chunks
    screeners = {pid for part in out for _, pid in part}
    assert os.getpid() in screeners and len(screeners) == 2  # the parent and its one worker both screened


def test_a_worker_crash_while_the_parent_screens_costs_only_the_record_that_crashed() -> None:
    parents_chunk = [f"p{i}" for i in range(10)]  # the worker takes "a", the parent this, the worker the next two meanwhile
    chunks = [["a"], parents_chunk, ["c", "die", "d"], ["e", "f"], ["g"], ["h"]]
    with _pool_with_parent_share() as pool:
        out = list(pool.map(chunks))
    items = [item for part in out for item, _ in part]
    assert items == ["a", *parents_chunk, "c", "gave up die: exit code 1", "d", "e", "f", "g", "h"]
    assert {pid for _, pid in out[1]} == {os.getpid()}


def test_out_equal_to_the_input_is_refused_and_the_input_kept(tmp_path: Path) -> None:
    source = make_input(tmp_path / "in.jsonl", 10)
    before = source.read_bytes()
    result = CliRunner().invoke(main, ["batch", str(source), "--out", str(source), "--jobs", "1"])
    assert result.exit_code == 2 and "--out is the input" in result.stderr
    assert source.read_bytes() == before


def test_the_runs_own_output_in_the_input_directory_is_never_read(tmp_path: Path) -> None:
    for path in sorted(SAMPLES.glob("*.json"))[:3]:
        (tmp_path / path.name).write_bytes(path.read_bytes())
    out = tmp_path / "out.json"
    invoke("batch", str(tmp_path), "--out", str(out), "--jobs", "1")
    first = results_in(out)
    invoke("batch", str(tmp_path), "--out", str(out), "--jobs", "1")
    again = results_in(out)
    assert len(first) == len(again) == 3 and str(out) not in {r["source"] for r in again}


def test_an_unwritable_output_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["batch", str(SAMPLES), "--out", "/dev/full", "--jobs", "1"])
    assert result.exit_code == 2 and (result.exception is None or isinstance(result.exception, SystemExit))
    assert result.stderr.startswith("error: cannot write /dev/full") and len(result.stderr.strip().splitlines()) == 1
    csv_file = tmp_path / "l.csv"
    csv_file.write_text("id,name\nA-1,One\n")
    args = ["registry", "import", str(csv_file), "--country", "KH", "--kind", "accredited-agencies", "--source", "s", "--registries", "/proc/self"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2 and result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) == 1


def test_a_read_only_outbox_is_one_line_and_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reports_file: Path) -> None:
    from sqlalchemy.exc import OperationalError

    def read_only(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("INSERT INTO items VALUES (?)", ("a value",), sqlite3.OperationalError("attempt to write a readonly database"))

    monkeypatch.setattr(sharing.Outbox, "_add", read_only)
    outbox = tmp_path / "o.sqlite"
    result = CliRunner().invoke(main, ["share", "build", str(reports_file), "--outbox", str(outbox)])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: {outbox}: the database cannot be used now (attempt to write a readonly database); try again later"


@pytest.fixture
def reports_file(tmp_path: Path) -> Path:
    out = tmp_path / "reports.jsonl"
    invoke("batch", str(SAMPLES), "--out", str(out), "--jobs", "1")
    return out


def test_a_signal_while_screening_in_process_stops_the_run_not_one_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dossier_rules import batch

    source = make_input(tmp_path / "in.jsonl", 1200)
    original = batch.screen_record
    calls = []

    def signalled(*args: Any, **options: Any) -> Any:
        calls.append(1)
        if len(calls) == 700:
            os.kill(os.getpid(), signal.SIGTERM)
        return original(*args, **options)

    monkeypatch.setattr(batch, "screen_record", signalled)
    result = CliRunner().invoke(main, ["batch", str(source), "--out", str(tmp_path / "o.jsonl"), "--jobs", "1"])
    assert result.exit_code == 143 and "holds 512 whole record(s)" in result.stderr
    assert not any(e["kind"] == "internal" for r in results_in(tmp_path / "o.jsonl") for e in r.get("errors", []))
