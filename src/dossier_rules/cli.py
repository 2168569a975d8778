"""The ``dossier-rules`` command line.

Exit codes, for every command that evaluates or checks:
0 nothing at or above the threshold; 1 findings (or lint/test failures);
2 usage errors or inputs that could not be read (bad dossier, bad pack).
"""

from __future__ import annotations

import csv
import difflib
import importlib.util
import json
import os
import sys
import time
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator

import click
import orjson
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from . import batch, coverage, rete, sharing, workers
from . import schemas as schema_files
from .conditions import outline
from .engine import DEFAULT_MAX_REGISTRY_AGE, Engine
from .registries import (
    CSV_COLUMNS,
    KIND_COUNTRIES,
    REGISTRY_KINDS,
    Registries,
    Registry,
    load_registries,
    parse_csv,
    registry_file,
    write_registry,
)
from .packs import SEVERITY_RANK, PackSet, load_packs
from .report import ErrorRecord, Report
from .sources import InputError, Problem, read_bytes
from .testing import lint, run_tests

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT = 0, 1, 2
_STYLE = {"block": "bold red", "warn": "yellow", "info": "cyan"}


def default_packs_dir() -> Path:
    """``$DOSSIER_RULES_PACKS``, else the ``rules/`` directory of this checkout."""
    env = os.environ.get("DOSSIER_RULES_PACKS")
    if env:
        return Path(env)
    path = Path(__file__).resolve().parents[2] / "rules"
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


def _console(err: bool = False) -> Console:
    stream = sys.stderr if err else sys.stdout
    return Console(file=stream, width=None if stream.isatty() else 120, soft_wrap=False, highlight=False)


def _print_problems(problems: Iterable[Problem]) -> None:
    for problem in problems:
        click.echo(f"error: {problem}", err=True)


def _load(packs_dir: Path) -> PackSet:
    try:
        return load_packs(packs_dir)
    except InputError as exc:
        _print_problems(exc.problems)
        raise SystemExit(EXIT_INPUT) from None


def _registries(packs_dir: Path, registries_dir: Path | None) -> Registries:
    try:
        return load_registries(registries_dir or packs_dir / "registries")
    except InputError as exc:
        _print_problems(exc.problems)
        raise SystemExit(EXIT_INPUT) from None


def _engine(packs_dir: Path, registries_dir: Path | None, max_age: int, backend: str = "native") -> Engine:
    """The engine every evaluating command uses: packs, registries, the staleness limit, the backend."""
    packset = _load(packs_dir)
    _refuse_untranslatable(packset, backend)
    return Engine(packset, _registries(packs_dir, registries_dir), max_registry_age=max_age, backend=backend)  # type: ignore[arg-type]


def _refuse_untranslatable(packset: PackSet, backend: str) -> None:
    """For the rete backend, a rule it cannot express stops the run before anything is evaluated."""
    if backend != "rete":
        return
    if importlib.util.find_spec("durable") is None:
        click.echo("error: the rete backend needs durable-rules: pip install 'dossier-rules[rete]'", err=True)
        raise SystemExit(EXIT_INPUT)
    problems = rete.check_packs(packset)
    if not problems:
        try:
            workers.run_isolated(rete.verify, packset)
        except workers.WorkerError as exc:
            problems = [exc.args[0].strip().splitlines()[-1]]
        except workers.WorkerCrashed as exc:
            problems = [f"durable-rules crashed while building the rulesets ({exc})"]
    for problem in problems:
        click.echo(f"error: {problem}", err=True)
    if problems:
        raise SystemExit(EXIT_INPUT)


