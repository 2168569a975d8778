"""Reports for readers who may not see personal data: every value of a field the model marks personal is withheld.

The model marks personal fields once (:data:`dossier_rules.model.PERSONAL`,
``x-personal`` in the published schema). A finding can carry such a value in
two places: its evidence (JSON pointer -> value) and its message, whose
placeholders quote dossier fields. Notices to a partner ministry, the
service's API and pages, and what they export all withhold them the same
way, here: evidence read from a personal field is left out, and in the
message (both languages) each placeholder that reads a personal field is
replaced by :data:`WITHHELD`; a message that cannot be matched to its rule's
template is withheld whole, so nothing is shown by mistake.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .conditions import ROOT
from .model import KINDS, personal_fields, personal_pointer, without_personal

if TYPE_CHECKING:
    from .packs import CompiledRule, Lang, PackSet, Template

WITHHELD = {"ja": "［個人情報のため省略］", "en": "[withheld: personal data]"}
"""What stands in a message where a personal value was."""


def withheld_message(rule: CompiledRule | None, rendered: Mapping[str, str], messages: Mapping[Lang, Template] | None = None) -> dict[str, str]:
    """``rendered`` (language -> message of a finding of ``rule``) with every personal value replaced by :data:`WITHHELD`.

    The rule's message template says which placeholders read personal fields;
    the rendered message is matched against the template to find their values.
    ``messages`` are the templates as the finding's pack worded them (its MOC's
    words, its effect sentence); without them the rule's own are matched, and a
    message that does not match is withheld whole, as is every message of a
    rule the packs do not have (a report made with other packs).
    """
    if rule is None:
        return {lang: WITHHELD.get(lang, WITHHELD["en"]) for lang in rendered}
    templates: dict[str, Template] = dict((messages if messages is not None else rule.messages).items())  # looked up by any language a report has
    bases = _bases(rule)
    return {lang: _withhold(templates[lang], text, bases, lang) if lang in templates else WITHHELD.get(lang, WITHHELD["en"]) for lang, text in rendered.items()}


def _bases(rule: CompiledRule) -> dict[str, str]:
    """Where each name a rule's paths start from points in the dossier (any item of a ``for_each`` list)."""
    bases = {ROOT: ""}
    if rule.for_each is not None and rule.spec.for_each is not None:
        bases[rule.spec.for_each.as_] = rule.for_each.pointer({ROOT: ""}) + "/0"
    return bases


def _withhold(template: Template, text: str, bases: dict[str, str], lang: str) -> str:
    """One rendered message with the values of its personal placeholders withheld (a path of unknown origin counts as personal)."""
    from .packs import Wording  # a pack's own words ({@name}): never personal, matched like any value

    parts = template.parts
    personal = [not isinstance(p, str | Wording) and (p.start not in bases or holds_personal(p.pointer(bases))) for p in parts]
    if not any(personal):
        return text
    match = re.fullmatch("".join(re.escape(p) if isinstance(p, str) else "(.*?)" for p in parts), text, re.S)
    if match is None:
        return WITHHELD.get(lang, WITHHELD["en"])
    values = iter(match.groups())
    out = []
    for part, secret in zip(parts, personal, strict=True):
        if isinstance(part, str):
            out.append(part)
        else:
            value = next(values)
            out.append(WITHHELD.get(lang, WITHHELD["en"]) if secret else value)
    return "".join(out)


_PERSONAL_PATTERNS = tuple(pattern for model in KINDS.values() for pattern in personal_fields(model))


def holds_personal(pointer: str) -> bool:
    """Whether the value at ``pointer`` is personal or contains a personal field (``/certificate`` holds its number).

    A message that quotes a whole object shows what is inside it, so such a
    placeholder is withheld like a personal field.
    """
    if personal_pointer(pointer):
        return True
    generic = re.sub(r"/[0-9]+(?=/|$)", "/*", pointer)
    return any(pattern.startswith(generic + "/") for pattern in _PERSONAL_PATTERNS) or pointer == ""


def without_personal_evidence(evidence: Mapping[str, Any]) -> dict[str, Any]:
    """Evidence without the values read from personal fields, including those inside an object or list quoted whole."""
    return {pointer: without_personal(value, pointer) for pointer, value in evidence.items() if not personal_pointer(pointer)}


def redact_finding(finding: Mapping[str, Any], packs: PackSet | None, pack: str | None = None) -> dict[str, Any]:
    """A finding (report JSON) as a reader who may not see personal data sees it; ``packs`` name its rule's template.

    ``pack`` is the report's pack: its wording of the rule's messages is the one the finding was rendered with.
    """
    rule_id = finding.get("rule_id")
    rule = packs.rule(rule_id) if packs is not None and isinstance(rule_id, str) else None
    resolved = packs.packs.get(pack) if packs is not None and isinstance(pack, str) else None
    worded = next((r.messages for r in resolved.rules if r.rule.id == rule_id), None) if resolved is not None else None
    out = dict(finding)
    if isinstance(finding.get("message"), Mapping):
        out["message"] = withheld_message(rule, finding["message"], worded)
    if isinstance(finding.get("evidence"), Mapping):
        out["evidence"] = without_personal_evidence(finding["evidence"])
    if finding.get("subject") is not None and (rule is None or _personal_subject(rule)):
        out["subject"] = None
    return out


def _personal_subject(rule: CompiledRule) -> bool:
    """Whether the party a rule's findings are about is read from a personal field (rules name intermediaries, not candidates)."""
    subject = rule.subject
    if subject is None:
        return False
    bases = _bases(rule)
    return subject.start not in bases or holds_personal(subject.pointer(bases))


def redact_report(report: Mapping[str, Any], packs: PackSet | None) -> dict[str, Any]:
    """A report (or any record with ``findings``) without personal data in its findings, for the API, pages and exports."""
    out = dict(report)
    if isinstance(report.get("findings"), list):
        pack = report.get("pack") if isinstance(report.get("pack"), str) else None
        out["findings"] = [redact_finding(f, packs, pack) for f in report["findings"]]
    return out
