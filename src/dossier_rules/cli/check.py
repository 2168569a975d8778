"""``check``: screen a few dossier files and print their reports."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import click
import orjson
from rich.console import Console
from rich.text import Text

from .. import batch
from ..engine import Engine
from ..locale import N_, _, language
from ..packs import SEVERITY_RANK
from ..report import DataWarning, ErrorDetail, ErrorRecord, Finding, Report
from ..sources import InputError, read_bytes, read_stream
from .common import (
    STYLE,
    as_of_option,
    console,
    engine_option,
    make_engine,
    max_age_option,
    packs_option,
    registries_option,
)
from .language import lang_option


def expand(paths: Iterable[str]) -> Iterator[str | Path]:
    """Files to screen, in a stable order: directories give their *.json files, sorted."""
    for raw in paths:
        path = Path(raw)
        if raw != "-" and path.is_dir():
            yield from sorted(path.rglob("*.json"))
        else:
            yield raw


def items_for(files: Iterable[str]) -> Iterator[batch.Item]:
    """The records named on the command line, read here (with a bound) so a bad file becomes an error record."""
    for source in expand(files):
        name = batch.file_name(source)
        try:
            raw = read_stream(sys.stdin.buffer, name) if source == "-" else read_bytes(Path(source))
            yield name, None, raw, None
        except InputError as exc:
            yield name, None, None, exc.problems[0]


def screen_files(engine: Engine, files: Iterable[str], as_of: date | None) -> tuple[list[Report | ErrorRecord], batch.Stats]:
    """Reports or error records, one per file, and their counts, through the same pipeline as ``batch``."""
    stamp = datetime.now(UTC).replace(microsecond=0)
    out: list[Report | ErrorRecord] = []
    stats = batch.Stats()
    for blob, chunk_stats in batch.results(engine, as_of, 1, batch.chunks(items_for(files))):
        stats.add(chunk_stats)
        for line in blob.splitlines():
            record = orjson.loads(line)
            if "errors" in record:
                out.append(ErrorRecord.model_validate(record))
            else:
                out.append(Report.model_validate({**record, "generated_at": stamp}))
    return out, stats


def summary(stats: batch.Stats) -> dict[str, Any]:
    """The summary ``check`` prints, from the pipeline's counts."""
    findings = {s: stats.severity[s] for s in ("block", "warn", "info")}
    return {"records": stats.records, "evaluated": stats.records - stats.errors, "errors": stats.errors, "findings": findings}


