"""``packs`` (list, show, lint, fmt, test, coverage) and ``explain``: what rule authors use."""

from __future__ import annotations

import difflib
import json
import shutil
from pathlib import Path

import click
from rich.text import Text

from .. import backends, codegen, coverage, workers
from ..errors import DossierError
from ..labels import term
from ..locale import N_, _, language
from ..packs import PackSet, pack_files
from ..problems import InputError
from ..results import severity_label
from ..scaffold import write_new_pack
from ..services import catalog
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
from .views import text_table

CASE_NAMES = {"fire": N_("fires"), "pass": N_("does not fire")}
"""The two ways a rule's tests must exercise it (``packs test``)."""

CONFIDENTIALITY_SCOPES = {
    "third_parties": N_("no disclosure to third parties without consent"),
    "anyone": N_("no disclosure to anyone without consent"),
}
"""How far each MOC's confidentiality reaches (``moc.confidentiality.scope``), in words."""


def _in(text: object) -> str:
    """A pack's text given in both languages, in the reader's."""
    return str(getattr(text, "ja" if language() == "ja" else "en"))


def _both(text: object) -> str:
    """A pack's text given in both languages: the reader's first, the other in brackets."""
    first, second = ("ja", "en") if language() == "ja" else ("en", "ja")
    return f"{getattr(text, first)} ({getattr(text, second)})"


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
    headers = (_("pack"), _("version"), _("country"), _("rules"), _("extends"), _("title"))
    body = [
        [row["id"], row["version"], row["country"] or _("(abstract)"), str(row["rules"]), ", ".join(row["extends"]), _in_language(row["title"])] for row in rows
    ]
    console().print(text_table(headers, body, ids=[0, 1]))


@packs.command("show")
@click.argument("pack_id")
@packs_option
def packs_show(pack_id: str, packs_dir: Path) -> None:
    """Show a pack's metadata and the rules it applies (with articles resolved)."""
    packset = load_packset(packs_dir)
    source = packset.sources.get(pack_id)
    if source is None:
        raise click.UsageError(_("unknown pack '{pack}'; known: {known}", pack=pack_id, known=", ".join(sorted(packset.sources))))
    out = console()
    meta = source.spec.pack
    out.print(Text(f"{meta.id} {meta.version} — {meta.title.en} / {meta.title.ja}", style="bold"))
    out.print(_("file: {path}  sha256: {sha256}", path=source.path, sha256=source.sha256), markup=False)
    if meta.extends:
        out.print(_("extends: {packs}", packs=", ".join(meta.extends)))
    if meta.moc:
        moc = meta.moc
        out.print(_("partner ministry: {ministry}", ministry=_both(moc.partner_ministry)), markup=False)
        contact = _(
            "contact points (art. {article}): Japan — {japan}; partner — {partner}",
            article=moc.contact_points.article,
            japan=_in(moc.contact_points.japan),
            partner=_in(moc.contact_points.partner),
        )
        out.print(contact, markup=False)
        confidentiality = _(
            "confidentiality (art. {article}, {scope}): {text}",
            article=moc.confidentiality.article,
            scope=_(CONFIDENTIALITY_SCOPES[moc.confidentiality.scope]),
            text=_in(moc.confidentiality.text),
        )
        out.print(confidentiality, markup=False)
        signed = "; ".join(f"{s.on} {s.place}" for s in moc.signed)
        period = moc.in_force
        starts, ends = period.starts_on or _("unknown"), period.ends_on or _("open")
        out.print(
            _("signed: {signed}; in force from {starts} to {ends} (art. {article})", signed=signed, starts=starts, ends=ends, article=period.article),
            markup=False,
        )
    pack = packset.packs.get(pack_id)
    specs = [(r.rule.spec, r.article) for r in pack.rules] if pack else [(r.spec, r.spec.article) for r in source.rules]
    body = [
        [
            spec.id,
            article,
            term(spec.applies_to, language(), "dossier_kind"),
            severity_label(spec.severity),
            spec.share.act if spec.share else "",
            _in(spec.title),
        ]
        for spec, article in specs
    ]
    headers = (_("rule"), _("article"), _("applies to"), _("severity"), _("act shared"), _("title"))
    out.print(text_table(headers, body, ids=[0, 1]))


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


