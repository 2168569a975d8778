"""``check``: screen a few dossier files and print their reports.

A screener runs this on one dossier at a time, so it starts lean: a valid
dossier's text report is printed from the pipeline's own JSON records, with
rich (wrapping, colour) loaded only for a terminal, and the report models
only for ``--format json``/``jsonl``, whose output they shape.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import orjson

from .. import batch
from ..engine import Engine
from ..labels import label, term
from ..locale import N_, _, language
from ..packs import SEVERITY_RANK
from ..problems import InputError
from ..sources import load_dossier, read_bytes, read_stream
from ..trace import RuleTrace, applies, for_item, not_applied, trace_dossier
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

if TYPE_CHECKING:
    from rich.console import Console

    from ..report import ErrorRecord, Report

Record = dict[str, Any]
"""A report or an error record as the screening pipeline writes it (the shape of ``Report`` or ``ErrorRecord``)."""

Segment = tuple[str, str | None]
"""A piece of a printed line and its style (a rich style, used on a terminal only)."""


def expand(paths: Iterable[str]) -> Iterator[str | Path]:
    """Files to screen, in a stable order: directories give their *.json files, sorted."""
    for raw in paths:
        path = Path(raw)
        if raw != "-" and path.is_dir():
            yield from sorted(path.rglob("*.json"))
        else:
            yield raw


def items_for(files: Iterable[str], kept: dict[str, bytes] | None = None) -> Iterator[batch.Item]:
    """The records named on the command line, read here (with a bound) so a bad file becomes an error record;
    each file's bytes also go to ``kept`` (by name) when given, for ``--explain`` to trace what was screened."""
    for source in expand(files):
        name = batch.file_name(source)
        try:
            raw = read_stream(sys.stdin.buffer, name) if source == "-" else read_bytes(Path(source))
        except InputError as exc:
            yield name, None, None, exc.problems[0]
            continue
        if kept is not None:
            kept[name] = raw
        yield name, None, raw, None


def screen_files(engine: Engine, files: Iterable[str], as_of: date | None, kept: dict[str, bytes] | None = None) -> tuple[list[Record], batch.Stats]:
    """Reports or error records, one per file, and their counts, through the same pipeline as ``batch``."""
    out: list[Record] = []
    stats = batch.Stats()
    for blob, chunk_stats in batch.results(engine, as_of, 1, batch.chunks(items_for(files, kept))):
        stats.add(chunk_stats)
        out.extend(orjson.loads(line) for line in blob.splitlines())
    return out, stats


EVERY_FINDING = "*"
"""The value of a bare ``--explain``: the trace of every finding's rule."""
BARE_EXPLAIN = N_("to explain every finding, put --explain after the files (it takes the word after it as a rule)")


@dataclass
class Explanation:
    """What ``--explain`` adds to one report: the traces of its findings' rules, or of the rule named."""

    traces: dict[str, RuleTrace] = field(default_factory=dict)
    named: str | None = None
    """The rule ``--explain RULE_ID`` named; None when explaining every finding."""
    not_applied: str | None = None
    """Why the named rule has no trace for this dossier, in the reader's language."""

    def to_json(self, report: Record) -> Record:
        out: Record = {"source": report["source"], "dossier_id": report["dossier_id"], "rules": [t.to_json() for t in self.traces.values()]}
        if self.named is not None:
            out |= {"rule": self.named, "applied": self.not_applied is None}
        return out


