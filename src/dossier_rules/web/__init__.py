"""Web pages for screening staff, on the screening service: ``router`` is mounted by ``dossier-rules serve``."""

from .exchange_pages import router as exchange_router
from .pages import router

router.include_router(exchange_router)

__all__ = ["router"]
