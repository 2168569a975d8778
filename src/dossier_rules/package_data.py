"""Where the shipped rule packs, registries and schemas are, installed or in a checkout.

Rule authors edit ``rules/`` and ``schemas/`` at the top of the repository, so
that is where they live in the source tree. The wheel carries them inside the
package (``dossier_rules/_data/``, mapped in ``pyproject.toml``), because an
installed tool must screen without a checkout. This module is the one place
that knows both layouts: it looks for the installed copy with
:mod:`importlib.resources` first and falls back to the checkout the package
was imported from (an editable install or ``PYTHONPATH=src``).

Templates, message catalogs and static files of the pages already sit inside
the package directory in both layouts and are read with
``importlib.resources`` (or Jinja2's ``PackageLoader``) where they are used.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parents[2]


def packs_dir() -> Path:
    """The shipped rule packs; their sample registries are in ``registries/`` inside."""
    return _locate("rules")


def schemas_dir() -> Path:
    """The published JSON Schemas (generated from the models, see :mod:`dossier_rules.schemas`)."""
    return _locate("schemas")


def docs_dir() -> Path:
    """The documentation the pages serve as their help (the staff guide and its screenshots)."""
    return _locate("docs")


def is_installed(path: Path) -> bool:
    """True for a path inside the installed package's data, which commands never write to."""
    return path.resolve().is_relative_to(Path(str(files("dossier_rules") / "_data")).resolve())


def _locate(name: str) -> Path:
    # A wheel is always unpacked on install, so the traversable is a real directory.
    installed = Path(str(files("dossier_rules") / "_data" / name))
    if installed.is_dir():
        return installed
    return _CHECKOUT / name
