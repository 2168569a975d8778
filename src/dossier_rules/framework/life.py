"""A notice's life: draft → approved → sent → answered → closed, or withdrawn with a reason.

The outbox keeps draft, approved and exported (:mod:`dossier_rules.sharing`);
what follows the approval lives beside it (``notice_life``). A notice that was
exported and never marked otherwise counts as sent, "exported" being how.

A notice of an improper activity of an accredited agency (KH 5(5); LA, KG,
TJ 7(3)) asks the partner to investigate and share the result: it *expects a
result*, cannot be closed without one, and is **overdue** once it has waited
longer than the partner's due period. How long an approved notice waited
before it was sent is its *delay*, what 4(1)'s "promptly" (速やかに) is
measured by.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..errors import DossierError
from ..labels import TERMS
from ..model import parse_date

LifeState = Literal["draft", "approved", "sent", "answered", "closed", "withdrawn"]
STATES: tuple[LifeState, ...] = ("draft", "approved", "sent", "answered", "closed", "withdrawn")
Action = Literal["send", "answer", "close", "withdraw"]
ALLOWED_FROM: dict[Action, tuple[LifeState, ...]] = {
    "send": ("approved",),
    "answer": ("sent",),
    "close": ("sent", "answered"),
    "withdraw": ("approved", "sent"),
}
"""From which states each change is allowed; every other state refuses it (``framework.wrong_state``).

A draft is not withdrawn: it has not left, and the next build may still add findings to it; a
reviewer simply does not approve it."""

SendHow = Literal["exported", "email", "post", "courier", "in_person", "diplomatic", "other"]
PartnerAction = Literal["guidance", "supervision", "suspension", "revocation", "no_action", "other"]
DEFAULT_DUE_DAYS = 90
"""Days a partner has to share the result of an investigation, unless configured otherwise for that partner."""
MAX_TEXT = 4000
"""Characters of a result's text, a reason or a note (a longer one is refused, never cut)."""


class Answer(BaseModel):
    """What the partner shared about a notice: the result of its investigation, and what it did."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=MAX_TEXT, description="The partner's result, in its words or summarised")
    received_on: date = Field(description="The date of the partner's communication (YYYY-MM-DD)")
    reference: str = Field(min_length=1, max_length=200, description="The partner's document reference")
    action: PartnerAction = Field(description="What the partner did about the agency")

    @field_validator("received_on", mode="before")
    @classmethod
    def _strict_date(cls, value: Any) -> Any:
        if isinstance(value, date) or (isinstance(value, str) and parse_date(value) is not None):
            return value
        raise ValueError("not a date: use YYYY-MM-DD")


def effective_state(outbox_state: str, life: dict[str, Any] | None) -> LifeState:
    """The state a person sees: the life row's when there is one, else the outbox's (exported counts as sent)."""
    if life is not None:
        state: LifeState = life["state"]
        return state
    return "sent" if outbox_state == "exported" else "draft" if outbox_state == "draft" else "approved"


STATE_WORDS: dict[str, dict[str, str]] = {state: {"ja": ja, "en": en} for state, (ja, en) in TERMS["notice_state"].items() if state != "exported"}
"""The states in the words of each language, for messages (the catalog holds the sentences around them), from the
one vocabulary (:data:`dossier_rules.labels.TERMS`)."""


STEP_STATE = {"created": "draft", "approved": "approved", "exported": "sent", "send": "sent", "answer": "answered", "close": "closed", "withdraw": "withdrawn"}
"""The state each step of a notice's history leads to (its name in a history the reader's language shows)."""


def state_words(*states: str) -> dict[str, str]:
    """One or more states, joined, as a parameter the error renders in the reader's language."""
    return {lang: (" or " if lang == "en" else "・").join(STATE_WORDS[s][lang] for s in states) for lang in ("en", "ja")}


def wrong_state(action: Action, nid: str, state: str) -> DossierError:
    """The refusal of a change the notice's state does not allow, naming both in the reader's language."""
    return DossierError("framework.wrong_state", notice_id=nid, state=state_words(state), allowed=state_words(*ALLOWED_FROM[action]))


def check_allowed(action: Action, nid: str, state: LifeState) -> None:
    """Refuse a change the notice's state does not allow, naming both."""
    if state not in ALLOWED_FROM[action]:
        raise wrong_state(action, nid, state)


def expects_result(act: str, provision: str, agency_report: str | None) -> bool:
    """Whether a notice asks the partner to investigate an accredited agency and share the result (KH 5(5); LA/KG/TJ 7(3))."""
    return act == "revocation" or (agency_report is not None and provision.endswith(" " + agency_report))


DUE_ENV = "DOSSIER_RULES_DUE_DAYS"
"""The service's setting of due periods per partner (``PH=60,VN=90``); a partner not named gets the default."""


def configured_due_periods() -> dict[str, int]:
    """The due periods the service is configured with (:data:`DUE_ENV`); ``framework.bad_due`` when it is malformed."""
    return due_periods([s.strip() for s in os.environ.get(DUE_ENV, "").split(",") if s.strip()])


def due_periods(specs: tuple[str, ...] | list[str]) -> dict[str, int]:
    """``PH=60`` per partner (days, 1 to 3650); a bad one is refused (``framework.bad_due``)."""
    out: dict[str, int] = {}
    for spec in specs:
        country, _sep, days = spec.partition("=")
        if not (country.isalpha() and len(country) == 2 and days.isdigit() and 1 <= int(days) <= 3650):
            raise DossierError("framework.bad_due", spec=spec)
        out[country.upper()] = int(days)
    return out


@dataclass(frozen=True)
class Timing:
    """When a notice was sent, how long it had waited since approval, and when its result is due."""

    delay_days: int | None
    due_on: date | None
    overdue: bool


def timing(approved_at: str | None, sent_at: str | None, state: LifeState, expects: bool, due_days: int, today: date) -> Timing:
    """How long the approved notice waited before it was sent; when its result is due and whether it is overdue."""
    approved = _day(approved_at)
    sent = _day(sent_at)
    delay = (sent - approved).days if approved and sent else (today - approved).days if approved and state == "approved" else None
    due = date.fromordinal(sent.toordinal() + due_days) if expects and sent else None
    return Timing(delay, due, bool(due and state == "sent" and today > due))


def _day(value: str | None) -> date | None:
    return datetime.fromisoformat(value).date() if value else None
