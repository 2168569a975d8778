"""Communications received from a partner's contact point, validated whole before anything is recorded.

Kinds (``kind``):

* ``revocation``: the partner revoked an agency's accreditation (KH 5(4);
  LA/KG/TJ 7(4)); the partner's list of accredited agencies is updated, the
  message becoming the registry's source, so a later screening cites it.
* ``accreditation``: the partner accredited an agency (KH 5(1); LA/KG/TJ 7(1)-(2)).
* ``inquiry``: the partner asks Japan for information (KH 6(5); LA, KG,
  TJ 6(4)); it is due on the date it names, else 30 days after receipt, and
  shows as overdue until a reviewer records Japan's reply.
* ``intermediary_report``: information the partner shares under 4(1) about an
  intermediary's acts; it becomes an entry of the partner's list
  ``intermediary-reports`` from the day it was received (a later report about
  the same intermediary supersedes it), which screening consults.
* ``report_withdrawal``: the partner withdraws such a report (named by its
  reference); its entry ends on the day the withdrawal was received.
* ``result``: the result of an investigation Japan asked for (KH 5(5);
  LA/KG/TJ 7(3)), or the answer to an inquiry: it must name a notice that
  exists, and becomes that notice's answer.

A communication is refused whole (every problem located by JSON pointer) when
its dates are not strict ``YYYY-MM-DD``, its partner or kind is unknown, or the
notice it names does not exist. Personal data a partner sends (``personal``,
art. 3) is kept apart and withheld from every listing unless asked for.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from ..input_errors import choice_message
from ..problems import InputError, Problem
from ..registries import StrictDate
from ..sources import problems_from_validation
from .life import MAX_TEXT, PartnerAction

MAX_COMMUNICATION_BYTES = 256 * 1024
"""A received communication larger than this is refused (it is a letter, not a list)."""


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


class _Base(BaseModel):
    model_config = ConfigDict(extra="forbid")

    communication_version: Literal["1"] = "1"
    country: Annotated[str, BeforeValidator(_upper), Field(pattern=r"^[A-Z]{2}$", description="The partner (its code); a pack for it must be loaded")]
    dated: StrictDate = Field(description="The date the partner's document bears")
    received_on: StrictDate = Field(description="The date Japan's contact point received it")
    reference: str = Field(min_length=1, max_length=200, description="The partner's document reference")
    personal: dict[str, Any] | None = Field(default=None, description="Personal data the partner sent (art. 3): withheld unless asked for")


class Agency(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=128, description="The accreditation number")
    name: str = Field(min_length=1, max_length=300)


class Revocation(_Base):
    kind: Literal["revocation"]
    agency: Agency
    effective_on: StrictDate = Field(description="The first day the agency is no longer accredited")


class Accreditation(_Base):
    kind: Literal["accreditation"]
    agency: Agency
    effective_on: StrictDate = Field(description="The first day the agency is accredited")


class Result(_Base):
    kind: Literal["result"]
    notice_id: str = Field(min_length=1, max_length=200, description="The notice (or inquiry) this answers")
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    action: PartnerAction


class Inquiry(_Base):
    kind: Literal["inquiry"]
    subject: str = Field(min_length=1, max_length=MAX_TEXT, description="What the partner asks Japan to provide")
    due_on: StrictDate | None = Field(default=None, description="When the partner asks for the answer (default: 30 days after receipt)")


class IntermediaryReport(_Base):
    kind: Literal["intermediary_report"]
    intermediary: Agency = Field(description="The intermediary reported: its accreditation or registration number (the broker's stable id), and its name")
    acts: list[Literal["a", "b", "c", "d", "e", "other"]] = Field(default_factory=list, max_length=6, description="The acts of 4(1)(a)-(e) the report is about")
    text: str = Field(default="", max_length=MAX_TEXT, description="What the partner reports (no personal data: use `personal`)")


class ReportWithdrawal(_Base):
    kind: Literal["report_withdrawal"]
    intermediary: Agency = Field(description="The intermediary of the report withdrawn")
    withdraws: str = Field(min_length=1, max_length=200, description="The partner's reference of the report it withdraws")


Communication = Revocation | Accreditation | Result | Inquiry | IntermediaryReport | ReportWithdrawal
MODELS: dict[str, type[Communication]] = {
    "revocation": Revocation,
    "accreditation": Accreditation,
    "result": Result,
    "inquiry": Inquiry,
    "intermediary_report": IntermediaryReport,
    "report_withdrawal": ReportWithdrawal,
}
INQUIRY_FROM_PARTNER = "inquiry_from_partner"
"""The pack provision under which Japan provides what a partner's inquiry asks (KH 6(5); LA, KG, TJ 6(4)); PK's MOC has none."""
INQUIRY_TO_PARTNER = "inquiry_to_partner"
"""The pack provision under which a partner provides what Japan asks (KH 5(7); LA, KG, TJ 7(6))."""
INQUIRY_DAYS = 30
"""Days Japan gives itself to answer an inquiry that names no due date."""


def parse(data: bytes, source: str) -> Communication:
    """One communication from JSON bytes; ``InputError`` with every problem, located by JSON pointer, otherwise."""
    if len(data) > MAX_COMMUNICATION_BYTES:
        raise InputError([Problem(source, f"larger than {MAX_COMMUNICATION_BYTES // 1024} KiB: one communication per file", kind="too_large")])
    try:
        raw = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError([Problem(source, f"not JSON in UTF-8: {exc}", kind="syntax")]) from None
    kind = raw.get("kind") if isinstance(raw, dict) else None
    model = MODELS.get(kind) if isinstance(kind, str) else None
    if model is None:
        raise InputError([Problem(source, choice_message(kind, sorted(MODELS)), kind="schema", pointer="/kind")])
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise InputError(problems_from_validation(source, exc, model=model)) from None


def partner_problems(item: Communication, source: str, provisions: dict[str, str] | None) -> list[Problem]:
    """The partner is one whose pack is loaded (``provisions`` of its pack, None when there is none), and its MOC has the article."""
    if provisions is None:
        return [Problem(source, f"no pack for {item.country} is loaded: a communication comes from a partner with an MOC", pointer="/country")]
    if isinstance(item, Inquiry) and INQUIRY_FROM_PARTNER not in provisions:
        return [Problem(source, f"the MOC with {item.country} has no article on inquiries to Japan", pointer="/kind")]
    return []


def date_problems(item: Communication, source: str, today: date) -> list[Problem]:
    """Dates that cannot be true: received before the document's date, or in the future."""
    out = []
    if item.received_on > today:
        out.append(Problem(source, f"received_on {item.received_on} is in the future", pointer="/received_on"))
    if item.dated > item.received_on:
        out.append(Problem(source, f"dated {item.dated} is after received_on {item.received_on}", pointer="/dated"))
    if isinstance(item, Inquiry) and item.due_on is not None and item.due_on < item.received_on:
        out.append(Problem(source, f"due_on {item.due_on} is before received_on {item.received_on}", pointer="/due_on"))
    return out


def summary(item: Communication) -> dict[str, Any]:
    """What a listing shows of a communication: never its personal data."""
    out = item.model_dump(mode="json", exclude={"personal"})
    out["personal_withheld"] = item.personal is not None
    return out
