"""Running the test cases that live next to each rule, and measuring rule coverage.

Like ``opa test`` or Semgrep's rule tests, a rule carries its own cases: a
JSON merge patch over the pack's ``test_base`` dossier and whether the rule
must fire or must not. A rule written once in ``common`` is tested under
every country pack that extends it, because its article and the base
dossier differ per country.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path as FsPath

from . import backends, rete
from .branch_coverage import BranchCoverage
from .engine import Engine
from .locale import _, language
from .packs import Pack, PackSet, ResolvedRule, TestCase, link_sources, merge_patch, pack_files
from .problems import InputError, Problem
from .registries import LoadedRegistry, Registries, Registry, index_entries, keeper
from .scaffold import todo_problems
from .sources import Data, check_dossier_data
from .trace import RuleTrace, trace_rule


@dataclass(frozen=True)
class CaseResult:
    pack: str
    rule: str
    case: TestCase
    source: str
    line: int | None
    ok: bool
    detail: str = ""
    trace: RuleTrace | None = None
    """For a failing case: the rule evaluated node by node on the case's dossier."""

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        return _(
            "{where}: [{rule}] under pack {pack}: case '{case}': {detail}", where=where, rule=self.rule, pack=self.pack, case=self.case.name, detail=self.detail
        )

    def to_json(self) -> Data:
        out: Data = {
            "pack": self.pack,
            "rule": self.rule,
            "case": self.case.name,
            "expect": self.case.expect,
            "source": self.source,
            "line": self.line,
            "ok": self.ok,
            "detail": self.detail or None,
        }
        if self.trace is not None and not self.ok:
            out["trace"] = self.trace.to_json()
        return out


@dataclass
class TestRun:
    results: list[CaseResult] = field(default_factory=list)
    coverage: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    partial: bool = False
    """Only some cases of a rule were selected (``--case``): rule coverage is then not judged."""
    branches: BranchCoverage = field(default_factory=BranchCoverage)
    """Which condition nodes the cases made true and false (see :mod:`dossier_rules.branch_coverage`)."""

    @property
    def failures(self) -> list[CaseResult]:
        return [r for r in self.results if not r.ok]

    @property
    def uncovered(self) -> list[tuple[str, str, list[str]]]:
        """(pack, rule, ways not exercised by a passing case)."""
        return [
            (pack, rule, sorted({"fire", "pass"} - ways))
            for (pack, rule), ways in sorted(self.coverage.items())
            if ways != {"fire", "pass"} and not self.partial
        ]

    @property
    def ok(self) -> bool:
        return not self.failures and not self.uncovered


def case_dossier(pack: Pack, resolved: ResolvedRule, index: int) -> Data:
    """The dossier of one test case: the pack's base for the rule's kind, patched."""
    rule = resolved.rule
    kind = rule.spec.applies_to
    data = merge_patch(pack.test_base(kind) or {}, rule.spec.tests[index].dossier)
    source = f"{rule.source} (test '{rule.spec.tests[index].name}' under pack {pack.id})"
    return check_dossier_data(data, source, rule.test_lines[index])


def selected_packs(packset: PackSet, ids: Iterable[str] = ()) -> list[Pack]:
    """Concrete packs to test: those named, or those extending a named abstract pack; all by default."""
    wanted = set(ids)
    unknown = wanted - set(packset.sources)
    if unknown:
        raise InputError([Problem(", ".join(sorted(unknown)), _("unknown pack; known: {known}", known=", ".join(sorted(packset.sources))), kind="not_found")])
    return [pack for pack in packset.packs.values() if not wanted or wanted & {s.id for s in pack.chain}]


