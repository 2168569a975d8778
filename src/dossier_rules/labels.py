"""Japanese and English labels for every enumerated value of the dossier model.

A message, a page or a spreadsheet never shows a raw code such as
``shipbuilding`` or ``work_experience_certificate`` to a person: it shows the
label, in the reader's language. The tables are keyed by the enumeration
(one per ``Literal`` of :mod:`dossier_rules.model`); the same code can read
differently in two of them (``sending_agency`` is a party's role, "送出機関",
and a hire route, "送出機関経由"), so look a value up with the choices of the
field it came from (:func:`label`). A test checks that every value the model
allows has a label here.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Literal

from .locale import N_, translate

Lang = Literal["ja", "en"]
Label = tuple[str, str]
"""(Japanese, English)."""

DOSSIER_KINDS: dict[str, Label] = {"candidate": ("候補者案件", "candidate"), "broker": ("仲介機関案件", "broker")}
"""The two kinds of dossier (glossary: 案件), one wording for the model's ``kind`` and the product's term."""

ENUMS: dict[str, dict[str, Label]] = {
    "schema_version": {"1.0": ("1.0", "1.0")},
    "kind": DOSSIER_KINDS,
    "residence": {"abroad": ("国外", "abroad"), "japan": ("日本国内", "in Japan")},
    "status_sought": {"SSW1": ("特定技能1号", "SSW No. 1"), "SSW2": ("特定技能2号", "SSW No. 2")},
    "sector": {
        "nursing_care": ("介護", "nursing care"),
        "building_cleaning": ("ビルクリーニング", "building cleaning"),
        "industrial_products_manufacturing": ("工業製品製造業", "industrial products manufacturing"),
        "construction": ("建設", "construction"),
        "shipbuilding": ("造船・舶用工業", "shipbuilding and ship machinery"),
        "automobile_repair": ("自動車整備", "automobile repair and maintenance"),
        "aviation": ("航空", "aviation"),
        "accommodation": ("宿泊", "accommodation"),
        "automobile_transport": ("自動車運送業", "automobile transport"),
        "railway": ("鉄道", "railway"),
        "agriculture": ("農業", "agriculture"),
        "fishery": ("漁業", "fishery"),
        "food_beverage_manufacturing": ("飲食料品製造業", "food and beverage manufacturing"),
        "food_service": ("外食業", "food service"),
        "forestry": ("林業", "forestry"),
        "wood_industry": ("木材産業", "wood industry"),
    },
    "hire_route": {"sending_agency": ("送出機関経由", "through a sending agency"), "direct": ("直接採用", "direct hire")},
    "party_role": {
        "sending_agency": ("送出機関", "sending agency"),
        "intermediary": ("仲介機関（送出機関以外）", "intermediary (not a sending agency)"),
        "receiving_organisation": ("受入機関", "receiving organisation"),
        "support_organisation": ("登録支援機関", "registered support organisation"),
        "relative": ("親族", "relative"),
        "other": ("その他", "other"),
    },
    "legal_form": {"individual": ("個人", "individual"), "corporate": ("法人", "corporation")},
    "certificate_kind": {
        "molvt_registration": ("MoLVT登録証明書", "MoLVT Certificate of Registration"),
        "other": ("その他の証明書", "another certificate"),
    },
    "test_kind": {"skills": ("技能", "skills"), "japanese": ("日本語", "Japanese-language")},
    "held_item": {
        "passport": ("旅券", "passport"),
        "deposit": ("保証金", "deposit"),
        "bank_book": ("預金通帳", "bank book"),
        "land_title": ("土地の権利証", "land title"),
        "residence_card": ("在留カード", "residence card"),
        "other_property": ("その他の財産", "other property"),
    },
    "owner": {
        "candidate": ("候補者本人", "candidate"),
        "relative": ("候補者の親族", "candidate's relative"),
        "associate": ("候補者の関係者", "candidate's associate"),
    },
    "clause_kind": {
        "penalty": ("違約金等の支払", "payment on breach (penalty)"),
        "unjust_transfer": ("不当な金銭・財産の移転", "unjust transfer of money or property"),
        "other": ("その他の条項", "other clause"),
    },
    "incident_kind": {
        "violence": ("暴行", "violence"),
        "threat": ("脅迫", "threat"),
        "restriction_of_liberty": ("自由の制限", "restriction of liberty"),
        "other_rights_violation": ("その他の人権侵害", "other violation of rights"),
    },
    "document_finding": {
        "authentic": ("真正", "authentic"),
        "forged": ("偽造", "forged"),
        "altered": ("変造", "altered"),
        "false": ("虚偽", "false"),
    },
    "relation": {"spouse": ("配偶者", "spouse"), "child": ("子", "child")},
    "complaint_act": {
        "a": ("4(1)(a) 金銭・財産の管理", "4(1)(a) money or property managed"),
        "b": ("4(1)(b) 不履行時の支払等を定める契約", "4(1)(b) contract imposing a payment on breach"),
        "c": ("4(1)(c) 人権侵害", "4(1)(c) violation of rights"),
        "d": ("4(1)(d) 偽変造・虚偽文書", "4(1)(d) forged, altered or false documents"),
        "e": ("4(1)(e) 算出基準を示さず額・内訳を理解させない費用徴収", "4(1)(e) fees without basis and without the amount and breakdown understood"),
        "test_fraud": ("試験における不正", "test fraud"),
        "other": ("その他", "other"),
    },
}
"""Every closed enumeration of the dossier model, by a name of our own, with each value's label."""