packs_option = click.option(
    "--packs",
    "packs_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=default_packs_dir,
    show_default="rules/ of this checkout, or $DOSSIER_RULES_PACKS",
    help="Directory of rule packs.",
)
registries_option = click.option(
    "--registries",
    "registries_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Directory of registries  [default: registries/ inside the pack directory]",
)
max_age_option = click.option(
    "--max-registry-age",
    type=click.IntRange(min=0),
    default=DEFAULT_MAX_REGISTRY_AGE,
    show_default=True,
    help="Days after retrieval (counted to the as-of date) from which a registry is reported as stale.",
)
engine_option = click.option(
    "--engine",
    "backend",
    type=click.Choice(["native", "rete"]),
    default="native",
    show_default=True,
    help="Rule backend: the native compiled conditions, or durable-rules' Rete engine (runs in worker processes).",
)
as_of_option = click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Evaluate as of this date (YYYY-MM-DD); default: each dossier's submitted date.",
)


@click.group()
@click.version_option(package_name="dossier-rules")
def main() -> None:
    """Screen SSW candidate and broker dossiers against the MOC rule packs."""


# --------------------------------------------------------------------------- check


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


@main.command()
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
    engine = _engine(packs_dir, registries_dir, max_registry_age, backend)
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
    out = _console()
    for result in results:
        if isinstance(result, ErrorRecord):
            for err in result.errors:
                where = result.source + (f":{err.line}" if err.line else "")
                at = f" (at {err.pointer})" if err.pointer is not None else ""
                out.print(Text(f"✗ {where}: {err.message}{at}", style="bold magenta"))
            continue
        out.print(_report_header(result, lang), soft_wrap=True)
        if result.findings:
            out.print(_findings_table(result, lang))
    f = summary["findings"]
    out.print(
        f"{summary['records']} dossiers: {summary['evaluated']} screened, {summary['errors']} unreadable; "
        f"findings: {f['block']} block, {f['warn']} warn, {f['info']} info"
    )


def _report_header(report: Report, lang: str) -> Text:
    worst = max((f.severity for f in report.findings), key=SEVERITY_RANK.__getitem__, default=None)
    mark, style = ("✓", "green") if worst is None else ("●", _STYLE[worst])
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
        severity = finding.severity + (" ⇄" if finding.share else "")
        table.add_row(Text(severity, style=_STYLE[finding.severity]), finding.article, body, finding.rule_id)
    return table


# --------------------------------------------------------------------------- packs


@main.group()
def packs() -> None:
    """List, inspect, lint and test rule packs."""


@packs.command("list")
@packs_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def packs_list(packs_dir: Path, fmt: str) -> None:
    """List the packs in the pack directory."""
    packset = _load(packs_dir)
    rows = []
    for source in packset.sources.values():
        meta = source.spec.pack
        pack = packset.packs.get(source.id)
        rows.append(
            {
                "id": meta.id,
                "version": meta.version,
                "country": meta.country,
                "abstract": meta.abstract,
                "extends": meta.extends,
                "rules": len(pack.rules) if pack else len(source.rules),
                "file": str(source.path),
                "sha256": source.sha256,
                "title": meta.title.en,
            }
        )
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table("id", "version", "country", "rules", "extends", "title")
    for row in rows:
        table.add_row(row["id"], row["version"], row["country"] or "(abstract)", str(row["rules"]), ", ".join(row["extends"]), row["title"])
    _console().print(table)


@packs.command("show")
@click.argument("pack_id")
@packs_option
def packs_show(pack_id: str, packs_dir: Path) -> None:
    """Show a pack's metadata and the rules it applies (with articles resolved)."""
    packset = _load(packs_dir)
    source = packset.sources.get(pack_id)
    if source is None:
        raise click.UsageError(f"unknown pack '{pack_id}'; known: {', '.join(sorted(packset.sources))}")
    out = _console()
    meta = source.spec.pack
    out.print(Text(f"{meta.id} {meta.version} — {meta.title.en} / {meta.title.ja}", style="bold"))
    out.print(f"file: {source.path}  sha256: {source.sha256}")
    if meta.extends:
        out.print("extends: " + ", ".join(meta.extends))
    if meta.moc:
        moc = meta.moc
        out.print(f"partner ministry: {moc.partner_ministry.en} ({moc.partner_ministry.ja})")
        out.print(f"contact points (art. {moc.contact_points.article}): Japan — {moc.contact_points.japan.en}; partner — {moc.contact_points.partner.en}")
        out.print(f"confidentiality (art. {moc.confidentiality.article}, {moc.confidentiality.scope}): {moc.confidentiality.text.en}")
        signed = "; ".join(f"{s.on} {s.place}" for s in moc.signed)
        period = moc.in_force
        out.print(f"signed: {signed}; in force from {period.starts_on or 'unknown'} to {period.ends_on or 'open'} (art. {period.article})")
    pack = packset.packs.get(pack_id)
    table = Table("rule", "article", "applies to", "severity", "share", "title")
    rules = pack.rules if pack else [None] * 0
    for resolved in rules:
        spec = resolved.rule.spec
        table.add_row(spec.id, resolved.article, spec.applies_to, spec.severity, spec.share.act if spec.share else "", spec.title.en)
    if pack is None:
        for rule in source.rules:
            table.add_row(rule.id, rule.spec.article, rule.spec.applies_to, rule.spec.severity, rule.spec.share.act if rule.spec.share else "", rule.spec.title.en)
    out.print(table)


