"""The same rules in other engines, side by side, in one run.

    python benchmarks/peers.py [--n 20000] [--seed 7] [--runs 3]

Eleven candidate rules of the ``kh`` and ``common`` packs (acts (a)-(e) of
4(1) including the act (e) doubt, test fraud, dependents, the MoLVT
certificate, candidates abroad without a sending agency, lapsed accreditation)
are re-expressed by hand in each peer. Every engine gets the same Cambodian
dossiers from ``bench.py``'s generator as JSON lines and parses them itself
(dossiers/s include parsing): orjson for the Python engines, ZEN's own parser
for the JDM graph, which takes the JSON bytes.

Before anything is timed, every engine's fired (rule, item index) sets must be
identical on the timed input and on every test case of the KH pack's rules;
any difference stops the run. Then each engine runs over the whole input,
interleaved, ``--runs`` times, timed in CPU seconds of this one process (the
same as wall time on an idle core, and far less disturbed by other work on a
shared machine); the table shows the median.

Not in the table: the Rete backend (durable-rules) and Rego (rego-cpp) run two
to three orders of magnitude slower (about 1,450 and 770 dossiers/s where
ours ran at 41,800, measured before), and CEL's Python binding spends most of
its time converting the dict; they would only lengthen the run.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import zen

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench

from dossier_rules import codegen
from dossier_rules.cli import default_packs_dir
from dossier_rules.conditions import ROOT, as_date
from dossier_rules.engine import Engine
from dossier_rules.packs import PackSet, load_packs
from dossier_rules.registries import Registries
from dossier_rules.testing import case_dossier

RULES = (
    "common.act-a-property-held",
    "common.act-b-penalty-contract",
    "common.act-c-rights-violation",
    "common.act-d-false-document",
    "common.act-e-fee-without-basis",
    "common.act-e-fee-explanation-unknown",
    "common.test-fraud",
    "common.dependents-need-ssw2",
    "kh.certificate-missing",
    "kh.abroad-without-sending-agency",
    "kh.agency-accreditation-lapsed",
)
Fired = set[tuple[str, int | None]]


# --------------------------------------------------------------------------- hand-written Python (the anchor)

AGENTS = frozenset(("intermediary", "sending_agency"))
PENALTIES = frozenset(("penalty", "unjust_transfer"))
FALSE_FINDINGS = frozenset(("altered", "false", "forged"))
IDENTITY_DOCUMENTS = frozenset(("passport", "residence_card"))


def _role(party: dict[str, Any] | None) -> Any:
    return None if party is None else party.get("role")


def _fee_without_basis(fee: dict[str, Any], languages: list[str] | None) -> bool:
    amount, language = fee.get("amount"), fee.get("explanation_language")
    return (
        amount is not None
        and amount > 0
        and _role(fee.get("payee")) in AGENTS
        and fee.get("basis_shown") is False
        and (fee.get("breakdown_explained") is False or (language is not None and languages is not None and language not in languages))
    )


def hand_written(d: dict[str, Any]) -> list[tuple[str, int | None]]:
    """The eleven rules as a Python programmer would write them for this one pack (dates compared as ISO text)."""
    out: list[tuple[str, int | None]] = []
    for i, held in enumerate(d.get("held_property") or ()):
        if held.get("item") not in IDENTITY_DOCUMENTS and held.get("item") is not None and _role(held.get("holder")) in AGENTS:
            out.append(("common.act-a-property-held", i))
    for i, clause in enumerate(d.get("contract_clauses") or ()):
        if clause.get("kind") in PENALTIES and _role(clause.get("party")) in AGENTS and clause.get("concluded") is True:
            out.append(("common.act-b-penalty-contract", i))
    for i, incident in enumerate(d.get("incidents") or ()):
        if _role(incident.get("perpetrator")) in AGENTS:
            out.append(("common.act-c-rights-violation", i))
    for i, doc in enumerate(d.get("documents") or ()):
        if doc.get("finding") in FALSE_FINDINGS and _role(doc.get("provided_by")) in AGENTS:
            out.append(("common.act-d-false-document", i))
    languages = d.get("languages")
    for i, fee in enumerate(d.get("fees") or ()):
        if _fee_without_basis(fee, languages):
            out.append(("common.act-e-fee-without-basis", i))
            continue
        amount, role, language = fee.get("amount"), _role(fee.get("payee")), fee.get("explanation_language")
        if (
            amount is not None
            and amount > 0
            and (role in AGENTS or role is None)
            and fee.get("basis_shown") is not True
            and not (fee.get("breakdown_explained") is True and fee.get("acknowledged") is True and language is not None and language in (languages or ()))
        ):
            out.append(("common.act-e-fee-explanation-unknown", i))
    for i, test in enumerate(d.get("tests") or ()):
        fraud = test.get("impersonation_reported") is True or test.get("certificate_forged_or_altered") is True
        if fraud and (test.get("kind") == "skills" or d.get("status_sought") == "SSW1"):
            out.append(("common.test-fraud", i))
    if d.get("status_sought") == "SSW1":
        for i, dependent in enumerate(d.get("dependents") or ()):
            if dependent.get("accompanying") is not False:
                out.append(("common.dependents-need-ssw2", i))
    if d.get("residence") == "abroad":
        certificate = d.get("certificate")
        if certificate is None or certificate.get("kind") == "other":
            out.append(("kh.certificate-missing", None))
        agency = d.get("sending_agency")
        if d.get("hire_route") == "direct" and agency is None:
            out.append(("kh.abroad-without-sending-agency", None))
        accreditation = None if agency is None else agency.get("accreditation")
        if accreditation is not None:
            submitted, valid_to, valid_from = d["submitted"], accreditation.get("valid_to"), accreditation.get("valid_from")
            if (valid_to is not None and valid_to < submitted) or (valid_from is not None and valid_from > submitted):
                out.append(("kh.agency-accreditation-lapsed", None))
    return out


# --------------------------------------------------------------------------- GoRules ZEN

_AG = '["intermediary", "sending_agency"]'
_E_BLOCK = (
    f"fees[#].amount != null and fees[#].amount > 0 and fees[#].payee.role in {_AG} and fees[#].basis_shown == false "
    "and (fees[#].breakdown_explained == false "
    "or (fees[#].explanation_language != null and languages != null and not (fees[#].explanation_language in languages)))"
)
ZEN_RULES = {
    "common.act-a-property-held": (
        "filter([0..len(held_property ?? [])-1], held_property[#].item != null "
        f'and not (held_property[#].item in ["passport", "residence_card"]) and held_property[#].holder.role in {_AG})'
    ),
    "common.act-b-penalty-contract": f'filter([0..len(contract_clauses ?? [])-1], contract_clauses[#].kind in ["penalty", "unjust_transfer"] and contract_clauses[#].party.role in {_AG} and contract_clauses[#].concluded == true)',
    "common.act-c-rights-violation": f"filter([0..len(incidents ?? [])-1], incidents[#].perpetrator.role in {_AG})",
    "common.act-d-false-document": f'filter([0..len(documents ?? [])-1], documents[#].finding in ["altered", "false", "forged"] and documents[#].provided_by.role in {_AG})',
    "common.act-e-fee-without-basis": f"filter([0..len(fees ?? [])-1], {_E_BLOCK})",
    "common.act-e-fee-explanation-unknown": (
        f"filter([0..len(fees ?? [])-1], fees[#].amount != null and fees[#].amount > 0 "
        f"and (fees[#].payee.role in {_AG} or fees[#].payee.role == null) and not (fees[#].basis_shown == true) "
        "and not (fees[#].breakdown_explained == true and fees[#].acknowledged == true and fees[#].explanation_language != null "
        f"and fees[#].explanation_language in (languages ?? [])) and not ({_E_BLOCK}))"
    ),
    "common.test-fraud": (
        "filter([0..len(tests ?? [])-1], (tests[#].impersonation_reported == true or tests[#].certificate_forged_or_altered == true) "
        'and (tests[#].kind == "skills" or status_sought == "SSW1"))'
    ),
    "common.dependents-need-ssw2": 'filter([0..len(dependents ?? [])-1], status_sought == "SSW1" and not (dependents[#].accompanying == false))',
    "kh.certificate-missing": 'residence == "abroad" and (certificate == null or certificate.kind == "other")',
    "kh.abroad-without-sending-agency": 'residence == "abroad" and hire_route == "direct" and sending_agency == null',
    "kh.agency-accreditation-lapsed": (
        'residence == "abroad" and ((sending_agency.accreditation.valid_to != null and date(sending_agency.accreditation.valid_to) < date(submitted)) '
        "or (sending_agency.accreditation.valid_from != null and date(sending_agency.accreditation.valid_from) > date(submitted)))"
    ),
}
"""The rules in ZEN's expression language; keys are r0..r10 in ZEN (a dot in a key would nest the output)."""


