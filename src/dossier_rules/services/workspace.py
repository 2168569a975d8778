"""Where the application's inputs are: the packs, the registries directory and the database, resolved once.

The command line, the service and the pages each used to work out "the
registries are ``registries/`` inside the pack directory unless told
otherwise" on their own; a :class:`Workspace` says it in one place.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .. import backends, package_data
from ..engine import DEFAULT_MAX_REGISTRY_AGE, Engine
from ..pack_cache import load_packs_cached
from ..packs import PackSet, load_packs
from ..registries import Registries, load_registries

PACKS_ENV = "DOSSIER_RULES_PACKS"


def default_packs_dir() -> Path:
    """``$DOSSIER_RULES_PACKS``, else the packs shipped with the package (see :mod:`dossier_rules.package_data`)."""
    env = os.environ.get(PACKS_ENV)
    if env:
        return Path(env)
    path = package_data.packs_dir()
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


@dataclass(frozen=True)
class Workspace:
    """The packs directory, the registries directory (default: ``registries/`` inside it) and the database."""

    packs_dir: Path
    given_registries_dir: Path | None = None
    db: str | Path | None = None
    max_registry_age: int = DEFAULT_MAX_REGISTRY_AGE

    @classmethod
    def of(
        cls, packs_dir: Path | None, registries_dir: Path | None = None, db: str | Path | None = None, max_registry_age: int = DEFAULT_MAX_REGISTRY_AGE
    ) -> Workspace:
        """A workspace; without a packs directory, the default one."""
        return cls(packs_dir or default_packs_dir(), registries_dir, db, max_registry_age)

    @property
    def registries_dir(self) -> Path:
        return self.given_registries_dir or self.packs_dir / "registries"

    def packset(self, cached: bool = True) -> PackSet:
        """The packs (through the compiled-pack cache unless ``cached`` is false). Raises ``InputError`` when they do not load."""
        return load_packs_cached(self.packs_dir) if cached else load_packs(self.packs_dir)

    def registries(self) -> Registries:
        """The registries. Raises ``InputError`` when one does not load."""
        return load_registries(self.registries_dir)

    def engine(self, packset: PackSet | None = None, backend: str = backends.DEFAULT) -> Engine:
        """The engine every evaluating path uses: packs, registries, the staleness limit, the backend."""
        return Engine(packset or self.packset(), self.registries(), max_registry_age=self.max_registry_age, backend=backend)