@packs.command("lint")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def packs_lint(paths: tuple[Path, ...]) -> None:
    """Check pack files: YAML, schema, conditions, articles, test dossiers.

    Exit 0 when clean, 1 when problems are found.
    """
    problems = lint(list(paths))
    _print_problems(problems)
    if problems:
        click.echo(f"{len(problems)} problem(s)", err=True)
        raise SystemExit(EXIT_FINDINGS)
    click.echo("packs are clean")


# --------------------------------------------------------------------------- schemas


@main.group()
def schemas() -> None:
    """Generated JSON Schemas."""


@schemas.command("write")
@click.option("--dir", "directory", type=click.Path(path_type=Path, file_okay=False), default=Path("schemas"), show_default=True)
@click.option("--check", is_flag=True, help="Do not write; exit 1 if the files are stale.")
def schemas_write(directory: Path, check: bool) -> None:
    """Regenerate the schemas from the models (or check that they are current)."""
    if check:
        stale = schema_files.stale(directory)
        if stale:
            click.echo("stale: " + ", ".join(stale), err=True)
            raise SystemExit(EXIT_FINDINGS)
        click.echo("schemas are current")
        return
    for path in schema_files.write(directory):
        click.echo(f"wrote {path}")


@packs.command("test")
@click.argument("pack_ids", nargs=-1)
@packs_option
@engine_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def packs_test(pack_ids: tuple[str, ...], packs_dir: Path, backend: str, fmt: str) -> None:
    """Run the test cases kept next to each rule, and report rule coverage.

    With PACK ids, run the tests of those packs (an abstract pack's rules
    are tested under every pack that extends it). Exit 1 on any failing case
    or any rule not exercised both ways (fires / must not fire).
    """
    packset = _load(packs_dir)
    _refuse_untranslatable(packset, backend)
    try:
        if backend == "rete":
            run = workers.run_isolated(lambda ps: run_tests(ps, pack_ids, backend="rete"), packset)
        else:
            run = run_tests(packset, pack_ids)
    except InputError as exc:
        _print_problems(exc.problems)
        raise SystemExit(EXIT_INPUT) from None
    except workers.WorkerCrashed as exc:
        click.echo(f"error: the rete backend crashed while running the tests: {exc}", err=True)
        raise SystemExit(EXIT_INPUT) from None
    passed = len(run.results) - len(run.failures)
    covered = len(run.coverage) - len(run.uncovered)
    if fmt == "json":
        payload = {
            "cases": len(run.results),
            "passed": passed,
            "failed": [str(f) for f in run.failures],
            "rules": len(run.coverage),
            "covered": covered,
            "uncovered": [{"pack": p, "rule": r, "missing": m} for p, r, m in run.uncovered],
        }
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        for failure in run.failures:
            click.echo(f"FAIL {failure}")
        for pack_id, rule_id, missing in run.uncovered:
            click.echo(f"UNCOVERED [{rule_id}] under pack {pack_id}: no passing case that {' or '.join(missing)}s")
        click.echo(f"{len(run.results)} cases: {passed} passed, {len(run.failures)} failed")
        click.echo(f"coverage: {covered}/{len(run.coverage)} rule-pack pairs exercised both ways (fires and must not fire)")
    raise SystemExit(EXIT_OK if run.ok else EXIT_FINDINGS)


