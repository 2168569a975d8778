"""``packs`` (list, show, lint, test, coverage) and ``explain``: what rule authors use."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.table import Table
from rich.text import Text

from .. import codegen, coverage, workers
from ..errors import DossierError
from ..locale import _, language
from ..packs import PackSet
from ..scaffold import write_new_pack
from ..services import catalog
from ..services.workspace import Backend
from ..sources import InputError
from ..testing import junit_xml, lint, run_tests
from .common import (
    EXIT_FINDINGS,
    EXIT_INPUT,
    EXIT_OK,
    console,
    engine_option,
    load_packset,
    packs_option,
    print_problems,
    refuse_untranslatable,
)


@click.group()
def packs() -> None:
    """List, inspect, lint and test rule packs."""


@packs.command("list")
@packs_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def packs_list(packs_dir: Path, fmt: str) -> None:
    """List the packs in the pack directory."""
    rows = catalog.packs(load_packset(packs_dir), None)
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
        return
    table = Table("id", "version", "country", "rules", "extends", "title")
    for row in rows:
        table.add_row(row["id"], row["version"], row["country"] or "(abstract)", str(row["rules"]), ", ".join(row["extends"]), _in_language(row["title"]))
    console().print(table)


@packs.command("show")
@click.argument("pack_id")
@packs_option
def packs_show(pack_id: str, packs_dir: Path) -> None:
    """Show a pack's metadata and the rules it applies (with articles resolved)."""
    packset = load_packset(packs_dir)
    source = packset.sources.get(pack_id)
    if source is None:
        raise click.UsageError(f"unknown pack '{pack_id}'; known: {', '.join(sorted(packset.sources))}")
    out = console()
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
            table.add_row(
                rule.id, rule.spec.article, rule.spec.applies_to, rule.spec.severity, rule.spec.share.act if rule.spec.share else "", rule.spec.title.en
            )
    out.print(table)


@packs.command("lint")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def packs_lint(paths: tuple[Path, ...]) -> None:
    """Check pack files: YAML, schema, conditions, articles, test dossiers.

    Exit 0 when clean, 1 when problems are found.
    """
    problems = lint(list(paths))
    print_problems(problems)
    blocking = [p for p in problems if p.kind != "rete"]
    if len(blocking) < len(problems):
        click.echo(
            _("{count} rule(s) only the native engine can run (see above); --engine rete refuses them").format(count=len(problems) - len(blocking)), err=True
        )
    if blocking:
        click.echo(_("{count} problem(s)").format(count=len(blocking)), err=True)
        raise SystemExit(EXIT_FINDINGS)
    click.echo(_("packs are clean"))


@packs.command("new")
@click.argument("country")
@click.option("--extends", "parent", default="common", show_default=True, help="The abstract pack whose shared rules the new pack applies.")
@packs_option
def packs_new(country: str, parent: str, packs_dir: Path) -> None:
    """Scaffold a pack for a new country's MOC: rules/<cc>.yaml, to fill in.

    The file lists every provision the shared rules cite (each MOC numbers
    its articles differently), the MOC facts reports and notices need, a
    clean test dossier per kind and a commented rule with its tests. Every
    value to take from the MOC text reads TODO; packs lint lists those left.
    """
    packset = load_packset(packs_dir)
    try:
        path = write_new_pack(packset, packs_dir, country, parent)
    except InputError as exc:
        print_problems(exc.problems)
        raise SystemExit(EXIT_INPUT) from None
    click.echo(_("wrote {path}: fill in each TODO from the MOC text, then run: dossier-rules packs lint {path}").format(path=path))


