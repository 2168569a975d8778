"""What Japan sends on its own: improvement orders to each partner whose MOC asks for them, only while it is in force.

KH 6(4): Japan *notifies* (通知) MoLVT of improvement orders against receiving
organisations **or registered support organisations**. LA, KG, TJ 6(3): Japan
*reports* (通報) improvement orders against **receiving organisations**. PK's
MOC has no such article: nothing is sent to PK. Each MOC's own word is kept
(glossary: KH 6(4) 通知, LA/KG/TJ 6(3) 通報), never normalised.

An order against an organisation that Japan's list of registered support
organisations names is an order against a support organisation: it goes to
KH only.

The same sentence of each of those articles has Japan share its list of
registered support organisations (KH 6(4) 「登録支援機関リストを…共有する」;
LA, KG, TJ 6(3) 「登録支援機関一覧を…共有する」), in the clause that begins
「改善命令…を行った場合には」: so each notice of orders carries the list as it
stands on the day the notice is drafted (the organisations listed that day),
under the pack's ``support_organisation_list`` provision. A partner whose MOC is not in force on the day (TJ while the start of
its MOC is unknown) gets nothing; it is reported as held back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ..packs import PackSet
from ..registries import LoadedRegistry, Registries
from ..status import pack_status

ORDERS = "improvement-orders"
SUPPORT = "support-organisations"
NOTICE_WORD = "improvement_orders_notice"
"""The pack's wording for Japan's notice of improvement orders (KH 6(4) 通知; LA, KG, TJ 6(3) 通報)."""
REPORTED = {"ja": "通報", "en": "report"}
SUPPORT_ORDERS = "support_organisation_orders"
"""The pack provision under which orders against registered support organisations are notified too (KH 6(4) only)."""
SUPPORT_LIST = "support_organisation_list"
"""The pack provision under which the list of registered support organisations goes with the orders (KH 6(4); LA, KG, TJ 6(3))."""
MAX_LISTED = 20_000
"""At most this many organisations of the list in one notice; a longer list is cut and the notice says how many it left out."""


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
        shares_list = pack.provisions().get(SUPPORT_LIST)
        out.notices.append(
            ({"support_organisations": support_list(support, f"MOC-{country} {shares_list}", on)} if shares_list and support else {})
            | {
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


def support_list(support: LoadedRegistry, provision: str, on: date) -> dict[str, Any]:
    """Japan's list of registered support organisations as it stands on ``on``: what goes with a notice of orders."""
    listed = [e for e in support.entries() if e.active_on(on)]
    return {
        "provision": provision,
        "on": on.isoformat(),
        "count": len(listed),
        "left_out": max(0, len(listed) - MAX_LISTED),
        "organisations": [{"id": e.id, "name": e.name, "listed_from": e.listed_from.isoformat() if e.listed_from else None} for e in listed[:MAX_LISTED]],
        "source": {"registry": SUPPORT, "retrieved_on": support.registry.retrieved_on.isoformat(), "sha256": support.sha256},
    }