def explain_records(engine: Engine, records: list[Record], kept: dict[str, bytes], rule_id: str) -> dict[int, Explanation]:
    """The trace of each report's findings (or of the named rule, fired or not), by the report's index, computed by
    :mod:`dossier_rules.trace` as ``trace`` does: the same compiled conditions, so it cannot disagree with the report."""
    out: dict[int, Explanation] = {}
    named = None if rule_id == EVERY_FINDING else rule_id
    for index, record in enumerate(records):
        if "errors" in record or record["source"] not in kept:
            continue
        data = load_dossier(kept[record["source"]], record["source"])
        pack = engine.packset.packs[record["pack"]]
        explanation = Explanation(named=named)
        if named is not None and not applies(pack, data["kind"], named):
            explanation.not_applied = not_applied(pack, data["kind"], named)
        else:
            only = None if named is not None else {f["rule_id"] for f in record["findings"]}
            traces = trace_dossier(pack, data, date.fromisoformat(record["as_of"]), engine.registries, named, only)
            explanation.traces = {t.rule: t for t in traces}
        out[index] = explanation
    return out


def _known_rule(engine: Engine, rule_id: str | None) -> None:
    """``--explain RULE_ID`` names a rule some pack has; a file name taken for one says where a bare --explain goes."""
    if rule_id is not None and rule_id != EVERY_FINDING and engine.packset.rule(rule_id) is None:
        raise click.UsageError(_("no pack has a rule {rule}", rule=repr(rule_id)) + "; " + _(BARE_EXPLAIN))


def typed(records: list[Record]) -> list[Report | ErrorRecord]:
    """The records as report models, stamped now: what ``--format json``/``jsonl`` print (models loaded only for them)."""
    from ..report import ErrorRecord, Report

    stamp = datetime.now(UTC).replace(microsecond=0)
    return [ErrorRecord.model_validate(r) if "errors" in r else Report.model_validate({**r, "generated_at": stamp}) for r in records]


def summary(stats: batch.Stats) -> dict[str, Any]:
    """The summary ``check`` prints, from the pipeline's counts."""
    findings = {s: stats.severity[s] for s in ("block", "warn", "info")}
    return {"records": stats.records, "evaluated": stats.records - stats.errors, "errors": stats.errors, "findings": findings}


@click.command()
@click.argument("files", nargs=-1)
@click.option("--format", "fmt", type=click.Choice(["text", "json", "jsonl"]), default="text", show_default=True)
@lang_option
@click.option(
    "--fail-on", type=click.Choice(["block", "warn", "never"]), default="block", show_default=True, help="Lowest severity that makes the exit code 1."
)
@click.option(
    "--explain",
    "explain",
    is_flag=False,
    flag_value=EVERY_FINDING,
    default=None,
    metavar="[RULE_ID]",
    help="Show why each finding's rule fired, condition by condition, under the finding; with RULE_ID, that rule's trace "
    "for every dossier, fired or not. A bare --explain goes after the files.",
)
@as_of_option
@engine_option
@packs_option
@registries_option
@max_age_option
def check(
    files: tuple[str, ...],
    fmt: str,
    fail_on: str,
    explain: str | None,
    as_of: Any,
    backend: str,
    packs_dir: Path,
    registries_dir: Path | None,
    max_registry_age: int,
) -> None:
    """Screen dossier FILES (JSON; directories are searched for *.json; - is stdin).

    Every file gets a report or an error record; a bad file never stops the others.
    """
    if not files:
        raise click.UsageError(_("no files to screen") + ("; " + _(BARE_EXPLAIN) if explain not in (None, EVERY_FINDING) else ""))
    engine = make_engine(packs_dir, registries_dir, max_registry_age, backend)
    _known_rule(engine, explain)
    kept: dict[str, bytes] | None = {} if explain else None
    records, stats = screen_files(engine, files, as_of.date() if as_of else None, kept)
    explained = explain_records(engine, records, kept, explain) if explain and kept is not None else {}
    counts = summary(stats)
    if fmt == "jsonl":
        for index, result in enumerate(typed(records)):
            click.echo(result.model_dump_json())
            if index in explained:
                click.echo(json.dumps({"record_type": "explain"} | explained[index].to_json(records[index]), ensure_ascii=False))
    elif fmt == "json":
        payload: Record = {"results": [r.model_dump(mode="json") for r in typed(records)], "summary": counts}
        if explain:
            payload["explain"] = [explained[i].to_json(records[i]) for i in sorted(explained)]
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        print_text(records, counts, explained=explained)
    raise SystemExit(stats.exit_code(fail_on))


