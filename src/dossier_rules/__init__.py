"""dossier-rules: screen SSW dossiers against Japan's bilateral MOC rule packs."""

# The one place the version is written: pyproject.toml reads it (hatch), and reports,
# notices and `dossier-rules --version` carry it.
__version__ = "0.2.0.dev0"
