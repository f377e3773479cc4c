"""The links membership sends a person (shared signed links, hub_shared.links): confirming an
email, the preference centre, replying to an invitation, confirming a hear-back address.
A purpose is a salt, so a link made for one purpose never works for another. Confirmation
links carry a unique id and work once (``used_link``)."""

import secrets
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from hub_shared.links import SignedLinks
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
        signed=SignedLinks([settings.link_secret.get_secret_value()], settings.public_base_url, "membership"),
        lifetimes={
            Purpose.CONFIRM: timedelta(days=settings.confirm_link_days),
            Purpose.HEAR_BACK: timedelta(days=settings.confirm_link_days),
            Purpose.PREFERENCES: timedelta(days=settings.preferences_link_days),
            Purpose.REPLY: timedelta(days=settings.preferences_link_days),
            Purpose.HEAR_BACK_STOP: timedelta(days=settings.preferences_link_days),
            Purpose.NEW_EMAIL: timedelta(days=settings.confirm_link_days),
        },
    )