@main.command()
@click.argument("rule_id")
@packs_option
def explain(rule_id: str, packs_dir: Path) -> None:
    """Show a rule: its articles per country, its condition in readable form, its tests."""
    packset = _load(packs_dir)
    rule = packset.rule(rule_id)
    if rule is None:
        ids = sorted(r.id for s in packset.sources.values() for r in s.rules)
        close = difflib.get_close_matches(rule_id, ids, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise click.UsageError(f"unknown rule '{rule_id}'{hint}")
    spec = rule.spec
    out = _console()
    out.print(Text(f"{spec.id} — {spec.title.en} / {spec.title.ja}", style="bold"))
    out.print(f"defined in: {rule.source}:{rule.line} (pack {rule.pack_id})")
    cited = [(p.id, r.article, r.also) for p in packset.packs.values() for r in p.rules if r.rule is rule]
    for pack_id, article, also in cited:
        extra = f" (also {', '.join(also)})" if also else ""
        out.print(f"cites under pack {pack_id}: {article}{extra}")
    share = f"yes, act {spec.share.act}" if spec.share else "no"
    out.print(f"applies to: {spec.applies_to}   severity: {spec.severity}   share with partner: {share}")
    if spec.for_each:
        out.print(f"for each {spec.for_each.as_} in {spec.for_each.in_} (one finding per matching item):")
    out.print("condition:")
    for line in outline(rule.condition, 1):
        out.print(line, markup=False)
    out.print("evidence: " + ", ".join(spec.evidence))
    out.print(f"message (en): {spec.message.en}", markup=False)
    out.print(f"message (ja): {spec.message.ja}", markup=False)
    out.print("tests:")
    for case, line in zip(spec.tests, rule.test_lines):
        count = f" ×{case.count}" if case.count else ""
        as_of = f" as of {case.as_of}" if case.as_of else ""
        out.print(f"  {case.expect:<4}{count} {case.name}{as_of}  ({rule.source}:{line})", markup=False)


@packs.command("coverage")
@packs_option
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False), default=Path("docs/coverage.md"), show_default=True)
@click.option("--check", is_flag=True, help="Do not write; exit 1 if the file is stale or a checkable provision is not encoded.")
def packs_coverage(packs_dir: Path, output: Path, check: bool) -> None:
    """Write the provision matrix: each MOC article and the rules that encode it."""
    packset = _load(packs_dir)
    text = coverage.markdown(packset)
    missing = coverage.unencoded(packset)
    for pack_id, article in missing:
        click.echo(f"not encoded: {article} (pack {pack_id}) has no rule and no not_checkable reason", err=True)
    if check:
        current = output.read_text(encoding="utf-8") if output.exists() else None
        if current != text:
            click.echo(f"{output} is stale; run: dossier-rules packs coverage", err=True)
            raise SystemExit(EXIT_FINDINGS)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}")
    raise SystemExit(EXIT_FINDINGS if missing else EXIT_OK)



# --------------------------------------------------------------------------- registries


@main.group()
def registry() -> None:
    """Import and inspect the lists rules consult (accredited agencies, improvement orders, ...)."""


