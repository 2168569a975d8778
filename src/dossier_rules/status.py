"""Whether a pack's MOC is in force on a date, and what that does to a report: never assume silently.

A MOC is in force, not yet in force, ended, or its start is unknown (the
text gives no date the pack can record); a start can also be only this pack's
reading (assumed). Outside the period a finding has no effect under the MOC:
it does not block and is not shared, and the report says why. The engine, the
outbox and the framework's notices all ask this one module.
"""

from __future__ import annotations

from datetime import date

from . import labels
from .packs import Pack
from .report import data_warning
from .sources import Data


def pack_status(pack: Pack, as_of: date) -> Data:
    """Whether the pack's MOC is in force on ``as_of``, and whether its start is stated, assumed or unknown: never assume silently."""
    period = pack.moc.in_force
    article = f"MOC-{pack.country} {period.article}"
    start = "unknown" if period.starts_on is None else "assumed" if period.start_assumed else "stated"
    if period.starts_on is None:
        rule = period.start_rule
        state = "start_unknown"
        detail = {
            "ja": "この協力覚書の開始日は未確定です"
            + (f"（{rule.ja}）" if rule else "")
            + "。協力開始日がパックに記録されるまで、協力覚書に基づく扱い（不適合の判定及び相手国との情報共有）は行いません。",
            "en": "The start date of this MOC is not known"
            + (f" ({rule.en})" if rule else "")
            + "; until the pack records it, nothing is treated as having an effect under the MOC (no block, nothing shared).",
        }
    elif as_of < period.starts_on:
        state = "not_yet_in_force"
        detail = {
            "ja": f"基準日（{as_of.isoformat()}）の時点では、協力覚書に基づく協力はまだ開始されていません（協力開始日：{period.starts_on.isoformat()}）。",
            "en": f"On {as_of.isoformat()} this MOC was not yet in force (it starts on {period.starts_on.isoformat()}).",
        }
    elif period.ends_on is not None and as_of >= period.ends_on:
        state = "ended"
        detail = {
            "ja": f"協力覚書に基づく協力は {period.ends_on.isoformat()} に終了しています（基準日：{as_of.isoformat()}）。",
            "en": f"This MOC ended on {period.ends_on.isoformat()} (evaluated as of {as_of.isoformat()}).",
        }
    else:
        state = "in_force"
        detail = {"ja": "基準日は、協力覚書に基づく協力の期間内です。", "en": "In force on the date evaluated."}
    if start == "assumed":  # the text gives no single start date: say on what the pack's date rests
        rule = period.start_rule
        detail = {
            "ja": detail["ja"] + f"なお、協力開始日（{period.starts_on}）はこのパックの解釈によるものです" + (f"（{rule.ja}）。" if rule else "。"),
            "en": detail["en"] + f" The start date ({period.starts_on}) is this pack's reading" + (f": {rule.en}." if rule else "."),
        }
    return {"state": state, "article": article, "start": start, "detail": detail}


def status_warnings(status: Data) -> list[Data]:
    """What the pack status limits: a MOC not in force (findings for information only), or a start that is only assumed.

    Both come from ``status["detail"]``, which already states an assumed start, so one warning says it once.
    """
    warnings = []
    if status["state"] != "in_force":
        warnings.append(
            data_warning(
                "pack-not-in-force",
                {"ja": labels.term("not_in_force", "ja", "outcome"), "en": "MOC not in force on the date evaluated"},
                {
                    "ja": status["detail"]["ja"] + "このため、指摘は参考として表示しており、不適合とはせず、相手国との情報共有の対象ともしません。",
                    "en": status["detail"]["en"] + " Findings are shown for information only: none blocks and none is shared.",
                },
            )
        )
    elif status["start"] == "assumed":  # the not-in-force message already carries the assumption
        warnings.append(
            data_warning(
                "pack-start-assumed",
                {"ja": "協力開始日は推定", "en": "MOC start date is the pack's reading"},
                status["detail"],
            )
        )
    return warnings


NOT_IN_FORCE_EFFECT = {
    "ja": "基準日が協力覚書の適用期間外のため、この指摘は参考として表示しています（不適合とはせず、相手国との情報共有の対象ともしません）。",
    "en": "The MOC was not in force on the date evaluated, so this finding has no effect under it (for information: it does not block and is not shared).",
}


def without_moc_effect(finding: Data, effects: dict[str, dict[str, str]]) -> Data:
    """A finding under a MOC not in force: block becomes warn, nothing is shared, and it says why.

    Every evaluator builds ``rule_severity`` and ``limited`` as null, in the same place; only this sets them.
    The rule's effect sentence (``effects``, by rule id), which ends its message, is taken off, so the
    message reads as information only.
    """
    effect = effects.get(finding["rule_id"])
    if effect is not None:
        finding["message"] = {lang: text.removesuffix(effect[lang]) for lang, text in finding["message"].items()}
    if finding["severity"] == "block":
        finding["rule_severity"] = "block"
        finding["severity"] = "warn"
    elif finding["share"]:
        finding["rule_severity"] = finding["severity"]
    else:
        return finding
    finding["share"] = False
    finding["limited"] = NOT_IN_FORCE_EFFECT
    return finding
