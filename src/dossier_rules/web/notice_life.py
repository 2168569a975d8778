"""A notice's life as the pages show it: its state in words, how long it waited, whether it is overdue, its history.

Shared by the Notices page (:mod:`.pages`) and the pages of the exchange with
partners (:mod:`.exchange_pages`); it reads the notices service only, and
every code it shows is labelled from the one vocabulary (:data:`dossier_rules.labels.TERMS`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from .. import labels
from ..framework import life
from ..locale import N_, language, translate
from ..services.notices import NoticeService
from . import words

"""The due period per partner for results (``KH=60,LA=90``): the same setting the API reads; 90 days when unnamed."""
MAX_ENDED_LOOKUPS = 1000
"""Closed or withdrawn notices whose state one Notices page reads one by one (the outbox's listing is bounded the same)."""


def lang() -> labels.Lang:
    return "ja" if language() == "ja" else "en"


def term_in(table: str, code: str | None) -> str:
    """A code of one table of the product's vocabulary in the page's language ('' for none)."""
    return "" if code is None else labels.term_in(table, code, lang())


def act_words(act: str) -> str:
    """The act a notice concerns, as a complaint's act is labelled (4(1)(a)..(e), test fraud)."""
    return labels.label(act, lang(), "complaint_act")


def with_life(service: NoticeService, rows: list[dict[str, Any]], today: date) -> list[dict[str, Any]]:
    """The outbox's rows with each notice's life: state, days waited before sending, due date, overdue; overdue first."""
    open_rows = {r["id"]: r for r in service.open_notices(frozenset(), life.configured_due_periods(), today)}
    out = []
    for number, row in enumerate(rows):
        found = open_rows.get(row["id"])
        if found is None and number < MAX_ENDED_LOOKUPS:
            found = {"state": service.history(row["id"])["state"], "overdue": False, "days_before_sent": None, "due_on": None, "sent_how": None}
        found = found or {"state": row["state"], "overdue": False, "days_before_sent": None, "due_on": None, "sent_how": None}
        days_overdue = (today - date.fromisoformat(found["due_on"])).days if found["overdue"] and found["due_on"] else None
        out.append(
            {
                **row,
                "outbox_state": row["state"],
                "state": found["state"],
                "overdue": found["overdue"],
                "days_waited": found["days_before_sent"],
                "due_on": found["due_on"],
                "days_overdue": days_overdue,
            }
        )
    out.sort(key=lambda r: (not r["overdue"], -(r["days_overdue"] or 0)))
    return out


STEP_WORDS = {
    "created": "draft",
    "approved": "approved",
    "exported": "exported",
    "send": "sent",
    "answer": "answered",
    "close": "closed",
    "withdraw": "withdrawn",
}
"""The state each step of a notice's history leads to, named in the vocabulary's words."""


DETAILS: dict[str, tuple[str, Callable[[Any], str]]] = {
    "how": (N_("How it was sent"), lambda code: term_in("send_how", code)),
    "action": (N_("What the partner did"), lambda code: term_in("partner_action", code)),
    "reference": (N_("Document reference"), str),
    "received_on": (N_("Date of the partner's document"), words.date_words),
    "reason": (N_("Reason for withdrawing"), str),
    "note": (N_("Note"), str),
    "received_id": (N_("Communication received"), str),
}
"""What a step of the history may carry, labelled, in the order shown."""


def colon() -> str:
    return "：" if lang() == "ja" else ": "


def history_rows(history: dict[str, Any], zone: str, display: Any) -> list[dict[str, str]]:
    """A notice's history as rows a reviewer reads: what happened (in words), by whom (display name), when (office time)."""
    rows = []
    for step in history["steps"]:
        details = [f"{translate(label)}{colon()}{shown(step[key])}" for key, (label, shown) in DETAILS.items() if step.get(key)]
        rows.append(
            {
                "what": term_in("notice_state", STEP_WORDS.get(step["kind"], step["kind"])),
                "by": display(step.get("by")) if step.get("by") else "",
                "at": words.time_words(step["at"], zone) if step.get("at") else "",
                "details": ("、" if lang() == "ja" else "; ").join(details),
            }
        )
    return rows
