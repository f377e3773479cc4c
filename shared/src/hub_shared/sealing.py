"""Contact cards sealed per person (crypto-shredding).

A Kafka log cannot be rewritten: a record stays until retention or compaction removes it,
and compaction of a tombstoned key can take a day. So what identifies a person never
travels in clear. Membership gives each person (member, hear-back contact) their own
random 256-bit key, kept only in their row of membership's store, and seals each contact
card's ``ContactDetails`` with it (AES-256-GCM, ``cryptography``'s AESGCM; the card's key,
the member id or contact token, is bound in as associated data, so a sealed card cannot
pass as another person's). Erasure deletes the row and with it the key: every card of the
person, on the topic, in a dead letter or in anyone's copy of either, is unreadable from
that moment, whatever compaction does later.

Notification opens a card by asking membership for the person's key
(``GET /v1/contact-keys/{key}``), with a request token signed by the secret the two share
(``MEMBERSHIP_CONTACT_KEYS_SECRET``, ``NOTIFICATION_CONTACT_KEYS_SECRET``), bound to that
one key and valid for a minute. ``None`` means there is no such person any more."""

import base64
import os
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import ValidationError

from hub_shared.events import ContactDetails, MemberContactV2
from hub_shared.failures import DependencyUnavailable
from hub_shared.links import LinkProblem, SignedLinks

NONCE_BYTES = 12  # AES-GCM's standard nonce, random per card (a person gets far fewer than 2**32 cards)
NAMESPACE = "contact-keys"  # of the signed request tokens
PURPOSE = "read"
REQUEST_LIFETIME = timedelta(seconds=60)


class Unreadable(ValueError):
    """A sealed card that does not open with the key given: tampered, or another person's."""


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def seal(
    key: bytes, details: ContactDetails, *, member_id: uuid.UUID | None = None, contact_token: str | None = None
) -> MemberContactV2:
    """The card of a member (or a hear-back contact) with ``details`` sealed under their key."""
    card = MemberContactV2(member_id=member_id, contact_token=contact_token, sealed="")
    nonce = os.urandom(NONCE_BYTES)
    sealed = nonce + AESGCM(key).encrypt(nonce, details.model_dump_json().encode(), card_key(card).encode())
    return card.model_copy(update={"sealed": base64.urlsafe_b64encode(sealed).decode()})


def unseal(key: bytes, card: MemberContactV2) -> ContactDetails:
    try:
        raw = base64.urlsafe_b64decode(card.sealed.encode())
        plain = AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], card_key(card).encode())
        return ContactDetails.model_validate_json(plain)
    except (ValueError, InvalidTag, ValidationError) as exc:
        raise Unreadable("the card does not open with this person's key") from exc


def card_key(card: MemberContactV2) -> str:
    """The card's key on the compacted topic: the member id, or the hear-back contact token."""
    return str(card.member_id) if card.member_id is not None else str(card.contact_token)


def request_token(links: SignedLinks, card_key: str) -> str:
    """What a reader sends to ask membership for one person's key."""
    return links.token(PURPOSE, {"k": card_key})


def check_request(links: SignedLinks, token: str, card_key: str) -> None:
    """Raises ``LinkProblem`` unless ``token`` was signed with the shared secret, within
    the last minute, for this very key."""
    claims = links.load(PURPOSE, token, REQUEST_LIFETIME)
    if claims.get("k") != card_key:
        raise LinkProblem("invalid")


@dataclass
class ContactKeys:
    """Membership's per-person keys, asked for over HTTP. Membership unreachable or failing
    is transient (``DependencyUnavailable``): the consumer waits and tries again, and
    nothing is lost or skipped."""

    base_url: str
    links: SignedLinks
    transport: httpx.AsyncBaseTransport | None = None  # tests: membership's app in-process
    timeout: float = 10.0
    _client: httpx.AsyncClient | None = field(default=None, init=False, repr=False, compare=False)

    def _http(self) -> httpx.AsyncClient:
        """One client kept open for every request: a large invitation asks for thousands of
        keys, and a client (its TLS settings, its connection) per key cost more than the key."""
        if self._client is None:
            self._client = httpx.AsyncClient(base_url=self.base_url, transport=self.transport, timeout=self.timeout)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def key_for(self, card_key: str) -> bytes | None:
        """The person's key, or None when membership no longer knows them (erased, left)."""
        try:
            response = await self._http().get(
                f"/v1/contact-keys/{card_key}",
                headers={"Authorization": f"Bearer {request_token(self.links, card_key)}"},
            )
        except httpx.HTTPError as exc:
            raise DependencyUnavailable(f"membership's contact keys ({self.base_url}): {exc!r}") from exc
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise DependencyUnavailable(
                f"membership's contact keys ({self.base_url}) answered {response.status_code}: {response.text[:200]}"
            )
        body: dict[str, Any] = response.json()
        return base64.urlsafe_b64decode(str(body["key"]).encode())

    async def open(self, card: MemberContactV2) -> ContactDetails | None:
        """The card's details, or None when its person is gone (their key destroyed)."""
        key = await self.key_for(card_key(card))
        return None if key is None else unseal(key, card)
