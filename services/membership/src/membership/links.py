"""The links membership sends a person (shared signed links, hub_shared.links): confirming an
email, the preference centre, replying to an invitation, confirming a hear-back address.
A purpose is a salt, so a link made for one purpose never works for another. Confirmation
links carry a unique id and work once (``used_link``).

Asking for a link by email (joining, a fresh link, hearing back) is public: the JSON API
and the pages both limit it per client address and answer in steady time, so the answer
does not tell whether an address is known."""

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from hub_shared.links import LinkProblem, SignedLinks
from membership.models import UsedLink
from membership.settings import MembershipSettings


class Purpose(StrEnum):
    CONFIRM = "confirm"
    PREFERENCES = "preferences"
    REPLY = "reply"
    HEAR_BACK = "hear-back"
    HEAR_BACK_STOP = "hear-back-stop"
    NEW_EMAIL = "new-email"


PATHS = {
    Purpose.CONFIRM: "/confirm",
    Purpose.PREFERENCES: "/preferences",
    Purpose.REPLY: "/reply",
    Purpose.HEAR_BACK: "/hear-back/confirm",
    Purpose.HEAR_BACK_STOP: "/hear-back/stop",
    Purpose.NEW_EMAIL: "/email/confirm",
}
# Confirmation links carry a unique id and work once (``used_link``).
SINGLE_USE = frozenset({Purpose.CONFIRM, Purpose.HEAR_BACK, Purpose.NEW_EMAIL})


@dataclass(frozen=True)
class Links:
    signed: SignedLinks
    lifetimes: dict[Purpose, timedelta]

    def token(self, purpose: Purpose, **claims: Any) -> str:
        if purpose in SINGLE_USE:
            claims["j"] = secrets.token_urlsafe(16)
        return self.signed.token(purpose.value, claims)

    def url(self, purpose: Purpose, **claims: Any) -> str:
        return self.signed.url(PATHS[purpose], self.token(purpose, **claims))

    def load(self, purpose: Purpose, token: str) -> dict[str, Any]:
        return self.signed.load(purpose.value, token, self.lifetimes[purpose])


def links_from(settings: MembershipSettings) -> Links:
    return Links(
        signed=settings.signed_links("link_secret", settings.public_base_url, "membership"),
        lifetimes={
            Purpose.CONFIRM: timedelta(days=settings.confirm_link_days),
            Purpose.HEAR_BACK: timedelta(days=settings.confirm_link_days),
            Purpose.PREFERENCES: timedelta(days=settings.preferences_link_days),
            Purpose.REPLY: timedelta(days=settings.preferences_link_days),
            Purpose.HEAR_BACK_STOP: timedelta(days=settings.preferences_link_days),
            Purpose.NEW_EMAIL: timedelta(days=settings.confirm_link_days),
        },
    )


async def use_once(session: AsyncSession, claims: dict[str, object]) -> None:
    link_id = str(claims.get("j", ""))
    if not link_id or await session.get(UsedLink, link_id) is not None:
        raise LinkProblem("used")
    session.add(UsedLink(link_id=link_id, used_at=datetime.now(UTC)))


def links_of(request: Request) -> Links:
    return request.app.state.links  # type: ignore[no-any-return]


async def public_limit(request: Request) -> None:
    """The per-client limit on the public forms; a ``Problem`` (429) past it."""
    client = request.client.host if request.client else "unknown"
    await request.app.state.public_rate_limit.check(f"public:{client}")


@asynccontextmanager
async def steady_timing(request: Request) -> AsyncIterator[None]:
    """Answer no sooner than the configured floor, so known and unknown addresses take
    the same time."""
    started = time.monotonic()
    try:
        yield
    finally:
        floor = request.app.state.settings.public_response_floor_ms / 1000
        await asyncio.sleep(max(0.0, floor - (time.monotonic() - started)))