@click.command()
@click.argument("files", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json", "jsonl"]), default="text", show_default=True)
@lang_option
@click.option(
    "--fail-on", type=click.Choice(["block", "warn", "never"]), default="block", show_default=True, help="Lowest severity that makes the exit code 1."
)
@as_of_option
@engine_option
@packs_option
@registries_option
@max_age_option
def check(
    files: tuple[str, ...], fmt: str, fail_on: str, as_of: Any, backend: str, packs_dir: Path, registries_dir: Path | None, max_registry_age: int
) -> None:
    """Screen dossier FILES (JSON; directories are searched for *.json; - is stdin).

    Every file gets a report or an error record; a bad file never stops the others.
    """
    engine = make_engine(packs_dir, registries_dir, max_registry_age, backend)
    results, stats = screen_files(engine, files, as_of.date() if as_of else None)
    if fmt == "jsonl":
        for result in results:
            click.echo(result.model_dump_json())
    counts = summary(stats)
    if fmt == "json":
        payload = {"results": [r.model_dump(mode="json") for r in results], "summary": counts}
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
    elif fmt == "text":
        print_text(results, counts)
    raise SystemExit(stats.exit_code(fail_on))


SEVERITY_NAMES = {"block": N_("block"), "warn": N_("warn"), "info": N_("info")}
KIND_NAMES = {"candidate": N_("candidate"), "broker": N_("broker")}


def print_text(results: list[Report | ErrorRecord], summary: dict[str, Any], out: Console | None = None) -> None:
    """Reports and errors as text in the current language, never cut.

    On a terminal lines wrap at its width (long words and values fold); in a
    file or a pipe each line is written whole. Findings are blocks rather
    than table rows: a table squeezed the message into what the other columns
    left, and Japanese text (no spaces to break at) was cut at the column's end.
    """
    out = out or console()
    for result in results:
        if isinstance(result, ErrorRecord):
            for err in result.errors:
                _emit(out, _error_line(result.source, err))
            continue
        _emit(out, _report_header(result))
        for warning in result.data_warnings:
            _print_data_warning(out, warning)
        for finding in result.findings:
            _print_finding(out, finding)
    f = summary["findings"]
    line = _(
        "{records} dossiers: {evaluated} screened, {errors} unreadable; findings: {block} block, {warn} warn, {info} info",
        records=summary["records"],
        evaluated=summary["evaluated"],
        errors=summary["errors"],
        block=f["block"],
        warn=f["warn"],
        info=f["info"],
    )
    _emit(out, Text(line))


def _emit(out: Console, text: Text, indent: int = 0) -> None:
    """Print ``text`` indented; wrapped (folding long words) to a terminal's width, else whole."""
    if not out.is_terminal:
        out.print(Text(" " * indent) + text, soft_wrap=True)
        return
    for line in text.wrap(out, max(out.width - indent, 10), overflow="fold"):
        line.rstrip()
        out.print(Text(" " * indent) + line, soft_wrap=True)


def _error_line(source: str, err: ErrorDetail) -> Text:
    where = source + (f":{err.line}" if err.line else "")
    text = Text(f"✗ {where}: {err.message}", style="bold magenta")
    if err.pointer is not None:
        text.append(" " + _("(at {pointer})", pointer=err.pointer))
    return text


def _report_header(report: Report) -> Text:
    worst = max((f.severity for f in report.findings), key=SEVERITY_RANK.__getitem__, default=None)
    mark, style = ("✓", "green") if worst is None else ("●", STYLE[worst])
    pack = next(p for p in report.packs if p.id == report.pack)
    counts = ", ".join(_("{count} {severity}", count=n, severity=_(SEVERITY_NAMES[s])) for s, n in report.counts.items() if n) or _("no findings")
    header = Text()
    header.append(f"{mark} ", style=style)
    header.append(f"{report.dossier_id}", style="bold")
    header.append(
        "  "
        + _(
            "{kind} {country} · {source} · pack {pack} {version} · as of {as_of} · {counts}",
            kind=_(KIND_NAMES[report.kind]),
            country=report.country,
            source=report.source or "-",
            pack=pack.id,
            version=pack.version,
            as_of=report.as_of,
            counts=counts,
        )
    )
    return header


def _print_finding(out: Console, finding: Finding) -> None:
    """One finding: severity, article and rule on one line, then the message and its evidence, indented."""
    lang = language()
    head = Text()
    head.append(_(SEVERITY_NAMES[finding.severity]) + (" ⇄" if finding.share else ""), style=STYLE[finding.severity])
    head.append(f"  {finding.article}  ")
    head.append(finding.rule_id, style="dim")
    _emit(out, head, indent=2)
    _emit(out, Text(getattr(finding.message, lang)), indent=4)
    for pointer, value in finding.evidence.items():
        _emit(out, Text(f"{pointer} = {json.dumps(value, ensure_ascii=False)}", style="dim"), indent=6)
    if finding.limited is not None:
        _emit(out, Text(getattr(finding.limited, lang), style="italic"), indent=6)


def _print_data_warning(out: Console, warning: DataWarning) -> None:
    """A limit of the screening (pack status, registries), apart from the findings: no article, no severity."""
    text = Text("⚠ " + _("screening note") + f" [{warning.code}]: ", style="yellow")
    text.append(getattr(warning.message, language()))
    _emit(out, text, indent=2)
