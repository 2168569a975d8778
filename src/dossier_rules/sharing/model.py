"""The notice: the JSON form of one information-sharing notice (``schemas/notice.schema.json``) and the acts it can be about.

A notice is one per partner ministry and intermediary and act (or per
test-fraud case), addressed from and to the contact points of art. 2 of that
MOC and carrying its confidentiality statement (art. 3); the matter is named
in the words of its own MOC (:func:`act_title`).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..packs import Act, Localized

State = Literal["draft", "approved", "exported"]

JAPAN_SIDE = Localized(
    ja="日本国法務省、外務省、厚生労働省及び警察庁",
    en="Ministry of Justice, Ministry of Foreign Affairs, Ministry of Health, Labour and Welfare and National Police Agency of Japan",
)

ACT_TITLES: dict[str, Localized] = {
    "a": Localized(
        ja="保証金等の名目による金銭・財産の管理",
        en="Managing the money or property of candidates, their relatives or associates, as a deposit or under any other name",
    ),
    "b": Localized(
        ja="不履行時の支払その他不当な財産移転を定める契約の締結",
        en="Contracts imposing a payment on breach or otherwise planning an unjust transfer of money or property",
    ),
    "c": Localized(ja="暴行・脅迫・自由の制限等による人権侵害", en="Violence, threats, restriction of liberty or other violations of human rights"),
    "d": Localized(
        ja="出入国・査証手続における偽変造・虚偽文書の行使・提供", en="Using or providing forged, altered or false documents in immigration or visa procedures"
    ),
    "e": Localized(
        ja="算出基準を示さず額と内訳を理解させない費用の徴収",
        en="Collecting fees without showing the basis of calculation and without making the amount and breakdown understood",
    ),
    "test_fraud": Localized(
        ja="試験における不正（別人による受験、合格を証する文書の偽造・変造その他の不正な行為）",
        en="Test fraud: impersonation, forged or altered pass certificates, or other improper acts",
    ),
    "revocation": Localized(
        ja="認定を取り消された後も活動する送出機関（調査のための通報）",
        en="A sending agency still active after its accreditation was revoked (reported for investigation)",
    ),
}


WORDED_ACTS = {"b": "act_b", "e": "act_e"}
"""Acts whose wording differs between the MOC texts (PK 不法な金銭の支払, TJ 署名; 理解させ／十分に理解させ／十分に認識させ):
a notice names them in its own MOC's words (``pack.wording``), never in another country's."""


def act_title(pack: Any, act: str) -> Localized:
    """The matter of a notice: the act as the pack's own MOC words it where the texts differ, else :data:`ACT_TITLES`."""
    words = pack.wording().get(WORDED_ACTS.get(act, ""))
    return words if words is not None else ACT_TITLES[act]


# --------------------------------------------------------------------------- the notice


class _NoticePart(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Side(_NoticePart):
    ministry: Localized
    contact_point: Localized


class NoticeFinding(_NoticePart):
    rule_id: str
    article: str
    severity: str
    title: Localized
    message: Localized
    evidence: dict[str, Any]
    basis: dict[str, Any] | None = Field(
        default=None, description="Block findings: the MOC article and any Japanese legal instrument that make them a reason to refuse"
    )


class NoticeDossier(_NoticePart):
    """A dossier concerned, by reference; ``identity`` only when personal data was asked for."""

    dossier_id: str
    kind: str
    submitted_as_of: str
    findings: list[NoticeFinding]
    identity: dict[str, Any] | None = None


class Notice(_NoticePart):
    """The JSON form of a notice (``schemas/notice.schema.json``)."""

    notice_version: Literal["1"] = "1"
    notice_id: str
    state: State
    country: str
    act: Act
    act_title: Localized
    provision: str = Field(description="The article of this country's MOC that the notice is made under")
    sender: Side
    recipient: Side
    intermediary: dict[str, Any] | None = Field(description="The intermediary concerned, identified fully; null for a test-fraud case")
    dossiers: list[NoticeDossier]
    confidentiality: dict[str, Any]
    packs: list[dict[str, str]]
    tool_version: str | None = Field(default=None, description="Version of dossier-rules that created the notice (absent from notices created before 0.2)")
    created_at: str
    approved_by: str | None = None
    approved_at: str | None = None
    exported_at: str | None = None
