"""dossier-rules: screen SSW dossiers against Japan's bilateral MOC rule packs."""

__version__ = "0.1.0"
