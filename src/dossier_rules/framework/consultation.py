"""The consultations of 4(2): an agenda of problems to raise with one partner, built from the data.

Every MOC lists the same six topics of consultation (4(2)(a)-(f)); the
country named in (c) differs. The agenda puts the numbers of a period under
the topic they concern: findings and the intermediaries with most of them
under (b) (the appropriateness of intermediaries), notices of agencies
acting improperly and the revocations received under (c) (corrective
measures against inappropriate sending agencies), test fraud under (d).
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

TOPICS: dict[str, dict[str, str]] = {
    "a": {"ja": "本制度に係る両国の政策の実施及び変更", "en": "Implementation of, and changes to, both countries' policies on the programme"},
    "b": {
        "ja": "特定技能外国人仲介機関の適正さの確保（必要な是正措置の在り方を含む。）",
        "en": "Ensuring intermediaries are appropriate, including the corrective measures needed",
    },
    "c": {
        "ja": "送出し・受入れに係る各種審査、日本国内の不適切な受入機関又は特定技能1号の外国人への支援を行う不適切な機関及び相手国内の不適切な送出機関に対する是正措置",
        "en": "Screening of sending and acceptance; corrective measures against inappropriate receiving organisations, or organisations supporting SSW (i) workers, in Japan and inappropriate sending agencies in the partner country",
    },
    "d": {"ja": "技能及び日本語能力の測定試験の適正な実施", "en": "Proper conduct of the skills and Japanese-language tests"},
    "e": {"ja": "特定技能外国人の日本国での在留管理", "en": "Residence management of Specified Skilled Workers in Japan"},
    "f": {
        "ja": "その他、両国の出入国又は労働に係る制度の適正な運用",
        "en": "Other matters of the proper operation of both countries' immigration and labour systems",
    },
}
"""The topics of 4(2)(a)-(f), the same in the five MOCs (summarised; the MOC's text is the authority)."""
ARTICLE = "4(2)"


def agenda(
    country: str,
    period: tuple[str, str],
    by_act: dict[str, int],
    groups: list[dict[str, Any]],
    open_notices: list[dict[str, Any]],
    received: dict[str, int],
) -> dict[str, Any]:
    """The agenda: each topic of 4(2) with the numbers of the period that concern it (none for (a), (e), (f): nothing in the data)."""
    mine = [n for n in open_notices if n["country"] == country]
    delays = [n["days_before_sent"] for n in mine if n["days_before_sent"] is not None and n["state"] != "approved"]
    return {
        "country": country,
        "article": f"MOC-{country} {ARTICLE}",
        "period": {"from": period[0], "to": period[1]},
        "topics": [
            {"topic": "a", "title": TOPICS["a"], "items": {}},
            {
                "topic": "b",
                "title": TOPICS["b"],
                "items": {
                    "findings_by_act": {act: n for act, n in by_act.items() if act != "test_fraud"},
                    "intermediaries": [_intermediary(g) for g in groups],
                },
            },
            {
                "topic": "c",
                "title": TOPICS["c"],
                "items": {
                    "open_notices_by_state": dict(sorted(Counter(n["state"] for n in mine).items())),
                    "overdue": sum(1 for n in mine if n["overdue"]),
                    "longest_wait_before_sending_days": max(delays, default=None),
                    "revocations_received": received.get("revocation", 0),
                    "accreditations_received": received.get("accreditation", 0),
                    "results_received": received.get("result", 0),
                },
            },
            {"topic": "d", "title": TOPICS["d"], "items": {"test_fraud_findings": by_act.get("test_fraud", 0)}},
            {"topic": "e", "title": TOPICS["e"], "items": {}},
            {"topic": "f", "title": TOPICS["f"], "items": {}},
        ],
    }


def _intermediary(group: dict[str, Any]) -> dict[str, Any]:
    """An intermediary as a notice names it (id and name only: the notice's header already holds nothing personal)."""
    party = json.loads(group["header"]).get("intermediary") or {}
    return {"id": party.get("id"), "name": party.get("name"), "act": group["act"], "findings": group["findings"]}
