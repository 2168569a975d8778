"""Batch screening: many dossiers in, one JSON Lines record out per record in, in input order.

Examiners re-screen exports of hundreds of thousands of records whenever a
pack or registry changes, so this path is built for volume:

* records stream through in chunks; at most a few chunks per worker are in
  flight, so memory does not grow with the input;
* workers are processes (``--jobs``, see :mod:`dossier_rules.workers`); the
  parent reads, writes and counts, and with the native backend it is one of
  the jobs and screens chunks too; results are written in input order;
* every record in yields exactly one record out: a report, or an error
  record naming the source (file, line) and the reason;
* output is appended a whole chunk at a time and every record ends with a
  newline, so after a kill the only possible damage is a partial last line,
  which ``--resume`` cuts off before continuing after the last whole record.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import signal
import sys
import zlib
from collections import Counter, deque
from collections.abc import Generator, Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any, Protocol

import orjson

from . import input_errors
from .engine import Engine, EvaluationError
from .locale import _
from .packs import SEVERITY_RANK
from .private_files import open_private_append, write_private
from .problems import InputError, Problem
from .provenance import InputTally, ResumeError, Written, differences, read_written, run_header, verify_input
from .report import checks_made
from .results import Summary
from .sources import MAX_DOSSIER_BYTES, excerpt, load_dossier, open_input, read_bytes
from .workers import DEADLINE, OrderedPool

CHUNK = 512
"""Records per task: large enough to amortise inter-process overhead, small enough to keep memory flat."""

Item = tuple[str, int | None, bytes | None, Problem | None]
"""One input record: its file, its line (JSON Lines), its bytes, or the problem that stopped us reading it."""


class LineStream(Protocol):
    """What :func:`jsonl_items` reads: the lines of a binary stream (a file, standard input, a gzip member, a request body)."""

    def readline(self, size: int = -1, /) -> bytes: ...


def label(source: str, line: int | None) -> str:
    """How a record is named in the output: ``file`` or ``file:line``."""
    return f"{source}:{line}" if line is not None else source


def record_bytes(name: str) -> tuple[bytes, str, int | None]:
    """The record a report names (see :func:`label`): a JSON file, or one line of a JSON Lines file."""
    path, _, line = name.rpartition(":")
    if line.isdigit() and not Path(name).exists():
        with open_input(Path(path)) as handle, gzip.GzipFile(fileobj=handle) if path.endswith(".gz") else handle as stream:
            for _, number, raw, problem in jsonl_items(stream, path):
                if number == int(line):
                    if problem is not None:
                        raise InputError([problem])
                    assert raw is not None, "an item holds its record or its problem"
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


def file_name(path: Path | str) -> str:
    """A path as text that can always be written: bytes that are not UTF-8 shown as ``\\xNN`` escapes."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def read_input(spec: str, exclude: Path | None = None) -> Iterator[Item]:
    """Records from a directory of JSON files, a JSON Lines file (maybe gzip), or ``-`` (stdin).

    ``exclude`` is the run's own output: never read back as a record.
    """
    if spec == "-":
        yield from jsonl_items(sys.stdin.buffer, "<stdin>")
        return
    path = Path(spec)
    if path.is_dir():
        for file in sorted(path.rglob("*.json")):
            if exclude is not None and _same_file(file, exclude):
                continue
            try:
                yield file_name(file), None, read_bytes(file), None
            except InputError as exc:
                yield file_name(file), None, None, exc.problems[0]
        return
    if not path.exists():
        raise InputError([Problem(spec, "input not found", kind="not_found")])
    with open_input(path, streams=True) as handle, gzip.GzipFile(fileobj=handle) if path.suffix == ".gz" else handle as stream:
        yield from jsonl_items(stream, file_name(spec))


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)
    except OSError:
        return False


def jsonl_items(stream: LineStream, source: str) -> Iterator[Item]:
    """The records of a JSON Lines stream (blank lines skipped), numbered by line, each read with a bound.

    A line longer than :data:`MAX_DOSSIER_BYTES` is skipped up to its newline
    (never held whole) and becomes an error record. A damaged stream (a
    truncated or corrupt gzip member) ends with one error record that names
    the damage and how far the stream was read; every complete line before it
    was already yielded.
    """
    number = 0
    offset = 0
    while True:
        try:
            line = stream.readline(MAX_DOSSIER_BYTES + 1)
            size = len(line)
            if size > MAX_DOSSIER_BYTES and not line.endswith(b"\n"):
                size += _skip_line(stream)
        except (EOFError, OSError, zlib.error) as exc:
            message = (
                f"the input is damaged after {offset} bytes (line {number + 1}): {excerpt(str(exc) or type(exc).__name__)}; the records before it were screened"
            )
            yield source, number + 1, None, Problem(source, message, kind="corrupt", line=number + 1)
            return
        if not line:
            return
        number += 1
        offset += size
        if size > MAX_DOSSIER_BYTES:
            yield (
                source,
                number,
                None,
                Problem(source, f"record is {size} bytes; records above {MAX_DOSSIER_BYTES} bytes are refused", kind="too_large", line=number),
            )
        elif line.strip():
            yield source, number, line, None