@registry.command("import")
@click.argument("csv_file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--country", required=True, type=click.Choice(sorted({c for cs in KIND_COUNTRIES.values() for c in cs})), help="Who keeps the list (JP for Japan's lists).")
@click.option("--kind", required=True, type=click.Choice(sorted(REGISTRY_KINDS)))
@click.option("--source", required=True, help="Where the list came from (publication, URL, letter).")
@click.option("--retrieved-on", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="Date the list was retrieved  [default: today]")
@click.option("--skip-bad", is_flag=True, help="Write the good rows and a report of the bad ones instead of writing nothing.")
@packs_option
@registries_option
def registry_import(
    csv_file: Path, country: str, kind: str, source: str, retrieved_on: Any, skip_bad: bool, packs_dir: Path, registries_dir: Path | None
) -> None:
    """Import a registry from CSV (columns: id, name, listed_from, ended_on, ended_because, note).

    Every row is validated. With any bad row nothing is written (exit 1),
    unless --skip-bad: then the good rows are written and the bad ones are
    reported in FILE.rejected.csv beside the registry.
    """
    if country not in KIND_COUNTRIES[kind]:
        raise click.UsageError(f"a {kind} registry is kept by {', '.join(KIND_COUNTRIES[kind])}, not {country}")
    try:
        text = csv_file.read_text(encoding="utf-8-sig")
        result = parse_csv(text, str(csv_file))
    except UnicodeDecodeError:
        _print_problems([Problem(str(csv_file), "not UTF-8 text", kind="unreadable")])
        raise SystemExit(EXIT_INPUT) from None
    except InputError as exc:
        _print_problems(exc.problems)
        raise SystemExit(EXIT_INPUT) from None
    for line, _, reason in result.rejected:
        click.echo(f"{csv_file}:{line}: {reason}", err=True)
    target = registry_file(registries_dir or packs_dir / "registries", country, kind)
    if result.rejected and not skip_bad:
        click.echo(f"{len(result.rejected)} bad row(s); nothing written (use --skip-bad to import the {len(result.entries)} good ones)", err=True)
        raise SystemExit(EXIT_FINDINGS)
    day = retrieved_on.date() if retrieved_on else date.today()
    write_registry(Registry(kind=kind, country=country, source=source, retrieved_on=day, entries=result.entries), target)
    click.echo(f"wrote {target}: {len(result.entries)} entries, retrieved {day}")
    if result.rejected:
        report = target.with_name(target.name + ".rejected.csv")
        with report.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["line", "reason", *CSV_COLUMNS])
            for line, values, reason in result.rejected:
                writer.writerow([line, reason, *(values.get(c, "") for c in CSV_COLUMNS)])
        click.echo(f"{len(result.rejected)} bad row(s) reported in {report}", err=True)
        raise SystemExit(EXIT_FINDINGS)


@registry.command("list")
@packs_option
@registries_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def registry_list(packs_dir: Path, registries_dir: Path | None, fmt: str) -> None:
    """List the loaded registries and how old they are today."""
    rows = []
    for loaded in _registries(packs_dir, registries_dir):
        reg = loaded.registry
        rows.append(
            {
                "country": reg.country, "kind": reg.kind, "entries": len(reg.entries), "retrieved_on": reg.retrieved_on.isoformat(),
                "age_days": (date.today() - reg.retrieved_on).days, "sample": reg.sample, "source": reg.source,
                "file": str(loaded.path), "sha256": loaded.sha256,
            }
        )
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table("country", "kind", "entries", "retrieved", "age (days)", "sample", "source")
    for row in rows:
        table.add_row(row["country"], row["kind"], str(row["entries"]), row["retrieved_on"], str(row["age_days"]), "yes" if row["sample"] else "", row["source"])
    _console().print(table)


@registry.command("show")
@click.argument("kind", type=click.Choice(sorted(REGISTRY_KINDS)))
@click.option("--country", required=True, help="Who keeps the list (JP for Japan's lists).")
@packs_option
@registries_option
def registry_show(kind: str, country: str, packs_dir: Path, registries_dir: Path | None) -> None:
    """Print the entries of one registry."""
    loaded = _registries(packs_dir, registries_dir).by_key.get((country, kind))
    if loaded is None:
        raise click.UsageError(f"no {kind} registry for {country} is loaded")
    reg = loaded.registry
    out = _console()
    out.print(f"{reg.country} {reg.kind}: {len(reg.entries)} entries, retrieved {reg.retrieved_on}{' (SAMPLE DATA)' if reg.sample else ''}")
    out.print(f"source: {reg.source}", markup=False)
    table = Table("id", "name", "listed from", "ended on", "because", "note")
    for e in reg.entries:
        table.add_row(e.id, e.name, str(e.listed_from or ""), str(e.ended_on or ""), e.ended_because or "", e.note or "")
    out.print(table)


