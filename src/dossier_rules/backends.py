"""The rule backends, registered by name: what decides which rules fire on a dossier.

The engine, batch screening, the pack tests and the command line's ``--engine``
choices used to repeat the backends' names as string literals; each backend is
now one object registered here under its name, as OPA registers its ``rego``
targets, and they all ask it what they need to know (is the pack compiled to
Python, must it run in a worker process, what refuses it). Whichever backend
decides, the engine builds the findings the same way, so reports differ only in
the name of the backend their run header records.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .conditions import Env
    from .packs import Pack, PackSet

DEFAULT = "native"
"""The backend of every path that does not choose one (the service and the pages always use it)."""


class Decider(Protocol):
    """Which rules fire on one dossier, decided outside the rules' own compiled programs."""

    def fired(self, pack: Pack, dossier: object, env: Env) -> set[tuple[str, int | None]]:
        """(rule id, item index or None) for every rule of ``pack`` that fires on ``dossier``."""
        ...


class Backend(Protocol):
    """One way to decide which rules fire; registered by :attr:`name` with :func:`register`."""

    @property
    def name(self) -> str:
        """What ``--engine`` takes and a run header records."""
        ...

    @property
    def generated(self) -> bool:
        """Each pack runs as generated Python code (:mod:`dossier_rules.codegen`); a pack it cannot express is interpreted."""
        ...

    @property
    def parent_screens(self) -> bool:
        """Batch screening also screens in the parent process (else only in its ``--jobs`` workers)."""
        ...

    @property
    def isolated(self) -> bool:
        """It may only run in a process of its own: a crash in its native code must not take the caller down."""
        ...

    def installed(self) -> bool:
        """Whether what it needs beyond the base install is there."""
        ...

    def decider(self, packset: PackSet) -> Decider | None:
        """What decides which rules fire (None: each rule's compiled program); built on first use, where the engine runs."""
        ...

    def refusals(self, packset: PackSet) -> list[str]:
        """Why it cannot run these packs, one message a rule (empty: it can); checked before anything is evaluated."""
        ...


@dataclass(frozen=True)
class _Python:
    """The closure interpreter, or (``generated``) each pack compiled to one Python function per kind of dossier."""

    name: str
    generated: bool

    @property
    def parent_screens(self) -> bool:
        return self.generated

    @property
    def isolated(self) -> bool:
        return False

    def installed(self) -> bool:
        return True

    def decider(self, packset: PackSet) -> Decider | None:
        return None

    def refusals(self, packset: PackSet) -> list[str]:
        return []


@dataclass(frozen=True)
class _Rete:
    """durable-rules' Rete engine (the ``rete`` extra): a C extension, so only ever in worker processes."""

    name: str = "rete"
    generated: bool = False
    parent_screens: bool = False
    isolated: bool = True

    def installed(self) -> bool:
        return importlib.util.find_spec("durable") is not None

    def decider(self, packset: PackSet) -> Decider | None:
        from .rete import evaluator_for  # loads durable-rules: in a worker process, never in the parent

        return evaluator_for(packset)

    def refusals(self, packset: PackSet) -> list[str]:
        from . import rete, workers  # the translator, and a throwaway process to build the rulesets in

        problems = rete.check_packs(packset)
        if problems:
            return problems
        try:
            workers.run_isolated(rete.verify, packset)
        except workers.WorkerError as exc:
            return [exc.args[0].strip().splitlines()[-1]]
        except workers.WorkerCrashed as exc:
            return [f"durable-rules crashed while building the rulesets ({exc})"]
        return []


_REGISTRY: dict[str, Backend] = {}


def register(backend: Backend) -> None:
    """Make ``backend`` available by its name (to ``--engine``, :class:`dossier_rules.engine.Engine`, the pack tests)."""
    if backend.name in _REGISTRY:
        raise ValueError(f"a backend named {backend.name!r} is already registered")
    _REGISTRY[backend.name] = backend


def names() -> list[str]:
    """Every registered backend's name, in the order registered (the default first)."""
    return list(_REGISTRY)


def get(name: str) -> Backend:
    """The backend registered as ``name``; ``ValueError`` naming the known ones otherwise."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown rule backend {name!r}; known: {', '.join(_REGISTRY)}") from None


register(_Python(DEFAULT, generated=True))
register(_Python("interpreted", generated=False))
register(_Rete())
