"""``check``: screen a few dossier files and print their reports."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator

import click
import orjson
from rich.table import Table
from rich.text import Text

from .. import batch
from ..engine import Engine
from ..packs import SEVERITY_RANK
from ..report import ErrorRecord, Report
from ..sources import InputError, read_bytes
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


def expand(paths: Iterable[str]) -> Iterator[str]:
    """Files to screen, in a stable order: directories give their *.json files, sorted."""
    for raw in paths:
        path = Path(raw)
        if raw != "-" and path.is_dir():
            yield from (str(p) for p in sorted(path.rglob("*.json")))
        else:
            yield raw


def items_for(files: Iterable[str]) -> Iterator["batch.Item"]:
    """The records named on the command line, read here so a missing file becomes an error record."""
    for source in expand(files):
        try:
            raw = sys.stdin.buffer.read() if source == "-" else read_bytes(Path(source))
            yield source, None, raw, None
        except InputError as exc:
            yield source, None, None, exc.problems[0]


def screen_files(engine: Engine, files: Iterable[str], as_of: date | None) -> tuple[list[Report | ErrorRecord], batch.Stats]:
    """Reports or error records, one per file, and their counts, through the same pipeline as ``batch``."""
    stamp = datetime.now(timezone.utc).replace(microsecond=0)
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
@click.option("--lang", type=click.Choice(["ja", "en"]), default="en", show_default=True, help="Language of messages in text output.")
@click.option("--fail-on", type=click.Choice(["block", "warn", "never"]), default="block", show_default=True, help="Lowest severity that makes the exit code 1.")
@as_of_option
@engine_option
@packs_option
@registries_option
@max_age_option
def check(
    files: tuple[str, ...], fmt: str, lang: str, fail_on: str, as_of: Any, backend: str, packs_dir: Path, registries_dir: Path | None, max_registry_age: int
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
        print_text(results, counts, lang)
    raise SystemExit(stats.exit_code(fail_on))


def print_text(results: list[Report | ErrorRecord], summary: dict[str, Any], lang: str) -> None:
    out = console()
    for result in results:
        if isinstance(result, ErrorRecord):
            for err in result.errors:
                where = result.source + (f":{err.line}" if err.line else "")
                at = f" (at {err.pointer})" if err.pointer is not None else ""
                out.print(Text(f"✗ {where}: {err.message}{at}", style="bold magenta"))
            continue
        out.print(_report_header(result, lang), soft_wrap=True)
        for warning in result.data_warnings:
            label = "データ上の注意" if lang == "ja" else "screening note"
            out.print(Text(f"  ⚠ {label} [{warning.code}]: {getattr(warning.message, lang)}", style="yellow"), soft_wrap=True)
        if result.findings:
            out.print(_findings_table(result, lang))
    f = summary["findings"]
    out.print(
        f"{summary['records']} dossiers: {summary['evaluated']} screened, {summary['errors']} unreadable; "
        f"findings: {f['block']} block, {f['warn']} warn, {f['info']} info"
    )


def _report_header(report: Report, lang: str) -> Text:
    worst = max((f.severity for f in report.findings), key=SEVERITY_RANK.__getitem__, default=None)
    mark, style = ("✓", "green") if worst is None else ("●", STYLE[worst])
    pack = next(p for p in report.packs if p.id == report.pack)
    counts = ", ".join(f"{n} {s}" for s, n in report.counts.items() if n) or ("指摘なし" if lang == "ja" else "no findings")
    header = Text(f"{mark} ", style=style)
    header.append(f"{report.dossier_id}", style="bold")
    header.append(f"  {report.kind} {report.country} · {report.source} · pack {pack.id} {pack.version} · as of {report.as_of} · {counts}")
    return header


def _findings_table(report: Report, lang: str) -> Table:
    table = Table(show_header=True, header_style="bold", expand=False, padding=(0, 1))
    table.add_column("severity", no_wrap=True)
    table.add_column("article", no_wrap=True)
    table.add_column("finding")
    table.add_column("rule", no_wrap=True, style="dim")
    for finding in report.findings:
        body = Text(getattr(finding.message, lang))
        for pointer, value in finding.evidence.items():
            body.append(f"\n  {pointer} = {json.dumps(value, ensure_ascii=False)}", style="dim")
        if finding.limited is not None:
            body.append(f"\n  {getattr(finding.limited, lang)}", style="italic")
        severity = finding.severity + (" ⇄" if finding.share else "")
        table.add_row(Text(severity, style=STYLE[finding.severity]), finding.article, body, finding.rule_id)
    return table