VOCABULARIES = ("country", "language")
"""Open lists of codes (ISO 3166 territories, ISO 639 languages; fields marked with :class:`dossier_rules.model.Vocabulary`):
named from CLDR through Babel, in both languages, for every code it knows; a code it lacks is shown as written,
marked as a code (:data:`UNLABELLED`). A pack may name its own country (see :func:`declare`)."""

_DECLARED: dict[str, dict[str, Label]] = {}
"""Labels the packs declare: their own country's names (under ``country``), and the choices of each country field
(under :func:`declared_enum`). Filled as packs are loaded or read from the compiled-pack cache."""


CURRENCIES: dict[str, Label] = {
    "JPY": ("日本円", "Japanese yen"),
    "USD": ("米ドル", "US dollar"),
    "KHR": ("カンボジア・リエル", "Cambodian riel"),
    "LAK": ("ラオス・キープ", "Lao kip"),
    "KGS": ("キルギス・ソム", "Kyrgyz som"),
    "TJS": ("タジキスタン・ソモニ", "Tajik somoni"),
    "PKR": ("パキスタン・ルピー", "Pakistani rupee"),
    "EUR": ("ユーロ", "euro"),
    "THB": ("タイ・バーツ", "Thai baht"),
    "VND": ("ベトナム・ドン", "Vietnamese dong"),
}
"""Names of the currencies the form offers (ISO 4217). Amounts are shown with their code (3,200 USD), as staff write them."""


TERMS: dict[str, dict[str, Label]] = {
    "outcome": {
        "blocked": ("不適合あり", "blocked"),
        "review": ("要確認", "needs review"),
        "clear": ("指摘なし", "no findings"),
        "not_in_force": ("協力覚書適用期間外", "MOC not in force"),
        "unreadable": ("読取不能", "unreadable"),
    },
    "severity": {"block": ("不適合", "not acceptable"), "warn": ("要確認", "needs review"), "info": ("参考", "for reference")},
    "dossier_kind": DOSSIER_KINDS,
    "notice_state": {
        "draft": ("案（未承認）", "draft"),
        "approved": ("承認済み", "approved"),
        "exported": ("出力済み", "exported"),
        "sent": ("送付済み", "sent"),
        "answered": ("回答受領", "answered"),
        "closed": ("完了", "closed"),
        "withdrawn": ("取下げ", "withdrawn"),
    },
    "send_how": {
        "exported": ("出力した文書を送付", "the exported document"),
        "email": ("電子メール", "e-mail"),
        "post": ("郵送", "post"),
        "courier": ("国際宅配便", "courier"),
        "in_person": ("手交", "handed over in person"),
        "diplomatic": ("外交ルート", "diplomatic channel"),
        "other": ("その他の方法", "another way"),
    },
    "partner_action": {
        "guidance": ("指導", "guidance"),
        "supervision": ("監督", "supervision"),
        "suspension": ("業務停止", "suspension"),
        "revocation": ("認定の取消し", "revocation of the accreditation"),
        "no_action": ("措置なし", "no action"),
        "other": ("その他の措置", "another measure"),
    },
    "communication_kind": {
        "revocation": ("認定の取消しの通報", "revocation of an accreditation"),
        "accreditation": ("認定の通知", "accreditation"),
        "result": ("調査結果・回答", "investigation result or answer"),
        "inquiry": ("相手国からの照会", "inquiry from the partner"),
        "intermediary_report": ("仲介機関に関する情報（4(1)）", "information about an intermediary (4(1))"),
        "report_withdrawal": ("仲介機関に関する情報の撤回", "withdrawal of information about an intermediary"),
    },
    "dispatch_kind": {
        "improvement_orders": ("改善命令等の通知・通報", "notice of improvement orders"),
        "inquiry": ("日本からの照会", "inquiry from Japan"),
    },
    "user_role": {"screener": ("審査担当者", "screener"), "reviewer": ("確認者", "reviewer"), "admin": ("システム管理者", "admin")},
    "act": {"revocation": ("認定取消し後の活動（通報）", "active after its accreditation was revoked (reported)")},
    "registry": {
        "accredited-agencies": ("認定送出機関一覧", "accredited sending agencies"),
        "improvement-orders": ("改善命令を受けた機関の一覧", "organisations under improvement orders"),
        "support-organisations": ("登録支援機関一覧", "registered support organisations"),
        "suspended-sectors": ("受入れ停止中の分野", "sectors with acceptance suspended"),
        "intermediary-reports": ("相手国省庁から共有された仲介機関に関する情報（4(1)）", "partner's 4(1) information about intermediaries"),
    },
}
"""The product's own vocabulary, not the dossier's: outcomes, severities, kinds of dossier, notice states (the
outbox's and a notice's life after it: sent, answered, closed, withdrawn), how a notice was sent, what a partner did,
the kinds of communication received and of Japan's own notices, user roles and the lists rules consult. A code may
sit in two tables (``revocation``, ``other``): read those with :func:`term_in`. One table for the command line, the pages and the spreadsheets (glossary: 不適合 /
要確認 / 参考, 不適合あり / 指摘なし / 協力覚書適用期間外, 案件)."""