def zen_expression() -> Any:
    return zen.compile_expression("{" + ", ".join(f'"r{i}": {ZEN_RULES[rule]}' for i, rule in enumerate(RULES)) + "}")


def zen_graph() -> Any:
    """A JDM decision: input -> one expression node with a line per rule -> output, served by a static loader."""
    position = {"x": 0, "y": 0}
    expressions = [{"id": f"x{i}", "key": f"r{i}", "value": ZEN_RULES[rule]} for i, rule in enumerate(RULES)]
    graph = {
        "nodes": [
            {"id": "in", "type": "inputNode", "name": "dossier", "position": position},
            {"id": "rules", "type": "expressionNode", "name": "rules", "position": position, "content": {"expressions": expressions}},
            {"id": "out", "type": "outputNode", "name": "fired", "position": position},
        ],
        "edges": [{"id": "a", "sourceId": "in", "targetId": "rules", "type": "edge"}, {"id": "b", "sourceId": "rules", "targetId": "out", "type": "edge"}],
    }
    return zen.ZenEngine({"loader": {"type": "static", "content": {"rules.json": graph}}})


def zen_fired(result: dict[str, Any]) -> Fired:
    fired: Fired = set()
    for i, rule in enumerate(RULES):
        value = result[f"r{i}"]
        if isinstance(value, list):
            fired.update((rule, int(x)) for x in value)
        elif value:
            fired.add((rule, None))
    return fired