@packs.command("fmt")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--check", "check_only", is_flag=True, help="Write nothing; list the files not in the canonical layout and exit 1 if any.")
@click.option("--diff", "show_diff", is_flag=True, help="Write nothing; print what formatting would change, as a unified diff.")
def packs_fmt(paths: tuple[Path, ...], check_only: bool, show_diff: bool) -> None:
    """Lay out pack files canonically, comments kept (directories: their *.yaml files).

    Keys in the order the pack format declares them, two-space indentation,
    quoting as written, lines never wrapped (docs/authoring.md). Formatting
    twice changes nothing. Exit 0 when done (or, with --check, when every file
    is already canonical), 1 when --check finds files to reformat, 2 when a file
    cannot be read.
    """
    from ..pack_format import format_file

    problems = []
    changed = []
    for path in _pack_paths(paths):
        try:
            result = format_file(path)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        if not result.changed:
            continue
        changed.append(path)
        if show_diff:
            click.echo("".join(difflib.unified_diff(result.before.splitlines(True), result.after.splitlines(True), f"{path}", f"{path} (fmt)")), nl=False)
        elif check_only:
            click.echo(_("{path}: not in the canonical layout (dossier-rules packs fmt {path} rewrites it)", path=path))
        else:
            _rewrite(path, result.after)
            click.echo(_("reformatted {path}", path=path))
    print_problems(problems)
    if problems:
        raise SystemExit(EXIT_INPUT)
    if changed and (check_only or show_diff):
        raise SystemExit(EXIT_FINDINGS if check_only else EXIT_OK)


def _pack_paths(paths: tuple[Path, ...]) -> list[Path]:
    """The files named, a directory standing for its pack files (``*.yaml``, as the loader reads them)."""
    return [file for path in paths for file in (pack_files(path) if path.is_dir() else [path])]


