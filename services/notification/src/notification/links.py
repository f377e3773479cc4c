"""Signed one-click unsubscribe links (the shared signed links, as membership's). The
token names the recipient and the email it came in; the purpose is the salt."""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from hub_shared.links import LinkProblem, SignedLinks
from notification.settings import NotificationSettings

PURPOSE = "unsubscribe"


@dataclass(frozen=True)
class UnsubscribeLinks:
    signed: SignedLinks
    lifetime: timedelta

    def url(self, recipient_key: str, notification_id: str) -> str:
        return self.signed.url("/unsubscribe", self.signed.token(PURPOSE, {"k": recipient_key, "n": notification_id}))

    def load(self, token: str) -> dict[str, Any]:
        claims = self.signed.load(PURPOSE, token, self.lifetime)
        if "k" not in claims:
            raise LinkProblem("invalid")
        return claims


def unsubscribe_links(settings: NotificationSettings) -> UnsubscribeLinks:
    return UnsubscribeLinks(
        signed=settings.signed_links("link_secret", settings.public_base_url, "notification"),
        lifetime=timedelta(days=settings.unsubscribe_link_days),
    )
