"""A new country is a pack, not a code change: a fictional MOC encoded from `packs new` to shared notices.

Everything below goes through the command line, as a rule author would,
against a pack directory that holds only the shipped ``common`` pack and the
new one: no Python of the project is touched, and nothing names the five
shipped countries.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from dossier_rules.cli import main
from dossier_rules.engine import Engine
from dossier_rules.locale import use_language
from dossier_rules.model import CandidateDossier
from dossier_rules.packs import load_packs, show_value
from dossier_rules.registries import load_registries
from dossier_rules.sources import check_dossier_data
from dossier_rules.testing import case_dossier, pack_test_registries, run_tests
from dossier_rules.web import forms

from .conftest import RULES, SAMPLES
from .strategies import budget, dossiers

OWN_PART = """
  country_name: {ja: ヴェニア共和国, en: Republic of Venia}
  currency: SGD
  dossier_fields:
    candidate:
      pre_departure_training: {type: bool, title: {ja: 出国前研修の受講, en: Pre-departure training attended}}
      training_hours: {type: number, title: {ja: 研修時間, en: Training hours}}
      orientation_certificate_number: {type: string, title: {ja: 出国前オリエンテーション修了証の番号, en: Pre-departure orientation certificate number}}
      orientation_issuer:
        type: string
        choices:
          ministry: {ja: 送出国の労働省, en: the sending country's ministry of labour}
          other: {ja: 省以外の発行者, en: an issuer other than the ministry}
        title: {ja: 同修了証の発行者, en: Issuer of that certificate}
"""

OWN_RULES = """rules:
  - id: vn.training-not-attended
    title: {ja: 出国前研修を受講していない, en: Pre-departure training not attended}
    article: "Filled in"
    applies_to: candidate
    severity: warn
    when:
      any:
        - {field: country_fields.pre_departure_training, eq: false}
        - {field: country_fields.training_hours, lt: 100}
    message:
      ja: 出国前研修の受講が確認できません（{country_fields.training_hours} 時間）。
      en: Pre-departure training was not attended ({country_fields.training_hours} hours).
    evidence: [country_fields.pre_departure_training]
    tests:
      - {name: not attended, expect: fire, dossier: {country_fields: {pre_departure_training: false}}}
      - {name: attended, expect: pass, dossier: {country_fields: {pre_departure_training: true, training_hours: 120}}}
  - id: vn.orientation-not-from-ministry
    title: {ja: 出国前オリエンテーション修了証が省の発行でない, en: Orientation certificate not issued by the ministry}
    article: "Filled in"
    applies_to: candidate
    severity: warn
    when:
      all:
        - {exists: country_fields.orientation_certificate_number}
        - {field: country_fields.orientation_issuer, ne: ministry}
    message:
      ja: 出国前オリエンテーション修了証（{country_fields.orientation_certificate_number}）の発行者が{country_fields.orientation_issuer}です。
      en: The pre-departure orientation certificate {country_fields.orientation_certificate_number} was issued by {country_fields.orientation_issuer}.
    evidence: [country_fields.orientation_issuer]
    tests:
      - {name: other issuer, expect: fire, dossier: {country_fields: {orientation_certificate_number: O-1, orientation_issuer: other}}}
      - {name: the ministry, expect: pass, dossier: {country_fields: {orientation_certificate_number: O-1, orientation_issuer: ministry}}}
      - {name: no certificate, expect: pass, dossier: {country_fields: {orientation_issuer: other}}}
  - id: vn.agency-not-accredited
    title: {ja: 送出機関が認定一覧にない, en: Sending agency not on the accreditation list}
    article: "Filled in"
    applies_to: candidate
    severity: block
    basis:
      article: "Filled in"
      text: {ja: 認定送出機関を通じてのみ送り出す。, en: Candidates are sent only through accredited agencies.}
      domestic: {instrument: {ja: 架空の法令, en: A fictional act}, article: {ja: 第1条, en: art. 1}}
    when: {field: sending_agency.accreditation.number, not_listed_in: accredited-agencies}
    message: {ja: 認定一覧にありません。, en: Not on the accreditation list.}
    effect: {ja: 不適合です。, en: It does not meet the standards.}
    tests:
      - {name: unknown agency, expect: fire, dossier: {sending_agency: {role: sending_agency, accreditation: {number: VN-X}}}}
      - {name: listed agency, expect: pass, dossier: {sending_agency: {role: sending_agency, accreditation: {number: VN-ACC-1}}}}
test_registries:
  accredited-agencies:
    - {id: VN-ACC-1, name: Listed Agency, listed_from: "2020-01-01"}
"""


def cli(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def fill_in(text: str, code: str = "VN") -> str:
    """What the author does with the scaffold: an article number per provision, the MOC's words elsewhere
    (the country's own part written for ``code``)."""
    names = re.findall(r'^    ([a-z_]+): "TODO"$', text, flags=re.M)
    for number, name in enumerate(names, 10):
        text = text.replace(f'    {name}: "TODO"', f'    {name}: "{number}"')
    text = re.sub(r'"TODO[^"]*"', '"Filled in"', text)
    text = text.replace("starts_on: null", 'starts_on: "2020-01-01"').replace('on: "2000-01-01"', 'on: "2019-12-01"')
    text = text.replace("  articles:", OWN_PART.strip("\n") + "\n  articles:", 1)
    own = OWN_RULES.replace("vn.", f"{code.lower()}.").replace("VN-", f"{code}-")
    return text.replace("rules: []\n", own, 1)


def dossier(**fields: Any) -> dict[str, Any]:
    base = {"dossier_id": "VN-1", "kind": "candidate", "country": "VN", "submitted": "2025-04-01", "identity": {"name": "A"}}
    return {**base, **fields}


def test_a_fictional_country_from_scaffold_to_notices(tmp_path: Path) -> None:
    packs = tmp_path / "rules"
    packs.mkdir()
    shutil.copy(RULES / "common.yaml", packs / "common.yaml")
    assert cli("packs", "new", "VN", "--packs", str(packs)).exit_code == 0
    pack_file = packs / "vn.yaml"

    # the scaffold loads, the shared rules' tests already pass under it, and lint lists what is left to fill in
    scaffold = pack_file.read_text(encoding="utf-8")
    assert cli("packs", "test", "--packs", str(packs)).exit_code == 0
    linted = cli("packs", "lint", str(pack_file))
    todo_lines = [n for n, line in enumerate(scaffold.splitlines(), 1) if "TODO" in line.split("#", 1)[0]]
    assert linted.exit_code == 1 and todo_lines
    assert [int(m) for m in re.findall(r"vn\.yaml:(\d+): still a TODO", linted.stderr)] == todo_lines
    provisions = set(re.findall(r'^    ([a-z_]+): "TODO"$', scaffold, flags=re.M))
    common_text = (RULES / "common.yaml").read_text(encoding="utf-8")
    assert provisions == set(re.findall(r'article: "\{([a-z_]+)\}', common_text))

    pack_file.write_text(fill_in(scaffold), encoding="utf-8")
    linted = cli("packs", "lint", str(packs))
    assert linted.exit_code == 0, linted.output + linted.stderr
    tested = cli("packs", "test", "vn", "--packs", str(packs), "--format", "json")
    assert tested.exit_code == 0 and json.loads(tested.output)["passed"] == json.loads(tested.output)["cases"]

    # registry import knows VN because a VN rule consults the accreditation list
    csv_file = tmp_path / "list.csv"
    csv_file.write_text("id,name,listed_from,ended_on,ended_because,note\nVN-ACC-1,Listed Agency,2020-01-01,,,\n", encoding="utf-8")
    imported = cli(
        "registry",
        "import",
        str(csv_file),
        "--country",
        "VN",
        "--kind",
        "accredited-agencies",
        "--source",
        "ministry list",
        "--retrieved-on",
        "2025-03-01",
        "--packs",
        str(packs),
    )
    assert imported.exit_code == 0, imported.output
    assert (packs / "registries" / "vn-accredited-agencies.json").exists()

    # check and batch screen VN dossiers, country fields included, and refuse undeclared ones
    fee = {
        "payee": {"id": "B-9", "name": "Broker Nine", "role": "intermediary"},
        "amount": 900,
        "currency": "USD",
        "basis_shown": False,
        "breakdown_explained": False,
    }
    dossiers = [
        dossier(
            dossier_id="VN-1",
            country_fields={"pre_departure_training": False, "orientation_certificate_number": "O-7", "orientation_issuer": "other"},
            fees=[fee],
            hire_route="sending_agency",
            sending_agency={"role": "sending_agency", "accreditation": {"number": "VN-ACC-1"}},
        ),
        dossier(
            dossier_id="VN-2",
            country_fields={"pre_departure_training": True, "training_hours": 120},
            sending_agency={"role": "sending_agency", "accreditation": {"number": "VN-UNKNOWN"}},
        ),
        dossier(dossier_id="VN-3", country_fields={"pre_departure_trainig": True}),
        dossier(dossier_id="VN-4", country_fields={"training_hours": "many"}),
    ]
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(d) + "\n" for d in dossiers), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    batch = cli("batch", str(source), "--out", str(out), "--packs", str(packs), "--jobs", "1")
    assert batch.exit_code == 2  # two records are unusable
    records = [r for line in out.read_text(encoding="utf-8").splitlines() if "record_type" not in (r := json.loads(line))]
    fired = [{f["rule_id"] for f in r.get("findings", [])} for r in records]
    assert "vn.training-not-attended" in fired[0] and "vn.agency-not-accredited" not in fired[0]
    assert "common.act-e-fee-without-basis" in fired[0]
    assert "vn.agency-not-accredited" in fired[1] and "vn.training-not-attended" not in fired[1]
    assert records[0]["pack"] == "vn" and any(f["article"].startswith("MOC-VN ") for f in records[0]["findings"])
    (misspelt,) = records[2]["errors"]
    assert misspelt["pointer"] == "/country_fields/pre_departure_trainig" and 'did you mean "pre_departure_training"' in misspelt["message"]
    assert "declared by pack vn" in misspelt["message"]
    assert [e["pointer"] for e in records[3]["errors"]] == ["/country_fields/training_hours"] and "use a number" in records[3]["errors"][0]["message"]
    (orientation,) = [f for f in records[0]["findings"] if f["rule_id"] == "vn.orientation-not-from-ministry"]
    assert "省以外の発行者" in orientation["message"]["ja"] and "an issuer other than the ministry" in orientation["message"]["en"]
    assert "other" not in orientation["message"]["ja"]
    assert show_value("VN", "ja", "country") == "ヴェニア共和国" and show_value("VN", "en", "country") == "Republic of Venia"
    with use_language("ja"):  # the form offers the pack's currency first (not CLDR's VND), named by CLDR
        (fees,) = [c for c in forms.controls(CandidateDossier, {"fees": [{}]}, {}, context=forms.Context("VN")) if c.name == "fees"]
    assert {c.key: c for c in fees.rows[0]}["currency"].choices[1] == ("SGD", "シンガポール ドル")
    (tmp_path / "vn-3.json").write_text(json.dumps(dossiers[2], indent=2), encoding="utf-8")
    typo_line = next(n for n, row in enumerate((tmp_path / "vn-3.json").read_text(encoding="utf-8").splitlines(), 1) if "pre_departure_trainig" in row)
    japanese = cli("check", str(tmp_path / "vn-3.json"), "--packs", str(packs), "--lang", "ja")
    assert japanese.exit_code == 2 and "/country_fields/pre_departure_trainig" in japanese.output + japanese.stderr
    assert f"vn-3.json:{typo_line}" in japanese.output + japanese.stderr  # the file, the line and the pointer
    assert (
        "「pre_departure_training」の誤りではありませんか" in japanese.output + japanese.stderr and "候補者案件の国別項目" in japanese.output + japanese.stderr
    )
    assert all(e["line"] == n for n, r in ((3, records[2]), (4, records[3])) for e in r["errors"])

    single = tmp_path / "vn-1.json"
    single.write_text(json.dumps(dossiers[0]), encoding="utf-8")
    checked = cli("check", str(single), "--packs", str(packs), "--format", "json", "--fail-on", "warn")
    assert checked.exit_code == 1 and "vn.training-not-attended" in checked.output

    # share build drafts a notice to the VN contact point from the batch reports
    shared = cli("share", "build", str(out), "--outbox", str(tmp_path / "outbox.sqlite"), "--packs", str(packs))
    listed = cli("share", "list", "--format", "json", "--outbox", str(tmp_path / "outbox.sqlite"))
    assert "1 notice(s) built" in shared.output
    assert [n["country"] for n in json.loads(listed.output)] == ["VN"]

    # the published schemas are generated for the packs present: VN and its own fields
    schemas_dir = tmp_path / "schemas"
    assert cli("schemas", "write", "--dir", str(schemas_dir), "--packs", str(packs)).exit_code == 0
    candidate = json.loads((schemas_dir / "candidate.schema.json").read_text(encoding="utf-8"))
    assert candidate["properties"]["country"]["enum"] == ["VN"]
    (vn_only,) = candidate["allOf"]
    fields = vn_only["then"]["properties"]["country_fields"]["properties"]
    assert fields["pre_departure_training"]["type"] == "boolean" and fields["training_hours"]["type"] == "number"
    assert load_packs(packs).countries == ["VN"]


def test_packs_new_refuses_what_it_cannot_scaffold(tmp_path: Path) -> None:
    packs = tmp_path / "rules"
    packs.mkdir()
    shutil.copy(RULES / "common.yaml", packs / "common.yaml")
    for country, fragment in (("VNM", "two-letter"), ("JP", "JP is Japan")):
        result = cli("packs", "new", country, "--packs", str(packs))
        assert result.exit_code == 2 and fragment in result.stderr
    assert cli("packs", "new", "VN", "--packs", str(packs), "--extends", "nowhere").exit_code == 2
    assert cli("packs", "new", "vn", "--packs", str(packs)).exit_code == 0
    again = cli("packs", "new", "VN", "--packs", str(packs))
    assert again.exit_code == 2 and "already has pack 'vn'" in again.stderr


def test_lint_reports_every_stage_in_file_and_line_order_and_what_rete_refuses(tmp_path: Path) -> None:
    packs = tmp_path / "rules"
    packs.mkdir()
    shutil.copy(RULES / "common.yaml", packs / "common.yaml")
    cli("packs", "new", "VN", "--packs", str(packs))
    text = fill_in((packs / "vn.yaml").read_text(encoding="utf-8"))
    # a rule only the native engine runs, a test dossier that is not a dossier, and a TODO left behind
    text = text.replace(
        "when: {field: sending_agency.accreditation.number, not_listed_in: accredited-agencies}",
        "when: {some: {in: fees, as: f, where: {count: {in: dependents}, gt: 1}}}",
    )
    text = text.replace(
        "{name: unknown agency, expect: fire, dossier: {sending_agency: {role: sending_agency, accreditation: {number: VN-X}}}}",
        "{name: unknown agency, expect: fire, dossier: {fees: [{amount: -1}], dependents: [{relation: child}, {relation: child}]}}",
    )
    text = text.replace('abbrev: "Filled in"', 'abbrev: "TODO"')
    (packs / "vn.yaml").write_text(text, encoding="utf-8")
    result = cli("packs", "lint", str(packs))
    lines = [line for line in result.stderr.splitlines() if "vn.yaml" in line]
    numbers = [int(re.search(r"vn\.yaml(?: \(test [^)]*\))?:(\d+)", line).group(1)) for line in lines]  # type: ignore[union-attr]
    assert numbers == sorted(numbers) and len(lines) == 3, result.stderr
    assert "still a TODO" in lines[0] and "/fees/0/amount" in result.stderr
    assert any("vn.agency-not-accredited" in line and "aggregate" in line and "--engine rete refuses" in line for line in lines)
    assert result.exit_code == 1


def test_a_yaml_syntax_error_names_file_line_and_what_to_do(tmp_path: Path) -> None:
    packs = tmp_path / "rules"
    packs.mkdir()
    shutil.copy(RULES / "common.yaml", packs / "common.yaml")
    (packs / "vn.yaml").write_text("pack:\n  id: vn\n  title: {ja: x, en: y\n  version: 1.0.0\n", encoding="utf-8")
    result = cli("packs", "lint", str(packs / "vn.yaml"))
    assert result.exit_code == 1
    (line,) = [line for line in result.stderr.splitlines() if "vn.yaml" in line]
    assert "vn.yaml:4: invalid YAML" in line and "close every bracket and quotation mark" in line


def test_a_sixth_country_beside_the_shipped_ones_passes_every_generic_check(tmp_path: Path) -> None:
    """rules/ copied, a generated pack added (country fields, a registry it consults, a requirement of its own):
    what the suite checks of the shipped packs holds for all of them, with nothing in the project changed."""
    packs = tmp_path / "rules"
    shutil.copytree(RULES, packs)
    shipped = load_packs(RULES)
    assert cli("packs", "new", "ZX", "--packs", str(packs)).exit_code == 0
    (packs / "zx.yaml").write_text(fill_in((packs / "zx.yaml").read_text(encoding="utf-8"), "ZX"), encoding="utf-8")
    packset = load_packs(packs)
    assert packset.countries == sorted([*shipped.countries, "ZX"])

    # lint, every pack's cases (rule coverage both ways, branch coverage reported), the provision matrix
    linted = cli("packs", "lint", str(packs))
    assert linted.exit_code == 0, linted.output + linted.stderr
    run = run_tests(packset)
    assert run.ok and run.uncovered == [] and {p for p, _ in run.coverage} == set(packset.packs)
    matrix = tmp_path / "coverage.md"
    assert cli("packs", "coverage", "--packs", str(packs), "--output", str(matrix)).exit_code == 0
    assert all(f"## {country}:" in matrix.read_text(encoding="utf-8") for country in packset.countries)

    # the three backends: generated = interpreted on every case of every pack; Rete decides every case the same
    for pack in packset.packs.values():
        generated = Engine(packset, pack_test_registries(pack), max_registry_age=None)
        interpreted = Engine(packset, pack_test_registries(pack), max_registry_age=None, backend="interpreted")
        for resolved in pack.rules:
            for index, case in enumerate(resolved.rule.spec.tests):
                dossier_data = case_dossier(pack, resolved, index)
                assert generated.evaluate_data(dossier_data, case.as_of, timestamp=False) == interpreted.evaluate_data(
                    dossier_data, case.as_of, timestamp=False
                )
    if importlib.util.find_spec("durable") is not None:
        # in a process of its own: durable-rules keeps its rulesets per process, and earlier tests of the suite made some
        rete = subprocess.run(
            [sys.executable, "-m", "dossier_rules", "packs", "test", "--packs", str(packs), "--engine", "rete"], capture_output=True, text=True, check=False
        )
        assert rete.returncode == 0 and " 0 failed" in rete.stdout, rete.stdout[-2000:] + rete.stderr[-2000:]

    # the schemas and the form know the new country and its fields, in the pack's order, each choice labelled
    assert cli("schemas", "write", "--dir", str(tmp_path / "schemas"), "--packs", str(packs)).exit_code == 0
    schema = json.loads((tmp_path / "schemas" / "candidate.schema.json").read_text(encoding="utf-8"))
    assert schema["properties"]["country"]["enum"] == packset.countries
    declared = dict(packset.packs["zx"].meta.dossier_fields["candidate"])
    with use_language("ja"):
        (group,) = [c for c in forms.controls(CandidateDossier, {}, {}, declared=declared) if c.name == "country_fields"]
    assert [c.key for c in group.children] == list(declared)
    issuer = next(c for c in group.children if c.key == "orientation_issuer")
    assert [label for value, label in issuer.choices if value] == ["送出国の労働省", "省以外の発行者"]

    # notices: a ZX broker fee without a basis, shared with ZX's contact point, beside the shipped countries' samples
    source = tmp_path / "in.jsonl"
    zx = dossier(
        dossier_id="ZX-1",
        country="ZX",
        fees=[
            {
                "payee": {"id": "B-9", "name": "Broker Nine", "role": "intermediary"},
                "amount": 900,
                "currency": "USD",
                "basis_shown": False,
                "breakdown_explained": False,
            }
        ],
    )
    samples = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(SAMPLES.glob("*.json"))]
    source.write_text("".join(json.dumps(d) + "\n" for d in [*samples, zx]), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert cli("batch", str(source), "--out", str(out), "--packs", str(packs), "--jobs", "1").exit_code in (0, 1)
    built = cli("share", "build", str(out), "--outbox", str(tmp_path / "o.sqlite"), "--packs", str(packs))
    listed = json.loads(cli("share", "list", "--format", "json", "--outbox", str(tmp_path / "o.sqlite")).output)
    assert built.exit_code == 0 and "ZX" in {n["country"] for n in listed}


@settings(max_examples=budget(300))
@given(data=st.data())
def test_generated_dossiers_of_six_countries_agree_on_generated_and_interpreted_code(data: st.DataObject, sixth_country: Any) -> None:
    generated, interpreted, packset = sixth_country
    drawn = check_dossier_data(data.draw(dossiers(packset)), "generated")
    assert generated.evaluate_data(drawn, timestamp=False) == interpreted.evaluate_data(drawn, timestamp=False), json.dumps(drawn, ensure_ascii=False)


@pytest.fixture(scope="module")
def sixth_country(tmp_path_factory: pytest.TempPathFactory) -> Any:
    packs = tmp_path_factory.mktemp("six") / "rules"
    shutil.copytree(RULES, packs)
    cli("packs", "new", "ZX", "--packs", str(packs))
    (packs / "zx.yaml").write_text(fill_in((packs / "zx.yaml").read_text(encoding="utf-8"), "ZX"), encoding="utf-8")
    packset = load_packs(packs)
    registries = load_registries(packs / "registries")
    return Engine(packset, registries, max_registry_age=None), Engine(packset, registries, max_registry_age=None, backend="interpreted"), packset


def test_choices_without_labels_are_refused_at_the_line(tmp_path: Path) -> None:
    packs = tmp_path / "rules"
    packs.mkdir()
    shutil.copy(RULES / "common.yaml", packs / "common.yaml")
    cli("packs", "new", "VN", "--packs", str(packs))
    text = fill_in((packs / "vn.yaml").read_text(encoding="utf-8"))
    labelled = text[text.index("        choices:\n") : text.index("        title: {ja: 同修了証の発行者")]
    (packs / "vn.yaml").write_text(text.replace(labelled, "        choices: [ministry, other]\n"), encoding="utf-8")
    line = next(n for n, row in enumerate((packs / "vn.yaml").read_text(encoding="utf-8").splitlines(), 1) if "choices: [ministry, other]" in row)
    linted = cli("packs", "lint", str(packs))
    assert linted.exit_code == 1 and f"vn.yaml:{line}:" in linted.stderr and "need their labels in both languages" in linted.stderr