def print_text(records: list[Record], summary: dict[str, Any], out: Console | None = None, explained: dict[int, Explanation] | None = None) -> None:
    """Reports and errors as text in the current language, never cut.

    On a terminal lines wrap at its width (long words and values fold); in a
    file or a pipe each line is written whole. Findings are blocks rather
    than table rows: a table squeezed the message into what the other columns
    left, and Japanese text (no spaces to break at) was cut at the column's end.
    """
    lines = text_lines(records, summary, explained)
    if out is None and not sys.stdout.isatty():
        write_plain(lines, sys.stdout)
        return
    out = out or console()
    for indent, segments in lines:
        _emit(out, segments, indent)


def text_lines(records: list[Record], summary: dict[str, Any], explained: dict[int, Explanation] | None = None) -> list[tuple[int, list[Segment]]]:
    """What :func:`print_text` prints: each line's indent and its styled pieces (with ``--explain``, the traces)."""
    lines: list[tuple[int, list[Segment]]] = []
    for index, record in enumerate(records):
        if "errors" in record:
            lines.extend((0, _error_line(record["source"], err)) for err in record["errors"])
            continue
        explanation = (explained or {}).get(index)
        lines.append((0, _report_header(record)))
        lines.extend((2, _data_warning(warning)) for warning in record["data_warnings"])
        for finding in record["findings"]:
            lines.extend(_finding_lines(finding))
            if explanation is not None and explanation.named is None and finding["rule_id"] in explanation.traces:
                lines.append((6, [(_("Why it was found") + ":", "italic")]))
                lines.extend((6, [(line, "dim")]) for line in for_item(explanation.traces[finding["rule_id"]], finding.get("item")))
        if explanation is not None and explanation.named is not None:
            lines.extend(_named_trace(explanation))
    f = summary["findings"]
    lang = language()
    counts = ("、" if lang == "ja" else ", ").join(
        _("{count} {severity}", count=f[severity], severity=term(severity, lang, "severity")) for severity in ("block", "warn", "info")
    )
    line = _(
        "{records} dossiers: {evaluated} screened, {errors} {unreadable}; findings: {counts}",
        records=summary["records"],
        evaluated=summary["evaluated"],
        errors=summary["errors"],
        unreadable=term("unreadable", lang, "outcome"),
        counts=counts,
    )
    lines.append((0, [(line, None)]))
    return lines


def _named_trace(explanation: Explanation) -> list[tuple[int, list[Segment]]]:
    """``--explain RULE_ID`` under a report: the rule's trace, fired or not, or why this dossier has none."""
    if explanation.not_applied is not None:
        return [(2, [(explanation.not_applied, "italic")])]
    lines: list[tuple[int, list[Segment]]] = [(2, [(_("Trace of rule {rule}", rule=explanation.named) + ":", "italic")])]
    for rule_trace in explanation.traces.values():
        lines.extend((4, [(line, "dim")]) for line in rule_trace.lines())
    return lines


_UNPRINTED = dict.fromkeys((7, 8, 11, 12, 13))
"""Control characters rich drops from text (bell, backspace, vertical tab, form feed, carriage return): dropped here too."""


def write_plain(lines: list[tuple[int, list[Segment]]], stream: Any) -> None:
    """The lines as rich writes them to a file or a pipe: whole, unstyled, tabs expanded; without loading rich."""
    for indent, segments in lines:
        text = " " * indent + "".join(piece for piece, _style in segments).translate(_UNPRINTED)
        if "\t" in text:
            text = "\n".join(map(_expand_tabs, text.split("\n")))
        stream.write(text + "\n")


