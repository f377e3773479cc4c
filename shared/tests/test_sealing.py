"""A sealed contact card shows ids only, opens with its person's key alone, and cannot be
passed off as another person's card or altered unnoticed."""

import uuid

import pytest

from hub_shared.events import ContactDetails, ContactMessage, MessageKind
from hub_shared.sealing import Unreadable, new_key, seal, unseal

DETAILS = ContactDetails(
    name="Ottoline Vexley",
    email="ottoline.vexley@example.org",
    phone="+447700900321",
    message=ContactMessage(kind=MessageKind.FRESH_LINK, links={"preferences": "http://m/preferences?token=abc"}),
)


def test_a_card_shows_ids_only_and_opens_with_its_persons_key() -> None:
    key, member_id = new_key(), uuid.uuid4()
    card = seal(key, DETAILS, member_id=member_id)
    shown = card.model_dump_json()
    for detail in ("Ottoline", "vexley", "7700900321", "preferences"):
        assert detail not in shown
    assert card.member_id == member_id and unseal(key, card) == DETAILS
    assert seal(key, DETAILS, member_id=member_id).sealed != card.sealed  # a fresh nonce each time


def test_no_other_key_opens_it_and_it_cannot_pass_as_anyone_elses() -> None:
    key = new_key()
    card = seal(key, DETAILS, contact_token="token-of-ottoline")
    with pytest.raises(Unreadable):
        unseal(new_key(), card)
    with pytest.raises(Unreadable):  # the same sealed details under another person's token
        unseal(key, card.model_copy(update={"contact_token": "token-of-someone-else"}))
    altered = card.sealed[:-4] + ("AAAA" if not card.sealed.endswith("AAAA") else "BBBB")
    with pytest.raises(Unreadable):
        unseal(key, card.model_copy(update={"sealed": altered}))
