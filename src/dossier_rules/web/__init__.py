"""Web pages for screening staff, on the screening service: ``router`` is mounted by ``dossier-rules serve``."""

from .pages import router

__all__ = ["router"]