ACT_TITLES: dict[str, Label] = {
    "a": (
        "保証金等の名目による金銭・財産の管理",
        "Managing the money or property of candidates, their relatives or associates, as a deposit or under any other name",
    ),
    "b": (
        "不履行時の支払その他不当な財産移転を定める契約の締結",
        "Contracts imposing a payment on breach or otherwise planning an unjust transfer of money or property",
    ),
    "c": ("暴行・脅迫・自由の制限等による人権侵害", "Violence, threats, restriction of liberty or other violations of human rights"),
    "d": ("出入国・査証手続における偽変造・虚偽文書の行使・提供", "Using or providing forged, altered or false documents in immigration or visa procedures"),
    "e": (
        "算出基準を示さず額と内訳を理解させない費用の徴収",
        "Collecting fees without showing the basis of calculation and without making the amount and breakdown understood",
    ),
    "test_fraud": (
        "試験における不正（別人による受験、合格を証する文書の偽造・変造その他の不正な行為）",
        "Test fraud: impersonation, forged or altered pass certificates, or other improper acts",
    ),
    "revocation": (
        "認定を取り消された後も活動する送出機関（調査のための通報）",
        "A sending agency still active after its accreditation was revoked (reported for investigation)",
    ),
}
"""The matter of a notice to the partner, in full, by act (a notice's title; :func:`act_label` is the short form
for cells). Where the MOC texts word an act differently the pack's own words win (:mod:`dossier_rules.sharing`)."""


def term(code: str, lang: str, table: str | None = None) -> str:
    """How one of the product's codes (an outcome, a severity...) reads, looked up in ``table`` or else in every
    table of :data:`TERMS` (in order: an outcome before a severity); the code itself when it is none of them."""
    index = 0 if lang == "ja" else 1
    for name, words in TERMS.items():
        if (table is None or name == table) and code in words:
            return words[code][index]
    return code


def term_in(table: str, code: str, lang: Lang) -> str:
    """How ``code`` of one table of :data:`TERMS` reads; the code itself when that table has no such code."""
    found = TERMS.get(table, {}).get(code)
    return code if found is None else found[0 if lang == "ja" else 1]


def act_label(act: str, lang: str) -> str:
    """An act a finding shares or reports, short, as a cell or a list reads it: 4(1)(a)-(e), test fraud (the
    dossier model's ``complaint_act``), or a revoked agency still active (:data:`TERMS` ``act``)."""
    if act in TERMS["act"]:
        return term(act, lang, "act")
    return label(act, "ja" if lang == "ja" else "en", "complaint_act")


UNLABELLED: dict[str, Label] = {
    "language": ("{}（言語コード）", "language code {}"),
    "country": ("{}（国コード）", "country code {}"),
}
"""How a value of an open list that has no label of its own reads: as its code, said to be one."""


@cache
def enum_of(choices: frozenset[str] | None) -> str | None:
    """The enumeration of a field whose allowed values are ``choices``: the one with exactly those values,
    else the smallest that holds them all (a broker's role is a subset of the party roles); None for free text."""
    if not choices:
        return None
    names = [name for name, table in ENUMS.items() if choices <= table.keys()]
    return min(names, key=lambda name: len(ENUMS[name])) if names else None


def labels_for(choices: frozenset[str] | None) -> dict[str, Label] | None:
    """The label table of a field whose allowed values are ``choices`` (see :func:`enum_of`)."""
    name = enum_of(choices)
    return ENUMS[name] if name else None


def declare(enum: str, table: Mapping[str, Label]) -> None:
    """Labels a pack declares for ``enum``: its country's names under ``country``, a country field's choices under
    :func:`declared_enum`. They win over CLDR's; a later pack declaring the same code replaces the earlier label."""
    _DECLARED.setdefault(enum, {}).update(table)


