"""What Japan sends on its own: improvement orders to each partner whose MOC asks for them, only while it is in force.

KH 6(4): Japan *notifies* (通知) MoLVT of improvement orders against receiving
organisations **or registered support organisations**. LA, KG, TJ 6(3): Japan
*reports* (通報) improvement orders against **receiving organisations**. PK's
MOC has no such article: nothing is sent to PK. Each MOC's own word is kept
(glossary: KH 6(4) 通知, LA/KG/TJ 6(3) 通報), never normalised.

An order against an organisation that Japan's list of registered support
organisations names is an order against a support organisation: it goes to
KH only. A partner whose MOC is not in force on the day (TJ while the start of
its MOC is unknown) gets nothing; it is reported as held back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ..engine import pack_status
from ..packs import PackSet
from ..registries import Registries

ORDERS = "improvement-orders"
SUPPORT = "support-organisations"
NOTICE_WORD = "improvement_orders_notice"
"""The pack's wording for Japan's notice of improvement orders (KH 6(4) 通知; LA, KG, TJ 6(3) 通報)."""
REPORTED = {"ja": "通報", "en": "report"}
SUPPORT_ORDERS = "support_organisation_orders"
"""The pack provision under which orders against registered support organisations are notified too (KH 6(4) only)."""


@dataclass
class OrderNotices:
    """The notices of improvement orders to build for a period, and the partners left out and why."""

    notices: list[dict[str, Any]] = field(default_factory=list)
    held_back: list[dict[str, Any]] = field(default_factory=list)


def improvement_order_notices(packset: PackSet, registries: Registries, start: date, end: date, on: date) -> OrderNotices:
    """For each partner whose MOC asks for them and is in force on ``on``: the orders first listed in [start, end]."""
    out = OrderNotices()
    orders = registries.get("JP", ORDERS)
    support = registries.get("JP", SUPPORT)
    support_ids = {e.id for e in support.entries()} if support else set()
    new = [e for e in (orders.entries() if orders else ()) if e.listed_from is not None and start <= e.listed_from <= end]
    for country in sorted({p.country for p in packset.packs.values() if p.country}):
        pack = packset.for_country(country)
        article = pack.provisions().get("improvement_orders") if pack else None
        if pack is None or article is None:
            continue  # the MOC asks for no such notice (PK)
        status = pack_status(pack, on)
        if status["state"] != "in_force":
            out.held_back.append({"country": country, "state": status["state"], "detail": status["detail"]})
            continue
        covers_support = SUPPORT_ORDERS in pack.provisions()
        chosen = [e for e in new if covers_support or e.id not in support_ids]
        if not chosen:
            continue
        out.notices.append(
            {
                "country": country,
                "provision": f"MOC-{country} {article}",
                "word": word.model_dump() if (word := pack.wording().get(NOTICE_WORD)) is not None else REPORTED,
                "recipient": pack.moc.partner_ministry.model_dump(exclude={"abbrev"}),
                "period": {"from": start.isoformat(), "to": end.isoformat()},
                "orders": [
                    {
                        "id": e.id,
                        "name": e.name,
                        "ordered_on": e.listed_from.isoformat() if e.listed_from else None,
                        "support_organisation": e.id in support_ids,
                    }
                    for e in chosen
                ],
                "source": {
                    "registry": ORDERS,
                    "retrieved_on": orders.registry.retrieved_on.isoformat() if orders else None,
                    "sha256": orders.sha256 if orders else None,
                },
            }
        )
    return out
