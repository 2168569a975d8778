"""The consultation brief (4(2)) and the examiners' dashboard: figures counted from the service's database.

A brief is for one partner and one period (at most :data:`MAX_BRIEF_DAYS`):
the dossiers screened in it by outcome, their findings by act and by month,
the intermediaries with most findings (by the broker's stable identity,
:func:`dossier_rules.results.intermediary_key`), notices sent, answered and
overdue, communications received (revocations among them), inquiries both
ways, the 4(2) agenda of :func:`.framework.agenda` it builds on, and what
changed since the previous period of the same length (the previous brief).

Findings are counted by :class:`dossier_rules.results.Summary`, the code
``report`` counts with, over the stored reports, so a brief and ``report``
on the same results agree. A dossier screened more than once in a period
counts once, by its latest screening. At most :data:`MAX_SCREENINGS`
screenings are read per period; past that the figures say ``truncated``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import orjson

from ..errors import DossierError
from ..packs import PackSet
from ..redaction import redact_finding
from ..report import OUTCOMES
from ..results import Filter, Summary, intermediary_key
from ..storage import Database
from ..storage import briefs as rows
from ..storage import framework as framework_rows
from . import framework
from .notices import NoticeService

MAX_BRIEF_DAYS = 366
"""The longest period one brief covers (a year): its months fit one chart."""
MAX_DASHBOARD_DAYS = framework.MAX_AGENDA_DAYS
"""The longest period the dashboard covers (about ten years, 121 months)."""
MAX_SCREENINGS = 20_000
"""Stored screenings one period of a brief or the dashboard reads (newest first); past it, ``truncated``."""
TOP_INTERMEDIARIES = 10
"""Intermediaries a brief lists, most findings first."""
ACTS = ("a", "b", "c", "d", "e", "test_fraud", "revocation", "none")
"""Acts in the order a brief lists them; ``none``: findings that are no act to share (completeness, eligibility...)."""
RECEIVED = ("revocation", "accreditation", "result", "inquiry")
"""Kinds of communication a partner sends (:mod:`dossier_rules.framework.inbox`)."""


@dataclass
class Tally:
    """What the stored screenings of one period say: the summary ``report`` would make, by act and by month too."""

    summary: Summary
    by_act: Counter[str] = field(default_factory=Counter)
    findings_by_month: Counter[str] = field(default_factory=Counter)
    outcomes_by_month: dict[str, Counter[str]] = field(default_factory=dict)
    withheld: set[str] = field(default_factory=set)
    """Intermediaries whose name is personal data (an individual's name): listed by id only."""
    personal_rules: dict[str, bool] = field(default_factory=dict)
    truncated: bool = False


def check_period(start: date, end: date, longest: int) -> None:
    """``framework.bad_period`` unless start <= end and the period is at most ``longest`` days."""
    if end < start or (end - start).days + 1 > longest:
        raise DossierError("framework.bad_period", start=start.isoformat(), end=end.isoformat(), days=longest)


def months(start: date, end: date) -> list[str]:
    """Every month (YYYY-MM) the period touches, in order."""
    out, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def tally(db: Database, chosen: Filter, start: date, end: date, packset: PackSet | None = None) -> Tally:
    """Count the screenings stored in [start, end] that ``chosen`` selects (countries, kinds and outcomes in SQL)."""
    out = Tally(Summary(chosen))
    seen: set[tuple[str, str, str]] = set()
    read = 0
    with db.read() as conn:
        found = rows.screened(conn, chosen.countries, chosen.kinds, chosen.outcomes, start.isoformat(), _after(end), MAX_SCREENINGS + 1)
        for row in found:
            read += 1
            if read > MAX_SCREENINGS:
                out.truncated = True
                break
            dossier = (row["country"], row["kind"], row["dossier_id"])
            if dossier in seen:
                continue  # an older screening of a dossier screened again in the period
            seen.add(dossier)
            _add(out, orjson.loads(row["body"])["report"], row["screened_at"][:7], packset)
    return out


def _add(out: Tally, report: dict[str, Any], month: str, packset: PackSet | None) -> None:
    if not out.summary.add(report):
        return
    out.outcomes_by_month.setdefault(month, Counter())[report["outcome"]] += 1
    chosen = out.summary.chosen.findings(report)
    for finding in chosen:
        out.by_act[finding.get("act") or "none"] += 1
    out.findings_by_month[month] += len(chosen)
    if packset is not None:
        for finding in chosen:
            if finding.get("subject") and _personal_subject(out, packset, finding["rule_id"]):
                out.withheld.add(intermediary_key(finding["subject"]))


def _personal_subject(out: Tally, packset: PackSet, rule_id: str) -> bool:
    """Whether a rule's findings are about a party read from personal data (the redaction's own test, once per rule)."""
    if rule_id not in out.personal_rules:
        out.personal_rules[rule_id] = redact_finding({"rule_id": rule_id, "subject": {}}, packset)["subject"] is None
    return out.personal_rules[rule_id]


def _after(day: date) -> str:
    return (day + timedelta(days=1)).isoformat()


def brief(service: NoticeService, packset: PackSet, country: str, start: date, end: date, due: dict[str, int], today: date) -> dict[str, Any]:
    """The consultation brief of one partner for [start, end]; ``framework.bad_period`` past :data:`MAX_BRIEF_DAYS`."""
    check_period(start, end, MAX_BRIEF_DAYS)
    before_end = start - timedelta(days=1)
    before_start = before_end - (end - start)
    now = _figures(service, packset, country, start, end)
    before = _figures(service, packset, country, before_start, before_end)
    known = set(before.pop("intermediary_keys"))
    del now["intermediary_keys"]
    agenda = framework.agenda(service, country, start, end, due, today)
    overdue = next(t["items"]["overdue"] for t in agenda["topics"] if t["topic"] == "c")
    return {
        "country": country,
        "article": agenda["article"],
        "period": {"from": start.isoformat(), "to": end.isoformat()},
        "previous_period": {"from": before_start.isoformat(), "to": before_end.isoformat()},
        "as_of": today.isoformat(),
        **now,
        "notices_overdue": overdue,
        "changes": changes(now, before, known),
        "topics": [{"topic": t["topic"], "title": t["title"]} for t in agenda["topics"]],
        "agenda": agenda,
        "limits": {"screenings": MAX_SCREENINGS, "intermediaries": TOP_INTERMEDIARIES, "days": MAX_BRIEF_DAYS},
    }


def _figures(service: NoticeService, packset: PackSet, country: str, start: date, end: date) -> dict[str, Any]:
    """The counts of one period of a brief."""
    counted = tally(service.outbox.db, Filter.of(countries=[country]), start, end, packset)
    summary = counted.summary
    first, after = start.isoformat(), _after(end)
    with service.outbox.db.read() as conn:
        received = framework_rows.received_by_kind(conn, country, first, after)
        sent, answered = rows.notices_sent(conn, country, first, after), rows.notices_answered(conn, country, first, after)
        asked = rows.inquiries_sent(conn, country, first, after)
    return {
        "dossiers": summary.records,
        "outcomes": {o: summary.outcome[o] for o in OUTCOMES},
        "findings": summary.findings,
        "findings_by_act": {a: counted.by_act[a] for a in ACTS if counted.by_act[a]},
        "findings_by_month": {m: counted.findings_by_month[m] for m in months(start, end)},
        "intermediaries": top_intermediaries(counted),
        "intermediary_keys": list(summary.intermediary),
        "notices_sent": sent,
        "notices_answered": answered,
        "received": {k: received.get(k, 0) for k in RECEIVED},
        "inquiries_received": received.get("inquiry", 0),
        "inquiries_sent": asked,
        "truncated": counted.truncated,
    }


def top_intermediaries(counted: Tally, limit: int = TOP_INTERMEDIARIES) -> list[dict[str, Any]]:
    """The intermediaries with most findings, by stable identity; an individual's name withheld (id only)."""
    ranked = sorted(counted.summary.intermediary.items(), key=lambda kv: (-kv[1].findings, kv[0]))[:limit]
    return [
        {
            "key": key,
            "id": key.removeprefix("id:") if key.startswith("id:") else None,
            "name": None if key in counted.withheld else group.name,
            "role": group.role,
            "findings": group.findings,
            "dossiers": group.candidates + group.brokers,
            "acts": sorted(group.acts),
        }
        for key, group in ranked
    ]


CHANGED = ("dossiers", "findings", "notices_sent", "notices_answered", "inquiries_received", "inquiries_sent")
"""The counts a brief compares with the previous period's."""


def changes(now: dict[str, Any], before: dict[str, Any], known: set[str]) -> dict[str, Any]:
    """What changed since the previous period: each count then and now, findings by act, revocations, and the
    intermediaries listed now that had no finding then (``known``: every intermediary of the previous period)."""
    counts = {k: {"before": before[k], "now": now[k], "change": now[k] - before[k]} for k in CHANGED}
    counts["revocations"] = {"before": before["received"]["revocation"], "now": now["received"]["revocation"]}
    counts["revocations"]["change"] = counts["revocations"]["now"] - counts["revocations"]["before"]
    acts = [a for a in ACTS if a in now["findings_by_act"] or a in before["findings_by_act"]]
    by_act = {a: {"before": before["findings_by_act"].get(a, 0), "now": now["findings_by_act"].get(a, 0)} for a in acts}
    for value in by_act.values():
        value["change"] = value["now"] - value["before"]
    return {"counts": counts, "findings_by_act": by_act, "new_intermediaries": [i for i in now["intermediaries"] if i["key"] not in known]}


def dashboard(db: Database, chosen: Filter, start: date, end: date) -> dict[str, Any]:
    """The examiners' dashboard: outcomes over time (by month screened), by country, findings by act; the filters of ``report``."""
    check_period(start, end, MAX_DASHBOARD_DAYS)
    counted = tally(db, chosen, start, end)
    summary = counted.summary
    every = months(start, end)
    return {
        "period": {"from": start.isoformat(), "to": end.isoformat()},
        "dossiers": summary.records,
        "findings": summary.findings,
        "outcomes": {o: summary.outcome[o] for o in OUTCOMES},
        "outcomes_by_month": {m: {o: counted.outcomes_by_month.get(m, Counter())[o] for o in OUTCOMES} for m in every},
        "by_country": {c: g.to_json()["outcomes"] for c, g in sorted(summary.country.items())},
        "findings_by_act": {a: counted.by_act[a] for a in ACTS if counted.by_act[a]},
        "truncated": counted.truncated,
        "limits": {"screenings": MAX_SCREENINGS, "days": MAX_DASHBOARD_DAYS},
    }
