"""notification's API for place and practice teams and operators: the ledger of their own
sends (``notifications``), their branding (``branding``) and template previews
(``templates``). Bearer tokens; an organisation sees itself and those under it, the ICB
sees all."""

from fastapi import APIRouter

from notification.api import branding, notifications, templates

router = APIRouter()
router.include_router(notifications.router)
router.include_router(branding.router)
router.include_router(templates.router)
