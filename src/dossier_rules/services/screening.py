"""Screening through the service: screen, list, read back and re-screen, each redacted for the viewer's role.

The API and the pages call these with the screener's user name and role; who
may see candidates' identity is the team's policy (``names_visible_to``),
applied here once rather than by each interface.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Protocol

import orjson

from ..engine import Engine
from ..model import personal_pointer
from ..packs import PackSet
from ..registries import load_registries
from ..results import Filter
from . import receipts
from .screening_store import NotFound, Screenings, redact, redact_report, seq_of


@dataclass(frozen=True)
class Viewer:
    """Who asks: the user name written to the log, and whether their role may see candidates' identity."""

    username: str
    sees_names: bool


def viewer(username: str, role: str, names_visible_to: frozenset[str]) -> Viewer:
    return Viewer(username, role in names_visible_to)


@dataclass
class ScreeningService:
    """Screen and read back through one :class:`~dossier_rules.services.screening_store.Screenings` store."""

    store: Screenings

    def screen(self, raw: bytes, as_of: date | None, who: Viewer) -> dict[str, Any]:
        """One dossier: its stored report, or the error record (not stored) when it cannot be screened."""
        return self.store.screen(raw, as_of, who.username)

    def screen_many(self, body: bytes, as_of: date | None, who: Viewer) -> Iterator[bytes]:
        """One output line per record of a JSON Lines body, in order."""
        return self.store.screen_many(body, as_of, who.username)

    @property
    def packs(self) -> PackSet:
        """The packs loaded: their message templates say which quoted values to withhold."""
        return self.store.engine.packset

    def screen_correction(self, sid: str, dossier: dict[str, Any], who: Viewer) -> dict[str, Any]:
        """Screen a corrected version of a stored screening's dossier (the stored screening stays in the log).

        A role that does not see candidates' identity corrected the dossier
        without it: what it could not see is taken from the stored dossier, so
        a correction never drops personal data the screener was not shown.
        ``screening.not_found``, or ``screening.dossier_not_stored`` when only the hash was kept.
        """
        stored = self.store.stored(sid)
        if stored.get("dossier") is None:
            raise NotFound("screening.dossier_not_stored", screening_id=sid)
        if not who.sees_names:
            dossier = with_personal(dossier, stored["dossier"])
        return self.store.screen(orjson.dumps(dossier), None, who.username)

    def receipt(self, sid: str) -> dict[str, Any] | None:
        """The log receipt of a stored screening (None without the log's key): its entry, leaf hash, signed checkpoint, proof."""
        seq = seq_of(sid)
        if self.store.log_key is None or seq is None:
            return None
        return receipts.issue(self.store.db, self.store.log_key, seq)

    def stored(self, sid: str, who: Viewer) -> dict[str, Any]:
        """A stored screening as ``who`` may see it; ``screening.not_found`` when there is none."""
        stored = self.store.stored(sid)
        return stored if who.sees_names else redact(stored, self.packs)

    def summaries(
        self, chosen: Filter, user: str | None, screened_from: date | None, screened_to: date | None, after: str | None, limit: int
    ) -> tuple[list[dict[str, Any]], str | None]:
        """A page of summaries of stored screenings, newest first, and the cursor of the next page.

        A summary names the dossier by its id only, so every role sees the same
        list; the full record, redacted for the role, is read by id (:meth:`stored`).
        """
        return self.store.summaries(chosen, user, screened_from, screened_to, after, limit)

    def rescreen(self, sid: str, as_of: date | None, who: Viewer) -> dict[str, Any]:
        """Screen a stored dossier again: old and new reports and what changed, as ``who`` may see them.

        ``screening.not_found``, or ``screening.dossier_not_stored`` when only the dossier's hash was kept.
        """
        result = self.store.rescreen(sid, as_of, who.username)
        if not who.sees_names:
            result["old"], result["new"] = redact_report(result["old"], self.packs), redact_report(result["new"], self.packs)
            if result["changes"]:
                for side in ("added", "removed"):
                    result["changes"][side] = redact_report({"findings": result["changes"][side]}, self.packs)["findings"]
        return result


class Running(Protocol):
    """What a running service holds: the engine it screens with and its store of screenings (``app.state``)."""

    engine: Engine
    screenings: Screenings


def use_registries(running: Running, directory: Path) -> None:
    """Screen with the registries as they now are in ``directory``: one new engine, swapped in whole, so a
    screening under way finishes with the lists it started with."""
    old = running.engine
    engine = Engine(old.packset, load_registries(directory), max_registry_age=old.max_registry_age, backend=old.backend)
    running.engine = engine
    running.screenings.engine = engine


def with_personal(draft: Any, stored: Any, at: str = "") -> Any:
    """``draft`` with every personal field it lacks taken from ``stored`` (list items matched by position)."""
    if isinstance(draft, dict) and isinstance(stored, dict):
        for key, value in stored.items():
            pointer = f"{at}/{key}"
            if personal_pointer(pointer):
                draft.setdefault(key, value)
            elif key in draft:
                with_personal(draft[key], value, pointer)
    elif isinstance(draft, list) and isinstance(stored, list):
        for index, (mine, theirs) in enumerate(zip(draft, stored, strict=False)):
            with_personal(mine, theirs, f"{at}/{index}")
    return draft
