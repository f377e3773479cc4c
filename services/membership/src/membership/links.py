"""Every link the hub sends a person is signed and expiring (itsdangerous): confirming an
email, the preference centre, replying to an invitation, confirming a hear-back address.
A purpose is a salt, so a link made for one purpose never works for another. Confirmation
links carry a unique id and work once (``used_link``)."""

import secrets
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlencode

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

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


class LinkProblem(Exception):
    """A link that cannot be followed: ``expired``, ``invalid`` (tampered or for another
    purpose) or ``used``. The person is offered a fresh one."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Links:
    secret: str
    base_url: str
    lifetimes: dict[Purpose, timedelta]

    def _serializer(self, purpose: Purpose) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self.secret, salt=f"membership.{purpose.value}")

    def token(self, purpose: Purpose, **claims: Any) -> str:
        if purpose in (Purpose.CONFIRM, Purpose.HEAR_BACK, Purpose.NEW_EMAIL):
            claims["j"] = secrets.token_urlsafe(16)  # single use
        return str(self._serializer(purpose).dumps(claims))

    def url(self, purpose: Purpose, **claims: Any) -> str:
        return f"{self.base_url.rstrip('/')}{PATHS[purpose]}?{urlencode({'token': self.token(purpose, **claims)})}"

    def load(self, purpose: Purpose, token: str) -> dict[str, Any]:
        try:
            claims = self._serializer(purpose).loads(token, max_age=int(self.lifetimes[purpose].total_seconds()))
        except SignatureExpired as exc:
            raise LinkProblem("expired") from exc
        except BadSignature as exc:
            raise LinkProblem("invalid") from exc
        if not isinstance(claims, dict):
            raise LinkProblem("invalid")
        return claims


def links_from(settings: MembershipSettings) -> Links:
    return Links(
        secret=settings.link_secret.get_secret_value(),
        base_url=settings.public_base_url,
        lifetimes={
            Purpose.CONFIRM: timedelta(days=settings.confirm_link_days),
            Purpose.HEAR_BACK: timedelta(days=settings.confirm_link_days),
            Purpose.PREFERENCES: timedelta(days=settings.preferences_link_days),
            Purpose.REPLY: timedelta(days=settings.preferences_link_days),
            Purpose.HEAR_BACK_STOP: timedelta(days=settings.preferences_link_days),
            Purpose.NEW_EMAIL: timedelta(days=settings.confirm_link_days),
        },
    )
