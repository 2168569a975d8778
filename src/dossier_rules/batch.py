"""Batch screening: many dossiers in, one JSON Lines record out per record in, in input order.

Examiners re-screen exports of hundreds of thousands of records whenever a
pack or registry changes, so this path is built for volume:

* records stream through in chunks; at most a few chunks per worker are in
  flight, so memory does not grow with the input;
* workers are processes (``--jobs``, see :mod:`dossier_rules.workers`); the
  parent only reads, writes and counts, and results are written in input order;
* every record in yields exactly one record out: a report, or an error
  record naming the source (file, line) and the reason;
* output is appended a whole chunk at a time and every record ends with a
  newline, so after a kill the only possible damage is a partial last line,
  which ``--resume`` cuts off before continuing after the last whole record.
"""

from __future__ import annotations

import gzip
import os
import sys
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from .engine import Engine
from .locale import _
from .packs import SEVERITY_RANK
from .provenance import InputTally, ResumeError, Written, differences, read_written, run_header, verify_input
from .results import Summary
from .sources import MAX_DOSSIER_BYTES, InputError, Problem, load_dossier, read_bytes
from .workers import OrderedPool, signal_name

CHUNK = 512
"""Records per task: large enough to amortise inter-process overhead, small enough to keep memory flat."""

Item = tuple[str, int | None, bytes | None, Problem | None]
"""One input record: its file, its line (JSON Lines), its bytes, or the problem that stopped us reading it."""


def label(source: str, line: int | None) -> str:
    """How a record is named in the output: ``file`` or ``file:line``."""
    return f"{source}:{line}" if line is not None else source