def declared_enum(country: str, kind: str, field: str) -> str:
    """The enumeration name of the choices of one country field, as a pack declares them."""
    return f"country_fields/{country}/{kind}/{field}"


@cache
def _cldr(lang: Lang, vocabulary: str) -> Mapping[str, str]:
    """CLDR's names of one vocabulary in one language; Babel is imported on the first name asked for (a check
    that quotes no country or language never loads it)."""
    from babel import Locale

    locale = Locale(lang)
    return locale.territories if vocabulary == "country" else locale.languages


def cldr_name(code: str, lang: Lang, vocabulary: str = "country") -> str | None:
    """CLDR's name of a country (or, with ``vocabulary="language"``, a language) code; None when it has none."""
    return _cldr(lang, vocabulary).get(code)


PSEUDO = frozenset({"XA", "XB", "ZZ"})
"""CLDR's pseudo-locales and its "unknown region": codes for testing software, never a person's country."""


def vocabulary_table(vocabulary: str) -> dict[str, Label]:
    """Every code of an open vocabulary with its names in both languages, for a form's choices: the two-letter ISO
    3166 countries (or ISO 639-1 languages) CLDR names, with the names the packs declare for their own countries."""
    wanted = str.isupper if vocabulary == "country" else str.islower
    ja, en = _cldr("ja", vocabulary), _cldr("en", vocabulary)
    table = {code: (ja[code], name) for code, name in en.items() if len(code) == 2 and code.isalpha() and wanted(code) and code in ja and code not in PSEUDO}
    return table | _DECLARED.get(vocabulary, {})


_CURRENCY_OF: dict[str, str] = {}
"""The currency each pack declares for its country's fees (``pack.currency``), by country code."""


def declare_currency(country: str, code: str) -> None:
    """The currency a pack declares its country's fees are quoted in: the form offers it first for that country."""
    _CURRENCY_OF[country] = code


def is_currency(code: str) -> bool:
    """Whether CLDR knows ``code`` as an ISO 4217 currency (what a pack may declare)."""
    from babel.numbers import list_currencies

    return code in list_currencies()


def first_currency(country: str) -> str | None:
    """The currency offered first for a country's fees: the one its pack declares, else CLDR's currency of the country."""
    if country in _CURRENCY_OF:
        return _CURRENCY_OF[country]
    from babel.numbers import get_territory_currencies

    found = get_territory_currencies(country) if len(country) == 2 and country.isupper() else []
    return found[0] if found else None


def currency_table() -> dict[str, Label]:
    """The currencies the form offers: :data:`CURRENCIES`, and each declared currency with CLDR's names."""
    from babel.numbers import get_currency_name

    extra = {code: (get_currency_name(code, locale="ja"), get_currency_name(code, locale="en")) for code in _CURRENCY_OF.values() if code not in CURRENCIES}
    return CURRENCIES | extra


def label(value: str, lang: Lang, enum: str | None) -> str:
    """How ``value`` of the enumeration ``enum`` reads; the value itself when it is no code of it."""
    if enum is None:
        return value
    index = 0 if lang == "ja" else 1
    declared = _DECLARED.get(enum)
    if declared is not None and value in declared:
        return declared[value][index]
    if enum in VOCABULARIES:
        name = cldr_name(value, lang, enum)
        return name if name else UNLABELLED[enum][index].format(value)
    table = ENUMS.get(enum)
    if table is None or value not in table:
        return value
    return table[value][index]


# --------------------------------------------------------------------------- fields

IN_CONTEXT = {("tests", "name"): N_("name of the test"), ("identity", "name"): N_("full name"), ("dependents", "name"): N_("full name")}
"""Field names that read differently under one parent (a test's name is not a person's)."""


def field_label(key: str, lang: str | None = None, parent: str = "") -> str:
    """A field of the dossier model in words, in ``lang`` (default: the current language): the catalog's entry for its
    name with spaces (``date_of_birth`` -> 生年月日). The form, the result page, the spreadsheets and the evidence
    of a finding all read field names here, so one field has one name (glossary, section 3)."""
    return translate(IN_CONTEXT.get((parent, key), key.replace("_", " ")), lang)


def pointer_label(pointer: str, lang: str | None = None, separator: str = " › ") -> str:
    """A JSON pointer into a dossier in words: ``/fees/0/amount`` -> 「手数料等の費用 1 › 金額」 (items counted from 1)."""
    words: list[str] = []
    parent = ""
    for step in pointer.strip("/").split("/"):
        if step.isdigit() and words:
            words[-1] += f" {int(step) + 1}"
        elif step:
            words.append(field_label(step, lang, parent))
            parent = step
    return separator.join(words)