def _rewrite(path: Path, text: str) -> None:
    """Replace a pack file whole (a reader never sees half of it), keeping its permissions."""
    temporary = path.with_name(f".{path.name}.fmt")
    temporary.write_text(text, encoding="utf-8")
    shutil.copymode(path, temporary)
    temporary.replace(path)


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
        click.echo(_("error: no pack or rule '{target}'; packs: {known}", target=target, known=known), err=True)
        raise SystemExit(EXIT_INPUT) from None
    body = []
    for pack in selected:
        try:
            generated = codegen.generate(pack)
        except codegen.Unsupported as exc:
            body.append([pack.id, str(len(pack.rules)), _("interpreted: {reason}", reason=exc), ""])
            continue
        if show:
            click.echo(generated.source)
        body.append([pack.id, str(len(pack.rules)), _("generated, {lines} lines", lines=generated.source.count(chr(10)) + 1), generated.sha256])
    if not show:
        console().print(text_table((_("pack"), _("rules"), _("compiled to"), _("sha256 of the source")), body, ids=[0, 3]))


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
    pack_ids: tuple[str, ...], packs_dir: Path, backend: str, fmt: str, rules: tuple[str, ...], cases: tuple[str, ...], verbose: bool, junit: Path | None
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
        if backends.get(backend).isolated:
            run = workers.run_isolated(lambda ps: run_tests(ps, pack_ids, backend, rules, cases), packset)
        else:
            run = run_tests(packset, pack_ids, backend, rules, cases)
    except InputError as exc:
        print_problems(exc.problems)
        raise SystemExit(EXIT_INPUT) from None
    except workers.WorkerCrashed as exc:
        click.echo(_("error: the rete backend crashed while running the tests: {reason}", reason=exc), err=True)
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
                    click.echo(_("ok   {case}", case=result).rstrip(": "))
                continue
            click.echo(_("FAIL {case}", case=result))
            if result.trace is not None:
                click.echo("\n".join("     " + line for line in result.trace.lines()))
        for pack_id, rule_id, missing in run.uncovered:
            wanted = _(" or ").join(_(CASE_NAMES.get(m, m)) for m in missing)
            click.echo(_("UNCOVERED [{rule}] under pack {pack}: no passing case where it {wanted}", rule=rule_id, pack=pack_id, wanted=wanted))
        click.echo(_("{cases} cases: {passed} passed, {failed} failed", cases=len(run.results), passed=passed, failed=len(run.failures)))
        if run.partial:
            click.echo(_("coverage: not judged (only some cases were selected with --case)"))
        else:
            click.echo(_("coverage: {covered}/{pairs} rule-pack pairs exercised both ways (fires and must not fire)", covered=covered, pairs=len(run.coverage)))
            branches = run.branches
            click.echo(
                _(
                    "branches: {covered}/{total} condition outcomes exercised ({percent}%; packs coverage --branches lists the rest)",
                    covered=branches.covered,
                    total=branches.total,
                    percent=f"{branches.percent:.1f}",
                )
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
    place = f"{rule['defined_in']['file']}:{rule['defined_in']['line']}"
    out.print(_("defined in: {place} (pack {pack})", place=place, pack=rule["pack"]), markup=False)
    for cited in rule["cites"]:
        extra = " " + _("(also {articles})", articles=", ".join(cited["also"])) if cited["also"] else ""
        out.print(_("cites under pack {pack}: {article}", pack=cited["pack"], article=cited["article"]) + extra, markup=False)
    share = _("yes, act {act}", act=rule["share"]) if rule["share"] else _("no")
    out.print(
        _(
            "applies to: {kind}   severity: {severity}   share with partner: {share}",
            kind=term(rule["applies_to"], language(), "dossier_kind"),
            severity=severity_label(rule["severity"]),
            share=share,
        ),
        markup=False,
    )
    if rule["for_each"]:
        out.print(_("for each {name} in {path} (one finding per matching item):", name=rule["for_each"]["as"], path=rule["for_each"]["in"]), markup=False)
    out.print(_("condition:"))
    for line in rule["condition"]:
        out.print("  " + line, markup=False)
    out.print(_("evidence: {fields}", fields=", ".join(rule["evidence"])), markup=False)
    out.print(_("message (en): {text}", text=rule["message"]["en"]), markup=False)
    out.print(_("message (ja): {text}", text=rule["message"]["ja"]), markup=False)
    out.print(_("tests:"))
    for case in rule["tests"]:
        count = f" ×{case['count']}" if case["count"] else ""
        as_of = " " + _("(as of {day})", day=case["as_of"]) if case["as_of"] else ""
        where = f"{rule['defined_in']['file']}:{case['line']}"
        out.print(f"  [{_(CASE_NAMES.get(case['expect'], case['expect']))}]{count} {case['name']}{as_of}  ({where})", markup=False)


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
        click.echo(_("not encoded: {article} (pack {pack}) has no rule and no not_checkable reason", article=article, pack=pack_id), err=True)
    if check:
        current = output.read_text(encoding="utf-8") if output.exists() else None
        if current != text:
            click.echo(_("{path} is stale; run: dossier-rules packs coverage", path=output), err=True)
            raise SystemExit(EXIT_FINDINGS)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
        click.echo(_("wrote {path}", path=output))
    raise SystemExit(EXIT_FINDINGS if missing else EXIT_OK)


def _branch_report(packset: PackSet, minimum: float | None) -> None:
    """Print every condition outcome no case exercises, and the total; exit 1 below ``minimum``."""
    run = run_tests(packset)
    branches = run.branches
    for rule, node, result in branches.missing():
        never = _("never true") if result else _("never false")
        click.echo(f"{rule.source}:{rule.line}: [{rule.id}] {never}: {node}")
    percent = f"{branches.percent:.1f}"
    click.echo(_("branches: {covered}/{total} condition outcomes exercised ({percent}%)", covered=branches.covered, total=branches.total, percent=percent))
    if minimum is not None and branches.percent < minimum:
        click.echo(_("below the minimum of {minimum}%", minimum=f"{minimum:g}"), err=True)
        raise SystemExit(EXIT_FINDINGS)
    raise SystemExit(EXIT_OK)