# --------------------------------------------------------------------------- sharing

outbox_option = click.option(
    "--outbox",
    type=click.Path(path_type=Path, dir_okay=False),
    default=lambda: Path(os.environ.get("DOSSIER_RULES_OUTBOX", "outbox.sqlite")),
    show_default="outbox.sqlite, or $DOSSIER_RULES_OUTBOX",
    help="The SQLite file that holds the notices.",
)


@main.group()
def share() -> None:
    """Notices to the partner's contact point (art. 2) under 4(1) and the test-fraud article."""


@share.command("build")
@click.argument("reports", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--with-personal-data", is_flag=True, help="Include candidates' identity, read from the dossier files the reports name.")
@outbox_option
@packs_option
def share_build(reports: tuple[Path, ...], with_personal_data: bool, outbox: Path, packs_dir: Path) -> None:
    """Turn the share-marked findings of REPORTS (check/batch JSON or JSONL) into draft notices.

    Running it again with the same reports adds nothing; a new dossier about
    the same intermediary and act joins its open draft.
    """
    packset = _load(packs_dir)
    with sharing.Outbox(outbox) as box:
        result = box.build(packset, reports, with_personal_data=with_personal_data)
    _print_problems(result.problems)
    click.echo(
        f"{outbox}: {len(result.created)} notice(s) created, {len(result.extended)} draft(s) extended, "
        f"{result.duplicates} finding(s) already in the outbox"
    )
    raise SystemExit(EXIT_INPUT if result.problems else EXIT_OK)


@share.command("list")
@click.option("--state", type=click.Choice(["draft", "approved", "exported"]), default=None)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@outbox_option
def share_list(state: str | None, fmt: str, outbox: Path) -> None:
    """List the notices in the outbox."""
    with sharing.Outbox(outbox) as box:
        rows = [dict(r) for r in box.notices(state)]
    fields = ("id", "country", "act", "state", "dossiers", "findings", "created_at", "approved_by")
    if fmt == "json":
        click.echo(json.dumps([{k: r[k] for k in fields} for r in rows], ensure_ascii=False, indent=2))
        return
    table = Table(*fields)
    for r in rows:
        table.add_row(*(str(r[k]) if r[k] is not None else "" for k in fields))
    _console().print(table)


def _notice_or_exit(box: "sharing.Outbox", nid: str, action: Any) -> "sharing.Notice":
    try:
        return action(nid)
    except sharing.OutboxError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(EXIT_FINDINGS if "no notice" not in str(exc) else EXIT_INPUT) from None


@share.command("show")
@click.argument("notice_id")
@click.option("--format", "fmt", type=click.Choice(["md", "json"]), default="md", show_default=True)
@outbox_option
def share_show(notice_id: str, fmt: str, outbox: Path) -> None:
    """Show one notice, whatever its state (for review; nothing is exported)."""
    with sharing.Outbox(outbox) as box:
        notice = _notice_or_exit(box, notice_id, box.notice)
    click.echo(sharing.render(notice, fmt), nl=False)


@share.command("approve")
@click.argument("notice_id")
@click.option("--by", "by", required=True, help="Name of the person approving the notice.")
@outbox_option
def share_approve(notice_id: str, by: str, outbox: Path) -> None:
    """Approve a draft notice; only approved notices can be exported."""
    with sharing.Outbox(outbox) as box:
        notice = _notice_or_exit(box, notice_id, lambda nid: box.approve(nid, by))
    click.echo(f"{notice.notice_id} approved by {notice.approved_by} at {notice.approved_at}")


@share.command("export")
@click.argument("notice_id")
@click.option("--format", "fmt", type=click.Choice(["json", "html", "md"]), default="json", show_default=True)
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False), default=None, help="Write here instead of standard output.")
@outbox_option
def share_export(notice_id: str, fmt: str, output: Path | None, outbox: Path) -> None:
    """Export an approved notice (JSON, printable HTML in English with a Japanese summary, or Markdown)."""
    with sharing.Outbox(outbox) as box:
        notice = _notice_or_exit(box, notice_id, box.export)
    text = sharing.render(notice, fmt)  # type: ignore[arg-type]
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)