def _skip_line(stream: LineStream) -> int:
    """Read past the rest of an over-long line, a megabyte at a time; how many bytes were skipped."""
    skipped = 0
    while piece := stream.readline(1 << 20):
        skipped += len(piece)
        if piece.endswith(b"\n"):
            break
    return skipped


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


STEP = 16
"""Records between two pauses of :func:`screen_steps`: often enough that a worker never waits long for the parent, rarely enough to cost nothing."""


def screen_chunk(chunk: list[Item]) -> tuple[bytes, Stats]:
    """Screen a chunk in one go (in a worker, or here for one job): one output line per record, and the chunk's counts."""
    steps = screen_steps(chunk)
    while True:
        try:
            next(steps)
        except StopIteration as end:
            done: tuple[bytes, Stats] = end.value  # the generator's return value; StopIteration types it Any
            return done


def screen_steps(chunk: list[Item]) -> Generator[None, None, tuple[bytes, Stats]]:
    """Screen a chunk, pausing every :data:`STEP` records: the parent, screening its share, answers its workers in the pauses."""
    engine = _ENGINE
    assert engine is not None, "worker has no engine"
    lines: list[bytes] = []
    stats = Stats()
    for number, (source, line, raw, problem) in enumerate(chunk, 1):
        if problem is not None:
            record = error_record(label(source, line), [problem])
        else:
            assert raw is not None, "an item holds its record or its problem"
            record = screen_record(engine, source, line, raw, _AS_OF, checks=not _LEAN)
            if _LEAN and "errors" not in record:
                for key in LEFT_TO_HEADER:
                    del record[key]
        stats.count(record)
        lines.append(orjson.dumps(record))
        if number % STEP == 0:
            yield
    lines.append(b"")
    return b"\n".join(lines), stats


def screen_record(engine: Engine, source: str, line: int | None, raw: bytes, as_of: date | None, checks: bool = True) -> dict[str, Any]:
    """One record's report or error record (the service calls this too, so both give the same records).

    ``checks``: add what was checked (:func:`dossier_rules.report.checks_made`), from the whole dossier, before any redaction.
    """
    name = label(source, line)
    try:
        dossier = load_dossier(raw, source, line)
        report = engine.evaluate_data(dossier, as_of, source=name, timestamp=False)
    except InputError as exc:
        # what the pack refuses (no pack for the country, undeclared country fields) is located at the record's line,
        # or in a file of its own at the line of its JSON pointer
        return error_record(name, located(exc.problems, raw, line))
    except EvaluationError as exc:
        return error_record(name, [internal_problem(source, line, exc.cause, exc.rule_id)])
    except Exception as exc:  # noqa: BLE001 - a defect must cost one record, not the run; it is named in the record
        return error_record(name, [internal_problem(source, line, exc, None)])
    report["source_sha256"] = record_digest(raw)
    if checks:
        report["checks"] = checks_made(engine.packset.packs[report["pack"]], report["kind"], dossier, report["findings"])
    return report


def located(problems: Iterable[Problem], raw: bytes, line: int | None) -> list[Problem]:
    """Problems without a line, given the record's line (a JSON Lines record) or their pointer's line in the file."""
    problems = list(problems)
    lines: dict[str, int] = {}
    if line is None and any(p.line is None and p.pointer for p in problems):
        lines = input_errors.pointer_lines(raw.decode("utf-8", "replace").removeprefix("\ufeff"))
    return [p if p.line is not None else replace(p, line=line if line is not None else lines.get(p.pointer or "")) for p in problems]


def record_digest(raw: bytes) -> str:
    """The content hash a report records of its dossier (see ``Report.source_sha256``)."""
    return hashlib.sha256(raw.strip()).hexdigest()


def internal_problem(source: str, line: int | None, exc: BaseException, rule_id: str | None) -> Problem:
    """An error of the program itself while screening one record: named, with the rule at fault when known."""
    where = f"evaluating rule {rule_id}" if rule_id else "screening this record"
    message = f"internal error while {where} ({type(exc).__name__}: {excerpt(str(exc))}); the record was not screened, please report it"
    return Problem(source, message, kind="internal", line=line, rule=rule_id)


def error_record(name: str, problems: Iterable[Problem]) -> dict[str, Any]:
    """The record that stands where a report could not be made (shape of ``ErrorRecord``)."""
    return {
        "source": name,
        "outcome": "unreadable",
        "errors": [{"kind": p.kind, "message": p.message, "pointer": p.pointer, "line": p.line, "rule": p.rule} for p in problems],
    }


