"""Pages for people, one module a flow: one-click unsubscribe (``unsubscribe``), template
previews with sample data (``templates``) and, in development, a mailbox page over the
local mail sink's Maildir (``mailbox``)."""

from fastapi import APIRouter

from notification.pages import mailbox, templates, unsubscribe

router = APIRouter()
router.include_router(unsubscribe.router)
router.include_router(templates.router)
router.include_router(mailbox.router)
