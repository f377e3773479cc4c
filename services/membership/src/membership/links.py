"""The links membership sends a person (shared signed links, hub_shared.links): confirming an
email, the preference centre, replying to an invitation, confirming a hear-back address.
A purpose is a salt, so a link made for one purpose never works for another. Confirmation
links carry a unique id and work once (``used_link``).

A member's links carry their link version (``v``): confirming a new email address moves it
on, so links sent to the old address stop working (``replaced``).

Asking for a link by email (joining, a fresh link, hearing back) is public: the JSON API
and the pages both limit it per client address and answer in steady time
(hub_shared.web), so the answer does not tell whether an address is known. However many
ask, an address gets at most ``emails_per_address_per_hour`` of these emails
(handlers/email_allowance.py)."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from hub_shared.links import LinkProblem, SignedLinks
from membership.models import Member, UsedLink
from membership.settings import MembershipSettings


class Purpose(StrEnum):
    CONFIRM = "confirm"
    PREFERENCES = "preferences"
    REPLY = "reply"
    HEAR_BACK = "hear-back"
    HEAR_BACK_STOP = "hear-back-stop"
    NEW_EMAIL = "new-email"
    WELCOME = "welcome"


PATHS = {
    Purpose.CONFIRM: "/confirm",
    Purpose.PREFERENCES: "/preferences",
    Purpose.REPLY: "/reply",
    Purpose.HEAR_BACK: "/hear-back/confirm",
    Purpose.HEAR_BACK_STOP: "/hear-back/stop",
    Purpose.NEW_EMAIL: "/email/confirm",
    Purpose.WELCOME: "/welcome",
}
# Confirmation links carry a unique id and work once (``used_link``).
SINGLE_USE = frozenset({Purpose.CONFIRM, Purpose.HEAR_BACK, Purpose.NEW_EMAIL, Purpose.WELCOME})


@dataclass(frozen=True)
class Links:
    signed: SignedLinks
    lifetimes: dict[Purpose, timedelta]
    emails_per_address_per_hour: int = 3

    def token(self, purpose: Purpose, **claims: Any) -> str:
        if purpose in SINGLE_USE:
            claims["j"] = secrets.token_urlsafe(16)
        return self.signed.token(purpose.value, claims)

    def url(self, purpose: Purpose, **claims: Any) -> str:
        return self.signed.url(PATHS[purpose], self.token(purpose, **claims))

    def load(self, purpose: Purpose, token: str) -> dict[str, Any]:
        return self.signed.load(purpose.value, token, self.lifetimes[purpose])

    def member_token(self, purpose: Purpose, member: Member, **claims: Any) -> str:
        """A link of the member's, valid until their email address changes."""
        return self.token(purpose, m=str(member.id), v=member.link_version, **claims)

    def member_url(self, purpose: Purpose, member: Member, **claims: Any) -> str:
        return self.signed.url(PATHS[purpose], self.member_token(purpose, member, **claims))

    def content_key(self, *parts: str) -> str:
        """A keyed digest of what a form said and who sent it: a repeat is recognised without
        keeping either."""
        key = self.signed.secrets[-1].encode()
        return hmac.new(key, b"content:" + "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()

    def address_key(self, address: str) -> str:
        """A keyed digest of an address: what is counted per address without keeping it."""
        key = self.signed.secrets[-1].encode()
        return hmac.new(key, b"address:" + address.strip().lower().encode(), hashlib.sha256).hexdigest()


def still_current(claims: dict[str, Any], member: Member) -> None:
    """A link sent before the member's email address changed no longer works."""
    if claims.get("v", 0) != member.link_version:
        raise LinkProblem("replaced")


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
            Purpose.WELCOME: timedelta(days=settings.confirm_link_days),
        },
        emails_per_address_per_hour=settings.emails_per_address_per_hour,
    )


async def was_used(session: AsyncSession, claims: dict[str, object]) -> bool:
    link_id = str(claims.get("j", ""))
    return not link_id or await session.get(UsedLink, link_id) is not None


async def use_once(session: AsyncSession, claims: dict[str, object]) -> None:
    if await was_used(session, claims):
        raise LinkProblem("used")
    session.add(UsedLink(link_id=str(claims["j"]), used_at=datetime.now(UTC)))


def links_of(request: Request) -> Links:
    return request.app.state.links  # type: ignore[no-any-return]