def results(
    engine: Engine, as_of: date | None, jobs: int, work: Iterable[list[Item]], lean: bool = False, deadline: float = DEADLINE
) -> Generator[tuple[bytes, Stats]]:
    """Screen chunks in order: in this process for one job; else here and in ``jobs - 1`` worker processes.

    A backend that does not screen in the parent (:attr:`dossier_rules.backends.Backend.parent_screens`:
    rete, interpreted) runs in ``jobs`` workers, never here.

    ``lean`` reports leave :data:`LEFT_TO_HEADER` to the run header of a batch output.
    """
    _install(engine, as_of, lean)
    if not engine.rule_backend.parent_screens:  # rete runs only in workers: a crash in durable-rules must not take this process down
        with OrderedPool(max(jobs, 1), screen_chunk, merge_results, crashed_record, deadline) as pool:
            yield from pool.map(work)
    elif jobs <= 1:
        yield from map(screen_chunk, work)
    else:  # the parent is one of the jobs: it screens chunks while its workers hold theirs
        with OrderedPool(jobs - 1, screen_chunk, merge_results, crashed_record, deadline, steps=screen_steps) as pool:
            yield from pool.map(work)


def merge_results(parts: list[tuple[bytes, Stats]]) -> tuple[bytes, Stats]:
    """One chunk's result from the results of its records, screened one by one after a crash."""
    stats = Stats()
    for _blob, part in parts:
        stats.add(part)
    return b"".join(blob for blob, _stats in parts), stats


def crashed_record(item: Item, how: str) -> tuple[bytes, Stats]:
    """The error record for a record that killed (or hung) a worker twice."""
    source, line, _, _ = item
    problem = Problem(source, f"the worker screening this record failed twice ({how}); it was not evaluated", kind="worker_crashed", line=line)
    record = error_record(label(source, line), [problem])
    stats = Stats()
    stats.count(record)
    return orjson.dumps(record) + b"\n", stats


# --------------------------------------------------------------------------- output and resume


class Interrupted(BaseException):
    """SIGTERM or SIGINT stopped the run; the output holds ``written`` whole records.

    A ``BaseException``, like ``KeyboardInterrupt``: screening one record turns
    every ``Exception`` into that record's error record, and a stop request
    must not become one.
    """

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.written = 0

    @property
    def exit_code(self) -> int:
        """128 + the signal number, as shells report a process ended by a signal (130 for Ctrl-C, 143 for SIGTERM)."""
        return 128 + self.signum


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """Turn SIGTERM and SIGINT into :class:`Interrupted` (main thread only; elsewhere the defaults stay)."""

    def stop(signum: int, _frame: Any) -> None:
        raise Interrupted(signum)

    try:
        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    except ValueError:  # not the main thread: signals are not ours to handle
        yield
        return
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextmanager
def signals_held() -> Iterator[None]:
    """Hold SIGTERM and SIGINT while a chunk is written and counted: they act between chunks, never inside one."""
    held = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, held)


def check_output_path(spec: str, out: Path) -> None:
    """Refuse an output that is the input: opening it for writing would empty the input."""
    if spec != "-" and out.exists() and Path(spec).exists() and out.samefile(spec):
        raise InputError([Problem(str(out), "--out is the input file; writing the output there would destroy the input. Choose another --out", kind="usage")])


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
    write_private(out, orjson.dumps(header) + b"\n")
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
    deadline: float = DEADLINE,
) -> Outcome:
    """Screen every record of ``spec`` into ``out``; returns the counts for the summary.

    The output is a run header, then the reports in input order with a
    checkpoint after each chunk (see :mod:`dossier_rules.provenance`).
    Raises :class:`Interrupted` after SIGTERM or SIGINT, the output ending
    at a whole chunk and its checkpoint (``--resume`` continues from there).
    """
    check_output_path(spec, out)
    with stop_on_signals():
        written = prepare_output(out, resume, run_header(engine, as_of, spec))
        items = read_input(spec, exclude=out)
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

        with open_private_append(out) as handle:
            try:
                with closing(results(engine, as_of, jobs, marked(chunks(items)), lean=True, deadline=deadline)) as screened:
                    for blob, chunk_stats in screened:
                        with signals_held():
                            handle.writelines((blob, orjson.dumps(marks.popleft()), b"\n"))  # no copy of the chunk's blob
                            handle.flush()
                            stats.add(chunk_stats)
                        if progress is not None:
                            progress(stats)
            except Interrupted as exc:
                exc.written = stats.records
                raise
            finally:
                os.fsync(handle.fileno())
    return Outcome(tally.records, stats.records, stats, done)
