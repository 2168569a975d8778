"""What the Result page shows, worked out from a stored screening: verdict, warnings, findings, the unknown.

Templates only lay this out; every decision about what a person must see
(which banner, which group, what could not be checked) is made here, where
it can be tested without a browser.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..engine import Engine
from ..locale import N_, language
from ..model import personal_pointer
from ..packs import SEVERITY_RANK
from ..report import checks_made

VERDICTS = {
    "blocked": ("block", N_("Blocked: the MOC does not allow this application as it stands")),
    "review": ("warn", N_("Needs review: a person must resolve the findings below")),
    "clear": ("clear", N_("No findings")),
    "not_in_force": ("warn", N_("MOC not in force on the date evaluated")),
}


@dataclass
class Verdict:
    css: str
    text: str
    warnings: list[tuple[str, str]] = field(default_factory=list)
    """(what, text): ``not_in_force``, ``sample`` or ``stale``, and the words to show."""


def verdict(report: dict[str, Any]) -> Verdict:
    """The banner: the outcome, and every reason the result itself is uncertain (impossible to miss)."""
    css, text = VERDICTS.get(report.get("outcome", ""), ("warn", N_("Needs review: a person must resolve the findings below")))
    out = Verdict(css, text)
    status = report.get("pack_status") or {}
    if status.get("state") not in (None, "in_force"):
        out.warnings.append(("not_in_force", N_("MOC not in force on the date evaluated")))
    registries = report.get("registries") or []
    if any(r.get("sample") for r in registries):
        out.warnings.append(("sample", N_("Sample registry: the lists consulted are fictional sample data, not the published lists")))
    if any(r.get("status") in ("stale", "missing") for r in registries):
        out.warnings.append(("stale", N_("Stale or missing registry: a list consulted is older than allowed, or absent")))
    return out


def grouped(findings: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Findings by severity, most severe first; empty groups left out."""
    order = sorted({f["severity"] for f in findings}, key=SEVERITY_RANK.__getitem__, reverse=True)
    return [(s, [f for f in findings if f["severity"] == s]) for s in order]


def localized(value: Any) -> str:
    """A ``{"ja": ..., "en": ...}`` text in the page's language."""
    if isinstance(value, dict):
        return str(value.get(language()) or value.get("en") or "")
    return "" if value is None else str(value)


def present(dossier: Any, pointer: str) -> bool:
    """Whether the dossier gives a value at ``pointer`` (absent and null are both "not given")."""
    found, value = _resolve(dossier, pointer)
    return found and value is not None


def _resolve(dossier: Any, pointer: str) -> tuple[bool, Any]:
    node = dossier
    for step in pointer.strip("/").split("/"):
        if isinstance(node, dict) and step in node:
            node = node[step]
        elif isinstance(node, list) and step.isdigit() and int(step) < len(node):
            node = node[int(step)]
        else:
            return False, None
    return True, node


def checks(engine: Engine, report: dict[str, Any], dossier: dict[str, Any] | None, redacted: bool) -> dict[str, Any]:
    """What was checked: the report's own list (made before redaction); for a report older than that list, worked out
    from the stored dossier, leaving out what this role cannot see, so a hidden value is never said to be missing."""
    if report.get("checks") is not None:
        return dict(report["checks"])
    pack = engine.packset.packs.get(report["pack"])
    if not dossier or pack is None:
        return {"passed": [], "not_provided": []}
    made = checks_made(pack, report["kind"], dossier, report.get("findings", []))
    if redacted:
        made["not_provided"] = [m for m in made["not_provided"] if not personal_pointer(m["pointer"])]
    return made
