"""Signed one-click unsubscribe links (itsdangerous, as membership signs its links). The
token names the recipient and the email it came in; the purpose is the salt."""

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from itsdangerous import BadSignature, URLSafeTimedSerializer

from notification.settings import NotificationSettings


class BadLink(Exception):
    pass


@dataclass(frozen=True)
class UnsubscribeLinks:
    secret: str
    base_url: str
    max_age_seconds: int

    def _serializer(self) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self.secret, salt="notification.unsubscribe")

    def url(self, recipient_key: str, notification_id: str) -> str:
        token = self._serializer().dumps({"k": recipient_key, "n": notification_id})
        return f"{self.base_url.rstrip('/')}/unsubscribe?{urlencode({'token': token})}"

    def load(self, token: str) -> dict[str, Any]:
        try:
            claims = self._serializer().loads(token, max_age=self.max_age_seconds)
        except BadSignature as exc:  # SignatureExpired is a BadSignature
            raise BadLink(str(exc)) from exc
        if not isinstance(claims, dict) or "k" not in claims:
            raise BadLink("not an unsubscribe link")
        return claims


def unsubscribe_links(settings: NotificationSettings) -> UnsubscribeLinks:
    return UnsubscribeLinks(
        secret=settings.link_secret.get_secret_value(),
        base_url=settings.public_base_url,
        max_age_seconds=settings.unsubscribe_link_days * 86400,
    )
