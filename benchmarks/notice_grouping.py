"""How many notices 5,000 broker and candidate dossiers make, with and without the broker's stable identifier.

    python benchmarks/notice_grouping.py [--n 5000] [--seed 7] [--dir DIR] [--without-broker-id]

Writes DIR/dossiers.jsonl (seeded: the same arguments give the same file): the
case of issue 28, 279 broker dossiers about one Kyrgyz broker, and as many
more broker dossiers about twenty other brokers as make a tenth of N; the
rest are candidate dossiers from the clean samples, a third of them
recording a fee collected without its basis shown (act (e)) or a deposit held
(act (a)) by one of those brokers, named by its identifier. With
``--without-broker-id`` the broker dossiers record no ``broker_id`` (as before
the field existed: each one is its own intermediary). Then run::

    dossier-rules batch DIR/dossiers.jsonl --out DIR/results.jsonl
    dossier-rules share build DIR/results.jsonl --outbox DIR/outbox.sqlite
    dossier-rules share list --outbox DIR/outbox.sqlite --format json

and count the notices.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
CANDIDATES = {c: f"{c.lower()}-candidate-clean.json" for c in ("KH", "LA", "KG", "TJ")} | {"PK": "pk-candidate-clean-no-certificate.json"}
THE_BROKER = ("KG", "KG-MLSSM-REG-0451", "Chui Example Consulting (fictional)")
"""The broker of the issue's case: 279 dossiers about it."""
CASE = 279


def brokers(rng: random.Random) -> list[tuple[str, str, str]]:
    """The other brokers: (country, registration number, name)."""
    countries = list(CANDIDATES)
    return [(c, f"{c}-REG-{i:04d}", f"Example Broker {i} (fictional)") for i in range(20) for c in [rng.choice(countries)]]


def broker_dossier(i: int, who: tuple[str, str, str], with_id: bool) -> dict[str, Any]:
    country, number, name = who
    data: dict[str, Any] = {
        "schema_version": "1.0",
        "dossier_id": f"{country}-BRK-{i:06d}",
        "kind": "broker",
        "country": country,
        "submitted": f"2025-{(i % 9) + 1:02d}-{(i % 27) + 1:02d}",
        "name": name,
        "role": "intermediary",
        "legal_form": "corporate",
        "based_in": country,
        "practices": {"holds_passports": True, "takes_deposits": True},
    }
    if with_id:
        data["broker_id"] = number
    return data


def candidate(rng: random.Random, i: int, who: tuple[str, str, str]) -> dict[str, Any]:
    country, number, name = who
    data: dict[str, Any] = json.loads((SAMPLES / CANDIDATES[country]).read_text(encoding="utf-8"))
    data["dossier_id"] = f"{country}-CAND-{i:06d}"
    party = {"id": number, "name": name, "role": "intermediary", "country": country}
    if rng.random() < 0.5:
        fee = {"payer": "candidate", "payee": party, "amount": rng.randrange(500, 5000, 50), "currency": "USD", "purpose": "job introduction"}
        data["fees"] = [fee | {"basis_shown": False, "breakdown_explained": False, "acknowledged": False}]
    else:
        data["held_property"] = [{"item": "deposit", "holder": party, "owner": "candidate", "amount": rng.randrange(100, 2000, 50), "currency": "USD"}]
    return data


def generate(n: int, seed: int, with_id: bool) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    others = brokers(rng)
    everyone = [THE_BROKER, *others]
    out = [broker_dossier(i, THE_BROKER, with_id) for i in range(CASE)]
    out += [broker_dossier(i, rng.choice(others), with_id) for i in range(CASE, max(CASE, n // 10))]
    for i in range(len(out), n):
        who = rng.choice(everyone)
        if rng.random() < 1 / 3:
            out.append(candidate(rng, i, who))
        else:
            clean = json.loads((SAMPLES / CANDIDATES[who[0]]).read_text(encoding="utf-8"))
            out.append(clean | {"dossier_id": f"{who[0]}-CAND-{i:06d}"})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dir", type=Path, default=Path("notice-grouping"))
    parser.add_argument("--without-broker-id", action="store_true")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    path = args.dir / "dossiers.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for record in generate(args.n, args.seed, not args.without_broker_id):
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    print(f"wrote {args.n} dossiers to {path}")


if __name__ == "__main__":
    main()