def record_bytes(name: str) -> tuple[bytes, str, int | None]:
    """The record a report names (see :func:`label`): a JSON file, or one line of a JSON Lines file."""
    path, _, line = name.rpartition(":")
    if line.isdigit() and not Path(name).exists():
        with (gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")) as stream:
            for number, raw in enumerate(stream, 1):
                if number == int(line):
                    return raw, path, number
        raise InputError([Problem(path, f"no line {line}", kind="not_found")])
    return read_bytes(Path(name)), name, None


@dataclass
class Stats:
    """What the summary reports, counted by :class:`dossier_rules.results.Summary`; merged from every chunk."""

    summary: Summary = field(default_factory=Summary)

    def add(self, other: Stats) -> None:
        self.summary.merge(other.summary)

    def count(self, record: dict[str, Any]) -> None:
        self.summary.add(record)

    @property
    def records(self) -> int:
        return self.summary.records

    @property
    def errors(self) -> int:
        return self.summary.unreadable

    @property
    def severity(self) -> Counter[str]:
        return self.summary.severity

    @property
    def findings(self) -> int:
        return self.summary.findings

    def exit_code(self, fail_on: str) -> int:
        """2 when any record was unreadable, 1 when findings reach ``fail_on``, else 0 (``check`` and ``batch``)."""
        if self.errors:
            return 2
        if fail_on != "never" and any(n for s, n in self.severity.items() if SEVERITY_RANK[s] >= SEVERITY_RANK[fail_on]):
            return 1
        return 0


# --------------------------------------------------------------------------- input


def read_input(spec: str) -> Iterator[Item]:
    """Records from a directory of JSON files, a JSON Lines file (maybe gzip), or ``-`` (stdin)."""
    if spec == "-":
        yield from jsonl_items(sys.stdin.buffer, "<stdin>")
        return
    path = Path(spec)
    if path.is_dir():
        for file in sorted(path.rglob("*.json")):
            try:
                yield str(file), None, read_bytes(file), None
            except InputError as exc:
                yield str(file), None, None, exc.problems[0]
        return
    if not path.exists():
        raise InputError([Problem(spec, "input not found", kind="not_found")])
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as stream:
        yield from jsonl_items(stream, spec)


def jsonl_items(stream: BinaryIO, source: str) -> Iterator[Item]:
    """The records of a JSON Lines stream (blank lines skipped, oversized lines refused), numbered by line."""
    for number, line in enumerate(stream, 1):
        if not line.strip():
            continue
        if len(line) > MAX_DOSSIER_BYTES:
            yield source, number, None, Problem(source, f"record is {len(line)} bytes; records above {MAX_DOSSIER_BYTES} bytes are refused", kind="too_large", line=number)
        else:
            yield source, number, line, None


def chunks(items: Iterable[Item], size: int = CHUNK) -> Iterator[list[Item]]:
    chunk: list[Item] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# --------------------------------------------------------------------------- screening (runs in workers)

_ENGINE: Engine | None = None
_AS_OF: date | None = None
_LEAN = False

LEFT_TO_HEADER = ("packs", "registries")
"""Report fields a batch output leaves to its run header (the same for every report of a pack)."""


def _install(engine: Engine, as_of: date | None, lean: bool) -> None:
    global _ENGINE, _AS_OF, _LEAN
    _ENGINE, _AS_OF, _LEAN = engine, as_of, lean


def screen_chunk(chunk: list[Item]) -> tuple[bytes, Stats]:
    """Screen a chunk: one output line per record, and the chunk's counts."""
    engine = _ENGINE
    assert engine is not None, "worker has no engine"
    lines: list[bytes] = []
    stats = Stats()
    for source, line, raw, problem in chunk:
        if problem is not None:
            record = error_record(label(source, line), [problem])
        else:
            record = screen_one(engine, source, line, raw, _AS_OF)  # type: ignore[arg-type]
            if _LEAN and "errors" not in record:
                for key in LEFT_TO_HEADER:
                    del record[key]
        stats.count(record)
        lines.append(orjson.dumps(record))
    lines.append(b"")
    return b"\n".join(lines), stats


def screen_one(engine: Engine, source: str, line: int | None, raw: bytes, as_of: date | None) -> dict[str, Any]:
    """One record's report or error record (the service calls this too, so both give the same records)."""
    name = label(source, line)
    try:
        dossier = load_dossier(raw, source, line)
        return engine.evaluate_data(dossier, as_of, source=name, timestamp=False)
    except InputError as exc:
        # what the pack refuses (no pack for the country, undeclared country fields) is located at the record's line
        return error_record(name, [p if p.line is not None else replace(p, line=line) for p in exc.problems])


def error_record(name: str, problems: Iterable[Problem]) -> dict[str, Any]:
    """The record that stands where a report could not be made (shape of ``ErrorRecord``)."""
    return {"source": name, "outcome": "unreadable", "errors": [{"kind": p.kind, "message": p.message, "pointer": p.pointer, "line": p.line, "rule": p.rule} for p in problems]}


def results(engine: Engine, as_of: date | None, jobs: int, work: Iterable[list[Item]], lean: bool = False) -> Iterator[tuple[bytes, Stats]]:
    """Screen chunks in order: in this process for one job, else in ``jobs`` worker processes.

    ``lean`` reports leave :data:`LEFT_TO_HEADER` to the run header of a batch output.
    """
    _install(engine, as_of, lean)
    if jobs <= 1 and engine.backend == "native":
        yield from map(screen_chunk, work)
        return
    # the rete backend always runs in workers: a crash in durable-rules must not take this process down
    with OrderedPool(max(jobs, 1), screen_chunk, merge_results, crashed_record) as pool:
        yield from pool.map(work)


def merge_results(parts: list[tuple[bytes, Stats]]) -> tuple[bytes, Stats]:
    """One chunk's result from the results of its records, screened one by one after a crash."""
    stats = Stats()
    for _blob, part in parts:
        stats.add(part)
    return b"".join(blob for blob, _stats in parts), stats


def crashed_record(item: Item, code: int | None) -> tuple[bytes, Stats]:
    """The error record for a record that killed a worker twice."""
    source, line, _, _ = item
    problem = Problem(source, f"the worker screening this record died twice ({signal_name(code)}); it was not evaluated", kind="worker_crashed", line=line)
    record = error_record(label(source, line), [problem])
    stats = Stats()
    stats.count(record)
    return orjson.dumps(record) + b"\n", stats


# --------------------------------------------------------------------------- output and resume


def prepare_output(out: Path, resume: bool, header: dict[str, Any]) -> Written | None:
    """Start a new output with ``header``; or, for ``--resume``, check the existing one and cut it at its last checkpoint."""
    if resume and out.exists() and out.stat().st_size:
        written = read_written(out)
        problems = differences(written.header, header)
        if problems:
            raise ResumeError(_("it was written by another run: {differences}", differences="; ".join(problems)))
        with out.open("r+b") as handle:
            handle.truncate(written.end)
        return written
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(orjson.dumps(header) + b"\n")
    return None


@dataclass
class Outcome:
    records_in: int
    records_out: int
    stats: Stats
    resumed_from: int


def run(
    engine: Engine,
    spec: str,
    out: Path,
    jobs: int,
    as_of: date | None = None,
    resume: bool = False,
    progress: Any = None,
) -> Outcome:
    """Screen every record of ``spec`` into ``out``; returns the counts for the summary.

    The output is a run header, then the reports in input order with a
    checkpoint after each chunk (see :mod:`dossier_rules.provenance`).
    """
    written = prepare_output(out, resume, run_header(engine, as_of, spec))
    items = read_input(spec)
    tally = InputTally()
    stats = Stats()
    if written is not None and written.checkpoint is not None:
        verify_input(items, tally, written.checkpoint)
        stats = Stats(written.summary)
    done = tally.records
    marks: deque[dict[str, Any]] = deque()

    def marked(work: Iterator[list[Item]]) -> Iterator[list[Item]]:
        for chunk in work:
            for item in chunk:
                tally.add(*item)
            marks.append(tally.checkpoint())
            yield chunk

    with out.open("ab") as handle:
        for blob, chunk_stats in results(engine, as_of, jobs, marked(chunks(items)), lean=True):
            handle.write(blob + orjson.dumps(marks.popleft()) + b"\n")
            handle.flush()
            stats.add(chunk_stats)
            if progress is not None:
                progress(stats)
        os.fsync(handle.fileno())
    return Outcome(tally.records, stats.records, stats, done)
