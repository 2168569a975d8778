"""``packs new CC``: the skeleton of a country pack, built from the abstract pack it extends.

Encoding a new MOC starts from what the shared rules already need: every
``{provision}`` placeholder they cite (each MOC numbers its articles
differently), the MOC facts that reports and sharing notices print, a clean
test dossier per kind, and a place for the country's own rules with a test
that fires and one that must not. Every value the author must take from the
MOC text is written ``TODO``; ``packs lint`` lists each remaining one with
its line, so a scaffold cannot be shipped half filled in.
"""

from __future__ import annotations

import re
from pathlib import Path

from .labels import cldr_name
from .packs import PackSet, PackSource, TestBase
from .problems import InputError, Problem

TODO = "TODO"
_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
_WORDING = re.compile(r"\{@([a-z][a-z0-9_]*)\}")
_CODE = re.compile(r"^[A-Z]{2}$")


def placeholders(parent: PackSource) -> list[str]:
    """Every ``{provision}`` the parent's rules and article list cite, in order of first use."""
    texts = [entry.article for entry in parent.spec.pack.articles]
    for rule in parent.rules:
        texts += [rule.spec.article, *rule.spec.also]
    found: dict[str, None] = {}
    for text in texts:
        found.update(dict.fromkeys(_PLACEHOLDER.findall(text)))
    return list(found)


def wordings(parent: PackSource) -> list[str]:
    """Every ``{@name}`` wording the parent's rules quote (messages and effects), in order of first use."""
    found: dict[str, None] = {}
    for rule in parent.rules:
        spec = rule.spec
        texts = [spec.message.ja, spec.message.en] + ([spec.effect.ja, spec.effect.en] if spec.effect else [])
        for text in texts:
            found.update(dict.fromkeys(_WORDING.findall(text)))
    return list(found)


def new_pack(packset: PackSet, country: str, parent_id: str = "common") -> str:
    """The YAML text of a new pack for ``country`` extending ``parent_id``; raise :class:`InputError` if it cannot be."""
    code = country.upper()
    if not _CODE.match(code):
        raise InputError([Problem(country, "a country is a two-letter ISO 3166-1 code such as VN or NP", kind="invalid")])
    if code == "JP":
        raise InputError([Problem(country, "JP is Japan, the other party of every MOC; give the partner country", kind="invalid")])
    if (existing := packset.for_country(code)) is not None:
        raise InputError([Problem(str(existing.source.path), f"country {code} already has pack '{existing.id}'", kind="invalid")])
    parent = packset.sources.get(parent_id)
    if parent is None or not parent.spec.pack.abstract:
        abstract = ", ".join(sorted(s.id for s in packset.sources.values() if s.spec.pack.abstract)) or "none"
        raise InputError([Problem(parent_id, f"not an abstract pack to extend; abstract packs here: {abstract}", kind="not_found")])
    return _render(code, parent)


def _render(code: str, parent: PackSource) -> str:
    cc = code.lower()
    provisions = "\n".join(f'    {name}: "{TODO}"' for name in placeholders(parent)) or "    {}"
    words = "\n".join(f'    {name}: {{ja: "{TODO}", en: "{TODO}"}}' for name in wordings(parent)) or "    {}"
    used = {rule.spec.applies_to for rule in parent.rules} | {"candidate"}
    kinds = [kind for kind in TestBase.model_fields if kind in used]  # the order packs fmt writes them
    bases = "\n".join(_BASES[kind].format(cc=cc, CC=code) for kind in kinds)
    names = [cldr_name(code, lang) for lang in ("ja", "en")]
    name = f"only if the MOC names the country otherwise than CLDR ({names[0]} / {names[1]})" if all(names) else f"CLDR has no name for {code}: give one"
    return _TEMPLATE.format(cc=cc, CC=code, parent=parent.id, provisions=provisions, words=words, bases=bases, rules=len(parent.rules), TODO=TODO, name=name)


def write_new_pack(packset: PackSet, directory: Path, country: str, parent_id: str = "common") -> Path:
    """Write ``<directory>/<cc>.yaml``; never overwrite a file."""
    text = new_pack(packset, country, parent_id)
    path = directory / f"{country.lower()}.yaml"
    if path.exists():
        raise InputError([Problem(str(path), "file exists; choose another directory or remove it first", kind="invalid")])
    path.write_text(text, encoding="utf-8")
    return path


def todo_problems(path: Path) -> list[Problem]:
    """Each ``TODO`` left in a pack file, with its line (lint reports them until the MOC facts are filled in)."""
    problems = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        content = line.split("#", 1)[0] if not line.lstrip().startswith("#") else ""
        if TODO in content:
            problems.append(Problem(str(path), "still a TODO from 'packs new': fill it in from the MOC text", kind="todo", line=number))
    return problems