# --------------------------------------------------------------------------- ours


def eleven(packset: PackSet) -> PackSet:
    """The KH pack with only the eleven rules, as a pack set the engine can run."""
    kh = packset.packs["kh"]
    pack = replace(kh, rules=tuple(r for r in kh.rules if r.rule.id in RULES))
    assert {r.rule.id for r in pack.rules} == set(RULES)
    return PackSet(packset.sources, {"kh": pack})


def interpreted_conditions(pack: Any) -> Callable[[dict[str, Any]], list[tuple[int, int | None]]]:
    """The closure interpreter's programs, fired set only (what the engine ran before code generation)."""
    plan = []
    for k, resolved in enumerate(pack.rules):
        rule = resolved.rule
        plan.append((k, rule.program, rule.for_each.getter if rule.for_each else None, rule.spec.for_each.as_ if rule.for_each else None))

    def run(d: dict[str, Any]) -> list[tuple[int, int | None]]:
        env = {ROOT: d, "$as_of": as_date(d["submitted"]), "$registries": None}
        out: list[tuple[int, int | None]] = []
        for k, program, items, name in plan:
            if items is None:
                if program(env):
                    out.append((k, None))
                continue
            for i, item in enumerate(items(env) or ()):
                env[name] = item
                if program(env):
                    out.append((k, i))
        return out

    return run


def report_fired(report: dict[str, Any]) -> Fired:
    return {(f["rule_id"], None if f["item"] is None else int(f["item"].rsplit("/", 1)[1])) for f in report["findings"]}


def engines(packset: PackSet) -> dict[str, tuple[Callable[[bytes], Any], Callable[[Any], Fired]]]:
    """Each engine as (run one JSON line, fired set of its result)."""
    pack = packset.packs["kh"]
    ids = [r.rule.id for r in pack.rules]
    screen = codegen.generate(pack, fired_only=True).load([])["candidate"]
    interpreted = interpreted_conditions(pack)
    generated_engine = Engine(packset, Registries.empty(), max_registry_age=None)
    interpreted_engine = Engine(packset, Registries.empty(), max_registry_age=None, backend="interpreted")
    expression, graph = zen_expression(), zen_graph()
    loads = orjson.loads

    def generated(line: bytes) -> list[tuple[int, int | None]]:
        d = loads(line)
        out: list[tuple[int, int | None]] = []
        screen(d, as_date(d["submitted"]), None, out)
        return out

    def by_index(fired: list[tuple[int, int | None]]) -> Fired:
        return {(ids[k], i) for k, i in fired}

    return {
        "orjson parse only (floor)": (loads, lambda _: None),  # type: ignore[dict-item]
        "hand-written Python on the parsed dict": (lambda line: hand_written(loads(line)), set),
        "ours: generated code, fired set only": (generated, by_index),
        "ours: closure interpreter, fired set only": (lambda line: interpreted(loads(line)), by_index),
        "**ours: `Engine.evaluate_data`, report with bilingual findings**": (
            lambda line: generated_engine.evaluate_data(loads(line), timestamp=False),
            report_fired,
        ),
        "ours: `evaluate_data` with the closure interpreter": (lambda line: interpreted_engine.evaluate_data(loads(line), timestamp=False), report_fired),
        "GoRules ZEN, one compiled expression (parsed dict in)": (lambda line: expression.evaluate(loads(line)), zen_fired),
        "GoRules ZEN, JDM graph (JSON bytes in)": (lambda line: graph.evaluate("rules.json", line)["result"], zen_fired),
    }


