"""Web pages for screening staff, on the screening service: ``router`` is mounted by ``dossier-rules serve``."""

from .brief_pages import router as brief_router
from .exchange_pages import router as exchange_router
from .pages import router

router.include_router(exchange_router)
router.include_router(brief_router)

__all__ = ["router"]