def pack_test_registries(pack: Pack, retrieved_on: date = date.max) -> Registries:
    """The registries a pack's rule tests run against: its ``test_registries``, never the shipped data.

    They are current (retrieved no earlier than any date evaluated) unless a case says when they were
    retrieved (``registries_retrieved_on``), to test what an older list cannot prove.
    """
    built = {}
    for kind, entries in pack.test_registry_entries().items():
        registry = Registry(kind=kind, country=keeper(pack.country, kind), source=f"test data of pack {pack.id}", retrieved_on=retrieved_on, entries=entries)
        built[(registry.country, kind)] = LoadedRegistry(registry, pack.source.path, "", index_entries(registry))
    return Registries(built)


def run_tests(
    packset: PackSet,
    ids: Iterable[str] = (),
    backend: str = backends.DEFAULT,
    rules: Iterable[str] = (),
    cases: Iterable[str] = (),
) -> TestRun:
    """Run the rule tests; with an isolated backend (rete) call this in a worker process (see ``workers.run_isolated``).

    ``rules`` keeps only the rules with those ids; ``cases`` only the cases
    whose name contains one of those texts.
    """
    run = TestRun(partial=bool(tuple(cases)))
    wanted, wanted_rules, wanted_cases = set(ids), set(rules), tuple(cases)
    for pack in selected_packs(packset, ids):
        engine = Engine(packset, pack_test_registries(pack), max_registry_age=None, backend=backend)
        for resolved in pack.rules:
            rule = resolved.rule
            if wanted and rule.pack_id not in wanted and pack.id not in wanted:
                continue
            if wanted_rules and rule.id not in wanted_rules:
                continue
            ways = run.coverage.setdefault((pack.id, rule.id), set())
            for index, case in enumerate(rule.spec.tests):
                if wanted_cases and not any(text in case.name for text in wanted_cases):
                    continue
                result = _run_case(case_engine(engine, pack, case.registries_retrieved_on), pack, resolved, index)
                run.results.append(result)
                if result.ok:
                    ways.add(case.expect)
                if result.trace is not None:
                    run.branches.add(rule, result.trace)
    return run


def case_engine(engine: Engine, pack: Pack, retrieved_on: date | None) -> Engine:
    """The pack's test engine, or one whose test registries were retrieved on the case's date."""
    if retrieved_on is None:
        return engine
    return Engine(engine.packset, pack_test_registries(pack, retrieved_on), max_registry_age=None, backend=engine.backend)


def _run_case(engine: Engine, pack: Pack, resolved: ResolvedRule, index: int) -> CaseResult:
    rule = resolved.rule
    case = rule.spec.tests[index]
    dossier: Data | None = None

    def result(ok: bool, detail: str = "") -> CaseResult:
        trace = None
        if dossier is not None:  # failing cases show it; every case counts towards branch coverage
            as_of = case.as_of or date.fromisoformat(dossier["submitted"])
            trace = trace_rule(pack, resolved, dossier, as_of, engine.registries)
        return CaseResult(pack.id, rule.id, case, rule.source, rule.test_lines[index], ok, detail, trace)

    try:
        dossier = case_dossier(pack, resolved, index)
    except InputError as exc:
        return result(False, _("test dossier is invalid: {problems}", problems="; ".join(f"{p.message} ({p.pointer})" for p in exc.problems)))
    report = engine.evaluate(dossier, as_of=case.as_of, timestamp=False)
    hits = [f for f in report.findings if f.rule_id == rule.id]
    if case.expect == "pass":
        if hits:
            return result(False, _("expected no finding, got {count}: {message}", count=len(hits), message=getattr(hits[0].message, language())))
        return result(True)
    if not hits:
        return result(False, _("expected the rule to fire, it did not"))
    if case.count is not None and len(hits) != case.count:
        return result(False, _("expected {expected} findings, got {count}", expected=case.count, count=len(hits)))
    return result(True)