# --------------------------------------------------------------------------- batch


@main.command("batch")
@click.argument("input_spec", metavar="INPUT")
@click.option("--out", required=True, type=click.Path(path_type=Path, dir_okay=False), help="JSON Lines output: one record per input record, in input order.")
@click.option("--jobs", type=click.IntRange(min=1), default=lambda: os.cpu_count() or 1, show_default="number of cores", help="Worker processes.")
@click.option("--resume", is_flag=True, help="Continue after the last whole record of an interrupted run's output.")
@click.option("--fail-on", type=click.Choice(["block", "warn", "never"]), default="never", show_default=True, help="Lowest severity that makes the exit code 1.")
@as_of_option
@engine_option
@packs_option
@registries_option
@max_age_option
def batch_command(
    input_spec: str, out: Path, jobs: int, resume: bool, fail_on: str, as_of: Any, backend: str, packs_dir: Path, registries_dir: Path | None, max_registry_age: int
) -> None:
    """Screen every record of INPUT: a directory of JSON files, a JSON Lines file (.gz too), or - for stdin.

    Exit 0 when every record was screened (and nothing reached --fail-on),
    1 when findings reached --fail-on, 2 when any record was unreadable or
    the run could not start.
    """
    engine = _engine(packs_dir, registries_dir, max_registry_age, backend)
    started = time.monotonic()
    console = _console(err=True)
    try:
        if console.is_terminal:
            # no refresh thread: workers are forked, and a forked child must not inherit a thread's locks
            with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console, auto_refresh=False) as bar:
                task = bar.add_task("starting")

                def report(stats: batch.Stats) -> None:
                    rate = stats.records / max(time.monotonic() - started, 1e-9)
                    s = stats.severity
                    bar.update(task, description=f"{stats.records:,} records · {rate:,.0f}/s · findings {s['block']:,} block, {s['warn']:,} warn, {s['info']:,} info · {stats.errors:,} errors", refresh=True)

                outcome = batch.run(engine, input_spec, out, jobs, as_of.date() if as_of else None, resume, report)
        else:
            outcome = batch.run(engine, input_spec, out, jobs, as_of.date() if as_of else None, resume)
    except InputError as exc:
        _print_problems(exc.problems)
        raise SystemExit(EXIT_INPUT) from None
    except batch.ResumeError as exc:
        click.echo(f"error: cannot resume {out}: {exc}", err=True)
        raise SystemExit(EXIT_INPUT) from None
    print_batch_summary(console, outcome, time.monotonic() - started, out)
    raise SystemExit(outcome.stats.exit_code(fail_on))


def print_batch_summary(console: Console, outcome: "batch.Outcome", seconds: float, out: Path) -> None:
    stats = outcome.stats
    same = "=" if outcome.records_in == outcome.records_out else "≠"
    table = Table(title=f"batch summary → {out}", show_header=False)
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row(f"records in {same} records out", f"{outcome.records_in:,} {same} {outcome.records_out:,}")
    if outcome.resumed_from:
        table.add_row("already in the output (resumed)", f"{outcome.resumed_from:,}")
    table.add_row("error records", f"{stats.errors:,}")
    rate = (outcome.records_in - outcome.resumed_from) / max(seconds, 1e-9)
    table.add_row("time, rate", f"{seconds:,.1f} s, {rate:,.0f} records/s")
    for severity in ("block", "warn", "info"):
        table.add_row(f"findings: {severity}", f"{stats.severity[severity]:,}")
    for country, n in sorted(stats.country.items()):
        table.add_row(f"findings in {country} dossiers", f"{n:,}")
    for article, n in sorted(stats.article.items()):
        table.add_row(f"findings under {article}", f"{n:,}")
    console.print(table)