_BASES = {
    "candidate": """  candidate:                  # a clean candidate: no rule fires on it; each test patches it
    dossier_id: {CC}-TEST-CAND
    kind: candidate
    country: {CC}
    submitted: "2025-04-01"
    identity: {{name: Test Candidate, nationality: {CC}}}
    languages: [en]
    residence: abroad
    status_sought: SSW1
    sector: agriculture
    hire_route: direct
    tests:
      - {{kind: skills, name: Skills Test, certificate_number: SK-TEST, identity_verified: true}}
      - {{kind: japanese, name: JFT-Basic, certificate_number: JFT-TEST-{CC}, identity_verified: true}}
    fees: []
    held_property: []
    contract_clauses: []
    incidents: []
    documents: []
    dependents: []""",
    "broker": """  broker:                     # a clean broker
    dossier_id: {CC}-TEST-BROKER
    kind: broker
    country: {CC}
    submitted: "2025-04-01"
    name: Test Broker
    role: intermediary
    legal_form: corporate
    based_in: {CC}
    fee_schedule: {{published: true, basis_shown: true, breakdown_shown: true}}
    practices: {{holds_passports: false, takes_deposits: false, penalty_contracts: false}}
    complaints: []""",
}

_TEMPLATE = """# {CC}: the MOC on the Specified Skilled Worker system with {CC}.
# Scaffolded by `dossier-rules packs new {CC}` from `{parent}` ({rules} shared rules).
# Replace every {TODO} with what the MOC text says (`dossier-rules packs lint` lists those left),
# then run `dossier-rules packs test {cc}` and `dossier-rules packs coverage`.
# docs/authoring.md walks through the whole encoding.

pack:
  id: {cc}
  version: 0.1.0
  country: {CC}
  # country_name: {{ja: ..., en: ...}}  # {name}
  # currency: USD                     # the currency the form offers first, when fees are not quoted in CLDR's currency of the country
  extends: [{parent}]
  title:
    ja: "{TODO}: （相手国名）との特定技能に関する協力覚書（相手国省庁名、署名年）"
    en: "{TODO}: Japan-partner MOC (partner ministry, year signed)"
  moc:
    partner_ministry: {{ja: "{TODO}", en: "{TODO}", abbrev: "{TODO}"}}
    contact_points:                   # the article naming the contact points
      article: "{TODO}"
      japan: {{ja: "{TODO}", en: "{TODO}"}}
      partner: {{ja: "{TODO}", en: "{TODO}"}}
    confidentiality:                  # scope: third_parties, or anyone when nothing may be disclosed without consent
      article: "{TODO}"
      scope: third_parties
      text: {{ja: "{TODO}", en: "{TODO}"}}
    signed:
      - {{on: "2000-01-01", place: "{TODO}: the place, and the date in 'on'"}}
    in_force:                         # starts_on: null while the start depends on an event not yet known
      article: "{TODO}"
      starts_on: null
      start_rule: {{ja: "{TODO}", en: "{TODO}"}}
  wording:                            # this MOC's own words where the texts differ, quoted by the shared rules as {{@name}}
{words}
  provisions:                         # this MOC's article for each provision the shared rules cite
{provisions}
  articles:                           # the provisions only this MOC has (the coverage matrix lists them)
    - article: "{TODO}"
      title: {{ja: "{TODO}", en: "{TODO}"}}
      not_checkable: {{ja: "{TODO}: 案件の記載で確認できない理由、又は削除してルールで扱う", en: "{TODO}: why no dossier can show it, or remove this and write a rule"}}
  # dossier_fields:                   # facts only this MOC asks for; dossiers carry them under country_fields
  #   candidate:                      # in the order the form and the schema show them
  #     pre_departure_training: {{type: bool, title: {{ja: 出国前研修の受講, en: Pre-departure training attended}}}}
  #     orientation_issuer:
  #       type: string
  #       choices:                      # every value with its label: messages and the form show the label
  #         ministry: {{ja: 労働省, en: Ministry of Labour}}
  #         other: {{ja: その他の発行者, en: another issuer}}
  #       title: {{ja: 出国前オリエンテーション修了証の発行者, en: Issuer of the pre-departure orientation certificate}}

test_base:
{bases}

rules: []
  # Each rule of this MOC alone, with a case that fires and one that must not:
  # - id: {cc}.example
  #   title: {{ja: ..., en: ...}}
  #   article: "..."                  # an article of this MOC, listed above or in {parent}
  #   applies_to: candidate
  #   severity: warn
  #   when: {{missing: certificate}}
  #   message: {{ja: ..., en: ...}}   # what was found; a block or shared rule adds 'effect' (what it does under the MOC)
  #                                    # and a block 'basis' (an article listed with 'acceptance', or basis.domestic)
  #   tests:
  #     - {{name: fires, expect: fire, dossier: {{certificate: null}}}}
  #     - {{name: passes, expect: pass, dossier: {{certificate: {{number: C-1}}}}}}
"""