def junit_xml(run: TestRun) -> str:
    """The run as JUnit XML (one test suite per pack, one test case per rule case), for CI systems."""
    suites = ET.Element("testsuites", tests=str(len(run.results)), failures=str(len(run.failures)))
    by_pack: dict[str, list[CaseResult]] = {}
    for result in run.results:
        by_pack.setdefault(result.pack, []).append(result)
    for pack_id, results in sorted(by_pack.items()):
        failed = [r for r in results if not r.ok]
        suite = ET.SubElement(suites, "testsuite", name=f"pack {pack_id}", tests=str(len(results)), failures=str(len(failed)))
        for result in results:
            case = ET.SubElement(suite, "testcase", classname=result.rule, name=result.case.name, file=result.source, line=str(result.line or 0))
            if not result.ok:
                failure = ET.SubElement(case, "failure", message=result.detail)
                failure.text = "\n".join(result.trace.lines()) if result.trace else result.detail
        for pack, rule, missing in run.uncovered:
            if pack == pack_id:
                case = ET.SubElement(suite, "testcase", classname=rule, name="coverage: fires and must not fire")
                ET.SubElement(case, "failure", message=f"no passing case that {' or '.join(missing)}s")
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def check_test_dossiers(packset: PackSet) -> list[Problem]:
    """Lint: every test case's dossier must be a valid dossier of the pack's country."""
    problems = []
    for pack in packset.packs.values():
        for resolved in pack.rules:
            for index in range(len(resolved.rule.spec.tests)):
                try:
                    dossier = case_dossier(pack, resolved, index)
                except InputError as exc:
                    problems.extend(exc.problems)
                    continue
                if dossier["country"] != pack.country:
                    problems.append(
                        Problem(
                            resolved.rule.source,
                            _(
                                "test dossier is for {country}, but pack {pack} screens {screens}",
                                country=dossier["country"],
                                pack=pack.id,
                                screens=pack.country,
                            ),
                            kind="pack",
                            line=resolved.rule.test_lines[index],
                            rule=resolved.rule.id,
                        )
                    )
    return problems


def lint(paths: list[FsPath]) -> list[Problem]:
    """Every problem in the given pack files or directories, linked together.

    Files named on the command line are linked with the other packs of their
    directory, so a country pack can be linted alone with its ``common``.
    """
    files: dict[FsPath, None] = {}
    for path in paths:
        if path.is_dir():
            files.update(dict.fromkeys(pack_files(path)))
        elif path.exists():
            files.update(dict.fromkeys(pack_files(path.parent)))
        else:
            return [Problem(str(path), _("file not found"), kind="not_found")]
    problems = [p for path in files for p in todo_problems(path)]
    try:
        packset = link_sources(list(files))
    except InputError as exc:
        problems.extend(_with_yaml_advice(p) for p in exc.problems)
    else:
        problems.extend(check_test_dossiers(packset))
        problems.extend(rete_refusals(packset))
    return sorted(problems, key=_file_and_line)


def _with_yaml_advice(problem: Problem) -> Problem:
    """A YAML syntax error says where; add what to do, since the parser's words are about its own state."""
    if problem.kind != "syntax":
        return problem
    advice = _(
        "fix the YAML at this line or the line above it: indent with spaces the same way as the lines around it, "
        "close every bracket and quotation mark, and put in quotes a value that contains ': ' or ' #', "
        "or starts with one of { [ * & ! % @ `"
    )
    return replace(problem, message=f"{problem.message} — {advice}")


def _file_and_line(problem: Problem) -> tuple[str, int, str]:
    """Sort key: the pack file (a test case's source names its case after the file), then the line."""
    return (problem.source.split(" (test ", 1)[0], problem.line or 0, problem.message)


def rete_refusals(packset: PackSet) -> list[Problem]:
    """What the Rete backend would refuse, as lint problems (the native backend runs such rules fine)."""
    return [
        Problem(
            rule.source,
            _("{why} (--engine rete refuses this pack; the native engine runs it)", why=why.removeprefix(f"rule {rule.id}: ")),
            kind="rete",
            line=rule.line,
            rule=rule.id,
        )
        for rule, why in rete.refusals(packset)
    ]