# --------------------------------------------------------------------------- the run


def dossiers(n: int, seed: int) -> list[bytes]:
    """Cambodian candidates from bench.py's generator: about 30 % with one or two problems."""
    rng = random.Random(seed)
    lines = []
    for i in range(n):
        record = bench.candidate(rng, i, "KH")
        if rng.random() < 0.3:
            for problem in rng.sample(bench.PROBLEMS, rng.choice([1, 1, 2])):
                problem(record, rng)
        lines.append(orjson.dumps(record))
    return lines


def edge_cases(packset: PackSet) -> list[bytes]:
    """Every test case of every KH rule: the dossiers the rule authors chose at each rule's edges."""
    pack = packset.packs["kh"]
    return [orjson.dumps(case_dossier(pack, r, i)) for r in pack.rules if r.rule.spec.applies_to == "candidate" for i in range(len(r.rule.spec.tests))]


def agree(runs: dict[str, tuple[Callable[[bytes], Any], Callable[[Any], Fired]]], lines: list[bytes], what: str) -> dict[str, int]:
    """Stop unless every engine fires the same (rule, item) pairs on every line; how often each rule fired."""
    reference_name = "ours: closure interpreter, fired set only"
    run, fired_of = runs[reference_name]
    expected = [fired_of(run(line)) for line in lines]
    for name, (run, fired_of) in runs.items():
        if name.startswith("orjson"):
            continue
        for line, want in zip(lines, expected, strict=True):
            got = fired_of(run(line))
            if got != want:
                raise SystemExit(f"{name} disagrees on {what}: {sorted(map(str, got ^ want))}\n{line.decode()}")
    counts = dict.fromkeys(RULES, 0)
    for fired in expected:
        for rule, _ in fired:
            counts[rule] += 1
    return counts


def timed(run: Callable[[bytes], Any], lines: list[bytes]) -> float:
    """CPU seconds of this process for one pass (on an idle core the same as wall time; on a shared one, fairer)."""
    start = time.process_time()
    for line in lines:
        run(line)
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    packset = eleven(load_packs(default_packs_dir()))
    runs = engines(packset)
    lines = dossiers(args.n, args.seed)
    cases = edge_cases(load_packs(default_packs_dir()))
    agree(runs, cases, "the KH rules' test cases")
    counts = agree(runs, lines, "the generated dossiers")
    print(f"{args.n:,} Cambodian dossiers (seed {args.seed}) and {len(cases)} test-case dossiers: every engine fired the same (rule, item) pairs")
    print("findings per rule on the timed input: " + ", ".join(f"{rule} {n:,}" for rule, n in counts.items()))
    silent = [rule for rule, n in counts.items() if n == 0]
    if silent:
        raise SystemExit(f"these rules never fire on the timed input, so it would only time them passing: {silent}")
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.runs):
        for name, (run, _) in runs.items():
            seconds[name].append(timed(run, lines))
    rate = {name: args.n / statistics.median(s) for name, s in seconds.items()}
    ours = rate["**ours: `Engine.evaluate_data`, report with bilingual findings**"]
    hand = rate["hand-written Python on the parsed dict"]
    print()
    print(f"| engine, same {len(RULES)} rules | dossiers/s | vs hand-written Python | vs our report-building evaluation |")
    print("|---|---:|---:|---:|")
    for name in sorted(rate, key=rate.__getitem__, reverse=True):
        print(f"| {name} | {rate[name]:,.0f} | {rate[name] / hand:.2f}x | {rate[name] / ours:.2f}x |")
    zen_best = rate["GoRules ZEN, one compiled expression (parsed dict in)"]
    print()
    print(f"conditions: generated code {rate['ours: generated code, fired set only'] / hand:.2f}x hand-written (target >= 0.9x)")
    print(f"evaluate_data with findings: {ours / hand:.2f}x hand-written (target >= 0.6x), {ours / zen_best:.2f}x ZEN's compiled expression (target >= 1.5x)")
    print(f"median of {args.runs} interleaved runs over {args.n:,} dossiers, CPU time of one process; Python {sys.version.split()[0]}")
    print(json.dumps({"rates": rate}), file=sys.stderr)


if __name__ == "__main__":
    main()
