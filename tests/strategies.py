"""Hypothesis strategies shared by the differential tests (generated code, Rete, interpreter).

They live here, not in a test module, so a module that skips itself (``test_rete.py`` without
durable-rules) never takes another's tests with it. Everything country-specific is read from the
packs and registries present: a new ``rules/<cc>.yaml`` is generated for like the others, its
declared ``country_fields`` included.
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st

from dossier_rules.packs import DeclaredField, PackSet, load_packs
from dossier_rules.registries import load_registries

from .conftest import RULES


def budget(thorough: int) -> int:
    """Examples for a property test: ``thorough`` under the ``ci`` profile, the profile's own (fewer) under ``dev``."""
    return min(thorough, settings.default.max_examples)


# values chosen around the boundaries the rules care about
DATES = ["2023-12-31", "2024-06-01", "2025-01-14", "2025-01-15", "2025-03-01", "2025-07-01", "2025-09-30", "2025-10-01", "2026-06-01"]
ROLES = [None, "sending_agency", "intermediary", "receiving_organisation", "support_organisation", "relative", "other"]
TRI = st.sampled_from([None, True, False])
PARTY_COUNTRIES = ["JP", "KH", "TH"]
"""Where a party is based: Japan, a partner country, or a third country (outside 4(1)'s 「両国内」)."""


def _accredited() -> tuple[list[str], list[str], list[str], list[str]]:
    """Accreditation numbers and agency names from the shipped registries (every country's), plus one never listed;
    and the numbers revoked, and those whose listing ended otherwise (expired), which the revocation and lapse rules
    need and a uniform draw seldom gives."""
    entries = [e for loaded in load_registries(RULES / "registries") if loaded.key[1] == "accredited-agencies" for e in loaded.entries()]
    revoked = sorted({e.id for e in entries if e.ended_because == "revoked"})
    ended = sorted({e.id for e in entries if e.ended_on is not None and e.ended_because != "revoked"})
    return sorted({e.id for e in entries}) + ["UNKNOWN-1"], sorted({e.name for e in entries}), revoked, ended


PACKS = load_packs(RULES)
COUNTRIES = PACKS.countries
ACCREDITATION_NUMBERS, LISTED_NAMES, REVOKED_NUMBERS, ENDED_NUMBERS = _accredited()
"""Numbers some registry lists, revokes or lets expire, and the names it gives them: a dossier naming the agency
as listed, or not."""


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


