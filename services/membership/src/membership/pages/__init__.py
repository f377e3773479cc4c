"""Pages for a person, one module a flow: giving feedback about a practice or service (and
its QR poster), joining (and confirming, and a fresh link), the
preference centre (and a new email), leaving or being erased, hearing back, and replying
to an invitation. Plain HTML forms, so they work without JavaScript; each page calls the
same handlers as the JSON API."""

from fastapi import APIRouter

from membership.pages import feedback, hear_back, joining, leaving, preferences, replies
from membership.pages.rendering import STATIC

__all__ = ["STATIC", "router"]

router = APIRouter(include_in_schema=False)
for flow in (joining, preferences, leaving, hear_back, replies, feedback):
    router.include_router(flow.router)
