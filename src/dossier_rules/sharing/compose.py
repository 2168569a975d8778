"""What goes into a notice from one report: its keys, its header from the pack's MOC facts, the checks a report passes, personal data.

Keys are derived from content, never from the clock, so building again finds
the same finding and the same notice (:func:`finding_key`, :func:`group_key`,
:func:`notice_id`). A report joins a notice only if it names the packs loaded
now and each finding cites its rule's article in that MOC
(:func:`provenance_problem`); personal values are withheld from messages, and
a candidate's identity is attached only when the dossier read back is provably
the one screened (:func:`identity_of`).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .. import __version__, redaction
from ..batch import record_bytes, record_digest
from ..locale import _
from ..problems import InputError, Problem
from ..registries import comparable_name
from ..report import Finding, Report
from ..results import intermediary_key
from ..sources import load_dossier, without_nulls
from .model import JAPAN_SIDE, act_title

# --------------------------------------------------------------------------- keys


def _digest(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()


def finding_key(report: Report, finding: Finding) -> str:
    """The same finding found again (same rule, dossier and evidence) has the same key."""
    return _digest(finding.rule_id, report.country, report.dossier_id, finding.evidence)


def group_key(report: Report, finding: Finding) -> str:
    """One notice per partner and intermediary and act. Test fraud has no intermediary: the MOC's test article (KH 7;
    LA/KG/TJ/PK 5) shares information "about the test" (当該試験に関し), so its notices group by test sitting (kind,
    name and date taken); a case whose dossier leaves one of them out cannot be placed in a sitting and stays alone."""
    if finding.act == "test_fraud":
        sitting = test_sitting(finding)
        if sitting is None:
            return f"{report.country}|test_fraud|{report.dossier_id}|{finding.item or ''}"
        return f"{report.country}|test_fraud|sitting|{sitting}"
    return f"{report.country}|{finding.act}|{intermediary_key(finding.subject)}"


SITTING_FIELDS = ("kind", "name", "taken_on")
"""What makes two tests one sitting: the kind of test, its name (as :func:`comparable_name` compares names) and the date."""


def test_sitting(finding: Finding) -> str | None:
    """The test sitting a test-fraud finding is about, read from its evidence (the test's fields under its item);
    None when one of :data:`SITTING_FIELDS` is not given."""
    item = finding.item or ""
    values = [finding.evidence.get(f"{item}/{name}") for name in SITTING_FIELDS]
    if not item or not all(isinstance(value, str) and value.strip() for value in values):
        return None
    kind, name, taken_on = (str(value) for value in values)
    return f"{kind}|{comparable_name(name)}|{taken_on}"


def notice_id(country: str, act: str, key: str, seq: int) -> str:
    return f"N-{country}-{act.replace('_', '-')}-{_digest(key)[:10]}-{seq}"


def notice_header(pack: Any, report: Report, finding: Finding) -> dict[str, Any]:
    """What a notice says about itself, fixed when it is created from the pack's MOC facts."""
    moc = pack.moc
    return {
        "act_title": act_title(pack, finding.act or "").model_dump(),
        "provision": finding.article,
        "sender": {"ministry": JAPAN_SIDE.model_dump(), "contact_point": moc.contact_points.japan.model_dump()},
        "recipient": {"ministry": moc.partner_ministry.model_dump(exclude={"abbrev"}), "contact_point": moc.contact_points.partner.model_dump()},
        "intermediary": finding.subject if finding.act != "test_fraud" else None,
        "confidentiality": {
            "article": f"MOC-{pack.country} {moc.confidentiality.article}",
            "scope": moc.confidentiality.scope,
            "text": moc.confidentiality.text.model_dump(),
        },
        "packs": [p.model_dump() for p in report.packs or ()],
        "tool_version": __version__,
    }


def identity_of(report: Report, source: str) -> tuple[dict[str, Any] | None, Problem | None]:
    """The candidate's identity, read from the record the report names, if it is provably that record.

    The record read back must have the dossier id and the content hash the
    report recorded: an input reordered or replaced since screening would
    otherwise attach another person's identity to the notice.
    """
    if report.kind != "candidate":
        return None, None
    if not report.source or report.source == "-" or report.source_sha256 is None:
        return None, Problem(
            source,
            _("report {id} does not record where its dossier is and its content hash; re-screen it to share personal data", id=report.dossier_id),
            kind="unverified",
        )
    try:
        raw, path, line = record_bytes(report.source)
        dossier = load_dossier(raw, path, line)
    except (InputError, OSError):
        return None, Problem(
            source,
            _("the dossier of report {id} cannot be read at {source}; personal data not attached", id=report.dossier_id, source=report.source),
            kind="unverified",
        )
    if record_digest(raw) != report.source_sha256 or dossier.get("dossier_id") != report.dossier_id:
        message = _(
            "{source} no longer holds the dossier report {id} was made from (content changed); personal data not attached, report not shared",
            source=report.source,
            id=report.dossier_id,
        )
        return None, Problem(source, message, kind="unverified")
    identity = dossier.get("identity")
    return (without_nulls(identity) if identity else None), None


def provenance_problem(pack: Any, report: Report, shared: list[Finding], source: str) -> Problem | None:
    """Why this report cannot join a notice: packs not the ones loaded, or a finding citing another MOC's article."""
    if report.packs is None:  # a lean report whose batch output lost its run header
        return Problem(
            source,
            _(
                "report {id} does not name the packs it was made with (a batch output without its run header?); re-screen it before sharing",
                id=report.dossier_id,
            ),
            kind="unverified",
        )
    loaded = [{"id": s.id, "version": s.spec.pack.version, "sha256": s.sha256} for s in pack.chain]
    if [p.model_dump() for p in report.packs] != loaded:
        return Problem(
            source,
            _(
                "report {id} was made with packs other than those loaded now (ids, versions or hashes differ); re-screen it before sharing",
                id=report.dossier_id,
            ),
            kind="unverified",
        )
    articles = {r.rule.id: r.article for r in pack.rules}
    for finding in shared:
        if articles.get(finding.rule_id) != finding.article:
            return Problem(
                source,
                _(
                    "report {id}: finding {rule} cites {article}, which is not what pack {pack} ({country}) cites for it; not shared",
                    id=report.dossier_id,
                    rule=finding.rule_id,
                    article=finding.article,
                    pack=pack.id,
                    country=pack.country,
                ),
                kind="unverified",
            )
    return None


def withheld_message(pack: Any, finding: Finding) -> dict[str, str]:
    """The finding's message with every value of a personal field withheld (:func:`dossier_rules.redaction.withheld_message`), in the pack's wording."""
    resolved = next((r for r in pack.rules if r.rule.id == finding.rule_id), None)
    if resolved is None:
        return redaction.withheld_message(None, finding.message.model_dump())
    return redaction.withheld_message(resolved.rule, finding.message.model_dump(), resolved.messages)