@packs.command("compile")
@click.argument("target", required=False)
@click.option("--show", is_flag=True, help="Print the generated Python source, for audit.")
@packs_option
def packs_compile(target: str | None, show: bool, packs_dir: Path) -> None:
    """Compile packs to Python source, as the native engine runs them.

    TARGET is a pack id or a rule id (that rule alone, as the first pack
    applying it generates it); without it, every pack. Without --show, a
    summary: what each pack compiles to, or why the interpreter runs it.
    """
    packset = load_packset(packs_dir)
    try:
        selected = codegen.select(packset, target)
    except KeyError:
        known = ", ".join(sorted(packset.packs))
        click.echo(f"error: no pack or rule '{target}'; packs: {known}", err=True)
        raise SystemExit(EXIT_INPUT) from None
    table = Table("pack", "rules", "compiled to", "sha256 of the source")
    for pack in selected:
        try:
            generated = codegen.generate(pack)
        except codegen.Unsupported as exc:
            table.add_row(pack.id, str(len(pack.rules)), f"interpreted: {exc}", "")
            continue
        if show:
            click.echo(generated.source)
        table.add_row(pack.id, str(len(pack.rules)), f"generated, {generated.source.count(chr(10)) + 1} lines", generated.sha256)
    if not show:
        console().print(table)


@packs.command("test")
@click.argument("pack_ids", nargs=-1)
@packs_option
@engine_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--rule", "rules", multiple=True, help="Run only this rule's cases (repeatable).")
@click.option("--case", "cases", multiple=True, help="Run only the cases whose name contains this text (repeatable).")
@click.option("-v", "--verbose", is_flag=True, help="List every case run, not only the failures.")
@click.option("--junit", type=click.Path(path_type=Path, dir_okay=False), default=None, help="Also write the results as JUnit XML to this file.")
def packs_test(
    pack_ids: tuple[str, ...], packs_dir: Path, backend: Backend, fmt: str, rules: tuple[str, ...], cases: tuple[str, ...], verbose: bool, junit: Path | None
) -> None:
    """Run the test cases kept next to each rule, and report rule coverage.

    With PACK ids, run the tests of those packs (an abstract pack's rules
    are tested under every pack that extends it). A failing case is shown
    with the rule's trace on its dossier: each condition node, the values it
    read and its result. Exit 1 on any failing case or any rule not
    exercised both ways (fires / must not fire).
    """
    packset = load_packset(packs_dir)
    refuse_untranslatable(packset, backend)
    unknown = set(rules) - {r.id for s in packset.sources.values() for r in s.rules}
    if unknown:
        raise click.UsageError(_("unknown rule(s): {rules}").format(rules=", ".join(sorted(unknown))))
    try:
        if backend == "rete":
            run = workers.run_isolated(lambda ps: run_tests(ps, pack_ids, "rete", rules, cases), packset)
        else:
            run = run_tests(packset, pack_ids, backend, rules, cases)
    except InputError as exc:
        print_problems(exc.problems)
        raise SystemExit(EXIT_INPUT) from None
    except workers.WorkerCrashed as exc:
        click.echo(f"error: the rete backend crashed while running the tests: {exc}", err=True)
        raise SystemExit(EXIT_INPUT) from None
    if junit is not None:
        junit.write_text(junit_xml(run), encoding="utf-8")
    passed = len(run.results) - len(run.failures)
    covered = len(run.coverage) - len(run.uncovered)
    if fmt == "json":
        shown = run.results if verbose else run.failures
        payload = {
            "cases": len(run.results),
            "passed": passed,
            "failed": [f.to_json() for f in run.failures],
            "results": [r.to_json() for r in shown] if verbose else None,
            "rules": len(run.coverage),
            "covered": covered,
            "uncovered": [{"pack": p, "rule": r, "missing": m} for p, r, m in run.uncovered],
            "branches": {"covered": run.branches.covered, "total": run.branches.total},
        }
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        for result in run.results:
            if result.ok:
                if verbose:
                    click.echo(f"ok   {result}".rstrip(": "))
                continue
            click.echo(f"FAIL {result}")
            if result.trace is not None:
                click.echo("\n".join("     " + line for line in result.trace.lines()))
        for pack_id, rule_id, missing in run.uncovered:
            click.echo(f"UNCOVERED [{rule_id}] under pack {pack_id}: no passing case that {' or '.join(missing)}s")
        click.echo(f"{len(run.results)} cases: {passed} passed, {len(run.failures)} failed")
        if run.partial:
            click.echo("coverage: not judged (only some cases were selected with --case)")
        else:
            click.echo(f"coverage: {covered}/{len(run.coverage)} rule-pack pairs exercised both ways (fires and must not fire)")
            branches = run.branches
            click.echo(
                f"branches: {branches.covered}/{branches.total} condition outcomes exercised ({branches.percent:.1f}%; packs coverage --branches lists the rest)"
            )
    raise SystemExit(EXIT_OK if run.ok else EXIT_FINDINGS)


