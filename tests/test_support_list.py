"""Japan's list of registered support organisations goes with its notices of improvement orders (KH 6(4); LA, KG, TJ 6(3)).

Each of those articles joins the two in one clause that begins 「改善命令…を行った場合には」:
notify the orders *and* share the list. PK's MOC has neither; TJ's is not in force.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from dossier_rules.framework import japan
from dossier_rules.packs import PackSet

ON = date(2025, 10, 1)


def notices(packset: PackSet, registries: Any) -> dict[str, dict[str, Any]]:
    found = japan.improvement_order_notices(packset, registries, date(2025, 1, 1), date(2025, 9, 30), ON)
    return {n["country"]: n for n in found.notices}


def test_each_notice_of_orders_carries_the_list_under_its_own_article(packset: PackSet, registries: Any) -> None:
    by_country = notices(packset, registries)
    assert sorted(by_country) == ["KG", "KH", "LA"]
    assert by_country["KH"]["support_organisations"]["provision"] == "MOC-KH 6(4)"
    assert by_country["LA"]["support_organisations"]["provision"] == "MOC-LA 6(3)"
    assert by_country["KG"]["support_organisations"]["provision"] == "MOC-KG 6(3)"


def test_the_list_is_the_one_that_stands_on_the_day(packset: PackSet, registries: Any) -> None:
    shared = notices(packset, registries)["KH"]["support_organisations"]
    # SO-JP-0202 left the list on 2025-01-31: not on the list shared on 2025-10-01
    assert [o["id"] for o in shared["organisations"]] == ["SO-JP-0101"]
    assert (shared["count"], shared["left_out"], shared["on"]) == (1, 0, "2025-10-01")
    assert shared["source"]["registry"] == "support-organisations" and len(shared["source"]["sha256"]) == 64
    earlier = japan.support_list(registries.get("JP", "support-organisations"), "MOC-KH 6(4)", date(2024, 12, 1))
    assert [o["id"] for o in earlier["organisations"]] == ["SO-JP-0101", "SO-JP-0202"]


def test_a_long_list_is_cut_and_says_how_much_it_left_out(registries: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(japan, "MAX_LISTED", 0)
    shared = japan.support_list(registries.get("JP", "support-organisations"), "MOC-KH 6(4)", ON)
    assert (shared["organisations"], shared["count"], shared["left_out"]) == ([], 1, 1)


def test_a_pack_without_the_provision_shares_no_list(packset: PackSet, registries: Any, monkeypatch: Any) -> None:
    kh = packset.for_country("KH")
    assert kh is not None and kh.provisions().get(japan.SUPPORT_LIST) == "6(4)"
    declared = type(kh).provisions
    monkeypatch.setattr(type(kh), "provisions", lambda self: {k: v for k, v in declared(self).items() if k != japan.SUPPORT_LIST})
    assert "support_organisations" not in notices(packset, registries)["KH"]
