"""The notice: the JSON form of one information-sharing notice (``schemas/notice.schema.json``) and the acts it can be about.

A notice is one per partner ministry and intermediary and act (test fraud: per
test sitting, or per case when its sitting is not known), addressed from and to the contact points of art. 2 of that
MOC and carrying its confidentiality statement (art. 3); the matter is named
in the words of its own MOC (:func:`act_title`).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .. import labels
from ..packs import Act, Localized

State = Literal["draft", "approved", "exported"]

JAPAN_SIDE = Localized(
    ja="日本国法務省、外務省、厚生労働省及び警察庁",
    en="Ministry of Justice, Ministry of Foreign Affairs, Ministry of Health, Labour and Welfare and National Police Agency of Japan",
)

ACT_TITLES: dict[str, Localized] = {act: Localized(ja=ja, en=en) for act, (ja, en) in labels.ACT_TITLES.items()}


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