def _expand_tabs(line: str, size: int = 8) -> str:
    """Tabs to spaces at every ``size`` cells, counting wide (CJK) characters as two cells, as rich does."""
    import unicodedata

    out: list[str] = []
    column = 0
    for char in line:
        if char == "\t":
            pad = size - column % size
            out.append(" " * pad)
            column += pad
        else:
            out.append(char)
            column += 2 if unicodedata.east_asian_width(char) in "WF" else 1
    return "".join(out)


def _emit(out: Console, segments: list[Segment], indent: int = 0) -> None:
    """Print a line indented; wrapped (folding long words) to a terminal's width, else whole."""
    from rich.text import Text

    text = Text.assemble(*((piece, style or "") for piece, style in segments))
    if not out.is_terminal:
        out.print(Text(" " * indent) + text, soft_wrap=True)
        return
    for line in text.wrap(out, max(out.width - indent, 10), overflow="fold"):
        line.rstrip()
        out.print(Text(" " * indent) + line, soft_wrap=True)


def _error_line(source: str, err: Record) -> list[Segment]:
    where = source + (f":{err['line']}" if err.get("line") else "")
    text = f"✗ {where}: {err['message']}"
    if err.get("pointer") is not None:
        text += " " + _("(at {pointer})", pointer=err["pointer"])
    return [(text, "bold magenta")]


def _report_header(report: Record) -> list[Segment]:
    findings = report["findings"]
    worst = max((f["severity"] for f in findings), key=SEVERITY_RANK.__getitem__, default=None)
    mark, style = ("✓", "green") if worst is None else ("●", STYLE[worst])
    pack = next(p for p in report["packs"] if p["id"] == report["pack"])
    joiner = "、" if language() == "ja" else ", "
    counts = joiner.join(_("{count} {severity}", count=n, severity=term(s, language(), "severity")) for s, n in report["counts"].items() if n)
    counts = counts or term("clear", language(), "outcome")
    about = _(
        "{kind} {country} · {source} · pack {pack} {version} · as of {as_of} · {counts}",
        kind=term(report["kind"], language(), "dossier_kind"),
        country=label(report["country"], "ja" if language() == "ja" else "en", "country"),
        source=report["source"] or "-",
        pack=pack["id"],
        version=pack["version"],
        as_of=report["as_of"],
        counts=counts,
    )
    return [(f"{mark} ", style), (f"{report['dossier_id']}", "bold"), ("  " + about, None)]


def basis_text(basis: Record, lang: str) -> str:
    """A block finding's basis on one line: the MOC article, any Japanese instrument and article, what makes it blocking."""
    cited = str(basis["article"])
    if basis.get("domestic"):
        cited += ("、" if lang == "ja" else "; ") + basis["domestic"]["instrument"][lang] + " " + basis["domestic"]["article"][lang]
    return cited + (" — " if lang != "ja" else "：") + str(basis["text"][lang])


def _finding_lines(finding: Record) -> list[tuple[int, list[Segment]]]:
    """One finding: severity, article and rule on one line, then the message and its evidence, indented."""
    lang = language()
    severity = finding["severity"]
    head: list[Segment] = [
        (term(severity, language(), "severity") + (" ⇄" if finding["share"] else ""), STYLE[severity]),
        (f"  {finding['article']}  ", None),
        (finding["rule_id"], "dim"),
    ]
    lines: list[tuple[int, list[Segment]]] = [(2, head), (4, [(finding["message"][lang], None)])]
    lines.extend((6, [(f"{pointer} = {json.dumps(value, ensure_ascii=False)}", "dim")]) for pointer, value in finding["evidence"].items())
    if finding.get("basis") is not None:
        lines.append((6, [(_("Basis of non-conformity") + ": " + basis_text(finding["basis"], lang), "italic")]))
    if finding.get("limited") is not None:
        lines.append((6, [(finding["limited"][lang], "italic")]))
    return lines


def _data_warning(warning: Record) -> list[Segment]:
    """A limit of the screening (pack status, registries), apart from the findings: no article, no severity."""
    return [("⚠ " + _("screening note") + f" [{warning['code']}]: " + warning["message"][language()], "yellow")]
