"""Signed, expiring links (itsdangerous) for people who act without an account: confirming
an email, a preference centre, replying to an invitation, unsubscribing. A purpose is a
salt, so a link made for one purpose never works for another. Verifying accepts every
secret given (the newest signs), so a secret can be rotated without breaking links in
people's inboxes; previous secrets given with a time (``retiring_until``, from the settings'
``<SECRET>_PREVIOUS_UNTIL``) stop verifying at that time."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer


class LinkProblem(Exception):
    """A link that cannot be followed: ``expired``, ``invalid`` (tampered, or made for
    another purpose) or ``used``. The person is offered a fresh one."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class SignedLinks:
    secrets: Sequence[str]  # the newest last: it signs; every one verifies
    base_url: str
    namespace: str  # the service: purposes of different services never collide
    retiring: Sequence[str] = ()  # previous secrets: they verify (never sign) until retiring_until
    retiring_until: datetime | None = None

    def _serializer(self, purpose: str, keys: Sequence[str] | None = None) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(list(keys or self.secrets), salt=f"{self.namespace}.{purpose}")

    def verifying_secrets(self, now: datetime | None = None) -> list[str]:
        """Every secret that verifies now, the signing one last."""
        now = now or datetime.now(UTC)
        live = self.retiring_until is not None and now < self.retiring_until
        return [*(self.retiring if live else ()), *self.secrets]

    def token(self, purpose: str, claims: dict[str, Any]) -> str:
        return str(self._serializer(purpose, [self.secrets[-1]]).dumps(claims))

    def url(self, path: str, token: str) -> str:
        """The public address of a page that takes the token."""
        return f"{self.base_url.rstrip('/')}{path}?{urlencode({'token': token})}"

    def load(self, purpose: str, token: str, max_age: timedelta) -> dict[str, Any]:
        try:
            claims = self._serializer(purpose, self.verifying_secrets()).loads(
                token, max_age=int(max_age.total_seconds())
            )
        except SignatureExpired as exc:
            raise LinkProblem("expired") from exc
        except BadSignature as exc:
            raise LinkProblem("invalid") from exc
        if not isinstance(claims, dict):
            raise LinkProblem("invalid")
        return claims
