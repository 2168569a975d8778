"""Messages read as a person would write them: enumerated values by their label, never a raw code, in both languages."""

from __future__ import annotations

import re
from typing import Any

import pytest

from dossier_rules import labels
from dossier_rules.conditions import type_of_model
from dossier_rules.engine import Engine
from dossier_rules.model import KINDS
from dossier_rules.packs import PackSet, show_value
from dossier_rules.testing import case_dossier, pack_test_registries

CODES = {code for table in labels.ENUMS.values() for code in table if len(code) > 2}


def _word(code: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![A-Za-z0-9_]){re.escape(code)}(?![A-Za-z0-9_])")


def _suspect(lang: str) -> set[str]:
    """Codes that can only be raw in ``lang``: no label in that language is, or contains, the code as a word."""
    index = 0 if lang == "ja" else 1
    wording = [label[index] for table in labels.ENUMS.values() for label in table.values()]
    return {code for code in CODES if not any(_word(code).search(text) for text in wording)}


SUSPECT = {lang: _suspect(lang) for lang in ("ja", "en")}


def raw_codes(text: str, lang: str, allowed: set[str]) -> set[str]:
    """Enumerated codes that stand in ``text`` as themselves (not as their label, nor quoted from free text)."""
    return {code for code in SUSPECT[lang] if code not in allowed and _word(code).search(text)}


def free_words(value: Any) -> set[str]:
    """Words of the dossier's free text (names, descriptions), which a message may quote as written."""
    if isinstance(value, dict):
        return set().union(*(free_words(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(free_words(v) for v in value)) if value else set()
    if isinstance(value, str) and value not in CODES:
        return set(re.findall(r"[A-Za-z0-9_]+", value))
    return set()


def enum_choices() -> list[frozenset[str]]:
    found: list[frozenset[str]] = []

    def walk(ftype: Any) -> None:
        if ftype.choices:
            found.append(ftype.choices)
        for child in ftype.fields.values():
            walk(child)
        if ftype.item:
            walk(ftype.item)

    for model in KINDS.values():
        walk(type_of_model(model))
    return found


def test_every_enumerated_value_of_the_model_has_both_labels() -> None:
    for choices in enum_choices():
        table = labels.labels_for(choices)
        assert table is not None, sorted(choices)
        for code in choices:
            ja, en = table[code]
            assert ja and en, code


def test_the_same_code_reads_by_its_field() -> None:
    roles = labels.enum_of(next(c for c in enum_choices() if "support_organisation" in c))
    routes = labels.enum_of(next(c for c in enum_choices() if "direct" in c))
    assert show_value("sending_agency", "ja", roles) == "送出機関"
    assert show_value("sending_agency", "ja", routes) == "送出機関経由"
    assert labels.enum_of(frozenset({"sending_agency", "intermediary"})) == "party_role"  # a broker's role
    assert show_value("shipbuilding", "ja", labels.enum_of(next(c for c in enum_choices() if "fishery" in c))) == "造船・舶用工業"
    assert show_value("shipbuilding", "ja") == "shipbuilding"  # free text is quoted as written


def test_the_check_finds_a_raw_code() -> None:
    assert raw_codes("分野「shipbuilding」での受入れ", "ja", set()) == {"shipbuilding"}
    assert raw_codes("The work_experience_certificate was found forged", "en", set()) == set()
    assert raw_codes("文書は forged と判定", "ja", set()) == {"forged"}
    assert raw_codes("文書は forged と判定", "ja", {"forged"}) == set()


def test_every_rule_message_renders_without_raw_codes_in_both_languages(packset: PackSet) -> None:
    rendered = 0
    for pack in packset.packs.values():
        engine = Engine(packset, pack_test_registries(pack), max_registry_age=None)
        for resolved in pack.rules:
            for index, case in enumerate(resolved.rule.spec.tests):
                if case.expect != "fire":
                    continue
                dossier = case_dossier(pack, resolved, index)
                allowed = free_words(dossier)
                for finding in engine.evaluate(dossier, as_of=case.as_of, timestamp=False).findings:
                    if finding.rule_id != resolved.rule.id:
                        continue
                    for lang in ("ja", "en"):
                        text = getattr(finding.message, lang)
                        assert not raw_codes(text, lang, allowed), f"{pack.id} {finding.rule_id} '{case.name}' ({lang}): {text}"
                        rendered += 1
    assert rendered > 400


@pytest.mark.parametrize("text", ["登録のない登録支援機関", "帯同予定の"])
def test_no_self_contradicting_or_presuming_wording(packset: PackSet, text: str) -> None:
    for source in packset.sources.values():
        for rule in source.rules:
            assert text not in rule.spec.title.ja + rule.spec.message.ja, rule.id


def test_language_and_country_codes_read_as_names() -> None:
    assert show_value(["km", "xx"], "ja", "language") == "クメール語、xx（言語コード）"
    assert show_value(["km", "xx"], "en", "language") == "Khmer, language code xx"
    assert show_value("JP", "ja", "country") == "日本" and show_value("QQ", "en", "country") == "country code QQ"


def test_country_and_language_names_come_from_cldr_for_every_code() -> None:
    """The form's nationality and language choices need every country, not only those with an MOC."""
    assert show_value("TH", "ja", "country") == "タイ" and show_value("NP", "en", "country") == "Nepal"
    assert show_value("uz", "ja", "language") == "ウズベク語" and show_value("mn", "en", "language") == "Mongolian"


def test_a_fee_shown_in_an_unread_language_names_the_languages(packset: PackSet) -> None:
    pack = packset.packs["kh"]
    resolved = next(r for r in pack.rules if r.rule.id == "common.act-e-explained-in-unread-language")
    index = next(i for i, case in enumerate(resolved.rule.spec.tests) if case.expect == "fire")
    report = Engine(packset, pack_test_registries(pack), max_registry_age=None).evaluate(case_dossier(pack, resolved, index), timestamp=False)
    (finding,) = [f for f in report.findings if f.rule_id == resolved.rule.id]
    assert "日本語" in finding.message.ja and "クメール語" in finding.message.ja
    assert "Japanese" in finding.message.en and "Khmer" in finding.message.en
    assert not re.search(r"\b(ja|km)\b", finding.message.ja + finding.message.en)
