"""One broker, one identity: a broker dossier's ``broker_id`` groups views, filters and notices."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dossier_rules.engine import Engine
from dossier_rules.model import DOSSIER_ADAPTER
from dossier_rules.packs import PackSet
from dossier_rules.results import Filter, summarise
from dossier_rules.sharing import Outbox, render

from .conftest import sample
from .test_sharing import write_reports

BROKER_ID = "KG-MLSSM-REG-0451"


def broker(dossier_id: str, broker_id: str | None = BROKER_ID) -> dict[str, Any]:
    data = {**sample("kg-broker-holds-passports.json"), "dossier_id": dossier_id}
    if broker_id is not None:
        data["broker_id"] = broker_id
    return data


def candidate_naming(party_id: str) -> dict[str, Any]:
    data = sample("kg-candidate-test-fraud.json")
    data["held_property"] = [
        {
            "item": "deposit",
            "amount": 1500,
            "currency": "USD",
            "owner": "candidate",
            "holder": {"id": party_id, "name": "Chui Example Consulting (fictional)", "role": "intermediary"},
        }
    ]
    return data


def results(engine: Engine, dossiers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [engine.evaluate(DOSSIER_ADAPTER.validate_python(d), source=d["dossier_id"]).model_dump(mode="json") for d in dossiers]


def test_a_broker_finding_is_about_the_broker_id_and_falls_back_to_the_dossier_id(engine: Engine) -> None:
    named, unnamed = results(engine, [broker("KG-BRK-0100"), broker("KG-BRK-0101", None)])
    assert {f["subject"]["id"] for f in named["findings"] if f.get("subject")} == {BROKER_ID}
    assert {f["subject"]["id"] for f in unnamed["findings"] if f.get("subject")} == {"KG-BRK-0101"}


def test_dossiers_about_one_broker_and_candidates_naming_it_are_one_intermediary(engine: Engine) -> None:
    records = results(engine, [broker("KG-BRK-0100"), broker("KG-BRK-0101"), candidate_naming(BROKER_ID)])
    view = summarise(records).to_json()["intermediary"]
    assert list(view) == [f"id:{BROKER_ID}"]
    assert view[f"id:{BROKER_ID}"]["brokers"] == 2 and view[f"id:{BROKER_ID}"]["candidates"] == 1


def test_without_broker_id_each_dossier_stays_its_own_intermediary(engine: Engine) -> None:
    records = results(engine, [broker("KG-BRK-0100", None), broker("KG-BRK-0101", None)])
    assert sorted(summarise(records).to_json()["intermediary"]) == ["id:KG-BRK-0100", "id:KG-BRK-0101"]


def test_the_intermediary_filter_selects_by_broker_id(engine: Engine) -> None:
    records = results(engine, [broker("KG-BRK-0100"), broker("KG-BRK-0101", None)])
    chosen = Filter.of(intermediaries=[BROKER_ID])
    assert [r["dossier_id"] for r in records if chosen.matches(r)] == ["KG-BRK-0100"]


def test_one_notice_per_act_for_every_dossier_about_one_broker(engine: Engine, packset: PackSet, tmp_path: Path) -> None:
    dossiers = [broker(f"KG-BRK-{i:04d}") for i in range(100, 105)] + [candidate_naming(BROKER_ID)]
    reports = write_reports(engine, tmp_path / "r.jsonl", [(d["dossier_id"], d) for d in dossiers])
    with Outbox(tmp_path / "o.sqlite") as box:
        box.build(packset, [reports])
        rows = [r for r in box.notices() if r["act"] != "test_fraud"]
        deposits = box.notice(next(r["id"] for r in rows if r["act"] == "a"))
    assert sorted(r["act"] for r in rows) == ["a", "c"]
    assert {r["act"]: r["dossiers"] for r in rows} == {"a": 6, "c": 5}  # the candidate's deposit is act (a) too
    assert deposits.intermediary is not None and deposits.intermediary["id"] == BROKER_ID
    assert [d.dossier_id for d in deposits.dossiers] == ["KG-BRK-0100", "KG-BRK-0101", "KG-BRK-0102", "KG-BRK-0103", "KG-BRK-0104", "KG-CAND-0002"]
    listing = render(deposits, "md")
    assert "| KG-BRK-0104 | broker | September 11, 2025 | none | 1 |" in listing  # a broker's practice cites no amount
    assert "| KG-CAND-0002 | candidate | September 11, 2025 | 1,500 USD |" in listing