@click.command()
@click.argument("rule_id")
@packs_option
def explain(rule_id: str, packs_dir: Path) -> None:
    """Show a rule: its articles per country, its condition in readable form, its tests."""
    packset = load_packset(packs_dir)
    try:
        rule = catalog.explain(packset, catalog.find_rule(packset, rule_id), None)
    except DossierError as exc:
        raise click.UsageError(exc.message()) from None
    out = console()
    out.print(Text(f"{rule['id']} — {rule['title']['en']} / {rule['title']['ja']}", style="bold"))
    out.print(f"defined in: {rule['defined_in']['file']}:{rule['defined_in']['line']} (pack {rule['pack']})")
    for cited in rule["cites"]:
        extra = f" (also {', '.join(cited['also'])})" if cited["also"] else ""
        out.print(f"cites under pack {cited['pack']}: {cited['article']}{extra}")
    share = f"yes, act {rule['share']}" if rule["share"] else "no"
    out.print(f"applies to: {rule['applies_to']}   severity: {rule['severity']}   share with partner: {share}")
    if rule["for_each"]:
        out.print(f"for each {rule['for_each']['as']} in {rule['for_each']['in']} (one finding per matching item):")
    out.print("condition:")
    for line in rule["condition"]:
        out.print("  " + line, markup=False)
    out.print("evidence: " + ", ".join(rule["evidence"]))
    out.print(f"message (en): {rule['message']['en']}", markup=False)
    out.print(f"message (ja): {rule['message']['ja']}", markup=False)
    out.print("tests:")
    for case in rule["tests"]:
        count = f" ×{case['count']}" if case["count"] else ""
        as_of = f" as of {case['as_of']}" if case["as_of"] else ""
        out.print(f"  {case['expect']:<4}{count} {case['name']}{as_of}  ({rule['defined_in']['file']}:{case['line']})", markup=False)


def _in_language(text: dict[str, str]) -> str:
    """A pack's localized text in the user's language."""
    return text.get(language()) or text["en"]


@packs.command("coverage")
@packs_option
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False), default=Path("docs/coverage.md"), show_default=True)
@click.option("--check", is_flag=True, help="Do not write; exit 1 if the file is stale or a checkable provision is not encoded.")
@click.option("--branches", is_flag=True, help="Instead, run the rule tests and list each condition outcome no case exercises.")
@click.option(
    "--min",
    "minimum",
    type=click.FloatRange(0, 100),
    default=None,
    help="Exit 1 when fewer than this percentage of condition outcomes are exercised (implies --branches).",
)
def packs_coverage(packs_dir: Path, output: Path, check: bool, branches: bool, minimum: float | None) -> None:
    """Write the provision matrix: each MOC article and the rules that encode it.

    With --branches, measure instead how well the rule tests exercise the
    conditions: each all/any member, comparison, presence test, look-up and
    aggregate must be seen true by some case and false by another.
    """
    packset = load_packset(packs_dir)
    if branches or minimum is not None:
        _branch_report(packset, minimum)
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


def _branch_report(packset: PackSet, minimum: float | None) -> None:
    """Print every condition outcome no case exercises, and the total; exit 1 below ``minimum``."""
    run = run_tests(packset)
    branches = run.branches
    for rule, node, result in branches.missing():
        click.echo(f"{rule.source}:{rule.line}: [{rule.id}] never {'true' if result else 'false'}: {node}")
    click.echo(f"branches: {branches.covered}/{branches.total} condition outcomes exercised ({branches.percent:.1f}%)")
    if minimum is not None and branches.percent < minimum:
        click.echo(f"below the minimum of {minimum:g}%", err=True)
        raise SystemExit(EXIT_FINDINGS)
    raise SystemExit(EXIT_OK)