def items(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return maybe(st.lists(strategy, max_size=3))


def party() -> st.SearchStrategy[Any]:
    accreditation = st.fixed_dictionaries(
        {},
        optional={
            "number": st.sampled_from(ACCREDITATION_NUMBERS),
            "valid_from": st.sampled_from(DATES),
            "valid_to": st.sampled_from(DATES),
            "revoked_on": st.sampled_from(DATES),
        },
    )
    return st.fixed_dictionaries(
        {},
        optional={
            "id": st.sampled_from(["B-1", "B-2"]),
            "name": st.sampled_from(["Example Broker", "Example Agency"]),
            "role": st.sampled_from(ROLES[1:]),
            "country": st.sampled_from(PARTY_COUNTRIES),
            "accreditation": accreditation,
        },
    )


def agency() -> st.SearchStrategy[Any]:
    """A sending agency with an accreditation number, often one the registries list, revoke or expire."""
    dates = {"valid_from": st.sampled_from(DATES), "valid_to": st.sampled_from(DATES), "revoked_on": st.sampled_from(DATES)}
    numbers = st.one_of(st.sampled_from(ACCREDITATION_NUMBERS), st.sampled_from(REVOKED_NUMBERS), st.sampled_from(ENDED_NUMBERS))
    accreditation = st.fixed_dictionaries({"number": numbers}, optional=dates)
    names = st.sampled_from(["Example Agency", *LISTED_NAMES])
    return st.fixed_dictionaries({"role": st.just("sending_agency"), "accreditation": accreditation}, optional={"id": st.just("B-1"), "name": names})


CANDIDATE_FIELDS = {
    "residence": maybe(st.sampled_from(["abroad", "japan"])),
    "status_sought": maybe(st.sampled_from(["SSW1", "SSW2"])),
    "sector": maybe(st.sampled_from(["agriculture", "shipbuilding", "fishery", "construction"])),
    "hire_route": maybe(st.sampled_from(["direct", "sending_agency"])),
    "languages": maybe(st.lists(st.sampled_from(["km", "en", "ur", "ja"]), max_size=2)),
    "sending_agency": maybe(st.one_of(agency(), party())),
    "certificate": maybe(
        st.fixed_dictionaries(
            {},
            optional={
                "kind": st.sampled_from(["molvt_registration", "other"]),
                "issuer": st.sampled_from(["MoLVT", "Provincial office"]),
                "number": st.just("C-1"),
                "issue_date": st.sampled_from(DATES),
            },
        )
    ),
    "tests": items(
        st.fixed_dictionaries(
            {"kind": st.sampled_from(["skills", "japanese"])},
            optional={"identity_verified": TRI, "impersonation_reported": TRI, "certificate_forged_or_altered": TRI},
        )
    ),
    "fees": items(
        st.fixed_dictionaries(
            {},
            optional={
                "payee": party(),
                "amount": st.sampled_from([0, 0.5, 300, 1e16, 10**30, 1.5e300]),
                "currency": st.just("USD"),
                "basis_shown": TRI,
                "breakdown_explained": TRI,
                "explanation_language": st.sampled_from(["km", "en", "ja"]),
                "acknowledged": TRI,
            },
        )
    ),
    "held_property": items(
        st.fixed_dictionaries({"item": st.sampled_from(["passport", "residence_card", "deposit", "land_title"])}, optional={"holder": party()})
    ),
    "contract_clauses": items(
        st.fixed_dictionaries({"kind": st.sampled_from(["penalty", "unjust_transfer", "other"])}, optional={"party": party(), "concluded": TRI})
    ),
    "incidents": items(
        st.fixed_dictionaries({"kind": st.sampled_from(["violence", "threat"])}, optional={"perpetrator": party(), "occurred_on": st.sampled_from(DATES)})
    ),
    "documents": items(
        st.fixed_dictionaries(
            {"kind": st.just("diploma")}, optional={"finding": st.sampled_from(["authentic", "forged", "altered", "false"]), "provided_by": party()}
        )
    ),
    "dependents": items(st.fixed_dictionaries({"relation": st.sampled_from(["spouse", "child"])}, optional={"accompanying": TRI})),
    "intermediaries": items(party()),  # parties listed as intermediaries (4(1)): `among` and the partner's 4(1) information match them
    "receiving_organisation_id": maybe(st.sampled_from(["RO-JP-0999", "RO-JP-0310", "RO-X"])),
    "support_organisation_id": maybe(st.sampled_from(["SO-JP-0101", "SO-JP-0202", "SO-X"])),
}
BROKER_FIELDS = {
    "broker_id": maybe(st.sampled_from(["B-1", "B-2"])),
    "role": maybe(st.sampled_from(["sending_agency", "intermediary"])),
    "based_in": maybe(st.sampled_from(["home", "JP", "TH"])),  # "home": the dossier's own country; TH: a third country
    "accreditation": maybe(st.one_of(agency(), party()).map(lambda p: p.get("accreditation", {}))),
    "fee_schedule": maybe(st.fixed_dictionaries({}, optional={"published": TRI, "basis_shown": TRI, "breakdown_shown": TRI})),
    "practices": maybe(st.fixed_dictionaries({}, optional={"holds_passports": TRI, "takes_deposits": TRI, "penalty_contracts": TRI})),
    "complaints": items(st.fixed_dictionaries({}, optional={"act": st.sampled_from(["a", "b", "c", "d", "e", "test_fraud", "other"]), "substantiated": TRI})),
}


def declared_value(declared: DeclaredField) -> st.SearchStrategy[Any]:
    """Values of a field a pack declares: each of its choices, boundary dates, both truths, a few numbers."""
    if declared.choices:
        return st.sampled_from(declared.values)
    return {
        "date": st.sampled_from(DATES),
        "bool": st.booleans(),
        "number": st.sampled_from([0, 1, 300, 1000]),
        "string": st.sampled_from(["X-1", "X-2"]),
    }[declared.type]


def country_fields(packs: PackSet, country: str, kind: str) -> st.SearchStrategy[Any]:
    """``country_fields`` as the country's pack declares them for ``kind`` (none when it declares none)."""
    pack = packs.for_country(country)
    declared = pack.meta.dossier_fields.get(kind, {}) if pack is not None else {}  # type: ignore[call-overload]
    if not declared:
        return st.none()
    return maybe(st.fixed_dictionaries({}, optional={name: declared_value(d) for name, d in declared.items()}))


def dossiers(packs: PackSet = PACKS) -> st.SearchStrategy[dict[str, Any]]:
    """Candidate and broker dossiers of every country ``packs`` can screen."""

    @st.composite
    def draw_dossier(draw: st.DrawFn) -> dict[str, Any]:
        country = draw(st.sampled_from(packs.countries))
        kind = draw(st.sampled_from(["candidate", "candidate", "broker"]))
        data: dict[str, Any] = {"dossier_id": "GEN-1", "kind": kind, "country": country, "submitted": draw(st.sampled_from(DATES))}
        if kind == "candidate":
            data["identity"] = {"name": "Generated Candidate"}
            fields = CANDIDATE_FIELDS
        else:
            data["name"] = draw(st.sampled_from(["Generated Broker", *LISTED_NAMES]))
            fields = BROKER_FIELDS
        for name, strategy in {**fields, "country_fields": country_fields(packs, country, kind)}.items():
            value = draw(strategy)
            if value == "home":
                value = country
            if value is not None:
                data[name] = copy.deepcopy(value)
        return data

    return draw_dossier()


def aggregate_candidates(country: str) -> st.SearchStrategy[dict[str, Any]]:
    """Candidates for aggregate rules: amounts that add up across caps, currencies that must not be mixed,
    dates on both sides of a year."""
    fields = {
        "fees": items(
            st.one_of(
                st.fixed_dictionaries(
                    {
                        "payee": st.fixed_dictionaries({"role": st.sampled_from(ROLES[1:])}),
                        "amount": st.sampled_from([0, 0.5, 300, 700, 1000]),
                        "currency": st.sampled_from(["USD", "USD", "USD", "KHR"]),
                    }
                ),
                st.fixed_dictionaries({}, optional={"payee": party(), "amount": st.sampled_from([0, 700]), "currency": st.sampled_from(["USD", "KHR"])}),
            )
        ),
        "tests": items(st.fixed_dictionaries({"kind": st.sampled_from(["skills", "japanese"])}, optional={"taken_on": st.sampled_from(DATES)})),
        "dependents": CANDIDATE_FIELDS["dependents"],
        "intermediaries": items(party()),
    }

    @st.composite
    def draw_candidate(draw: st.DrawFn) -> dict[str, Any]:
        data: dict[str, Any] = {
            "dossier_id": "GEN-1",
            "kind": "candidate",
            "country": country,
            "submitted": draw(st.sampled_from(DATES)),
            "identity": {"name": "G"},
        }
        for name, strategy in fields.items():
            value = draw(strategy)
            if value is not None:
                data[name] = copy.deepcopy(value)
        return data

    return draw_candidate()
