"""Hearing back in a hub serving two ICBs (the demo ICS and NHS Southshire ICB,
``hub_shared.organisations_testing``): a contact records the organisation its feedback was
given to, and its cards belong to that organisation's ICB, from the feedback page, from an
organisation's token, and for contacts recorded before organisations were."""

import re
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update

from hub_shared.events import FeedbackRespondedV1, ResponseStatus, new_envelope
from hub_shared.organisations_testing import SecondIcb
from hub_shared.references import canonical
from hub_shared.topics import MEMBERSHIP_CONTACTS
from membership.handlers.hear_back import on_feedback_responded
from membership.models import HearBackContact

from .conftest import auth, outbox, token_of
from .test_feedback_pages import form


async def cards_of(app, token: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    return [c for c in await outbox(app, MEMBERSHIP_CONTACTS.name) if c.get("subject") == token and "data" in c]


async def respond(app, organisation: str, *tokens: str) -> None:  # type: ignore[no-untyped-def]
    event = FeedbackRespondedV1(
        response_id=uuid.uuid4(),
        organisation_code=organisation,
        you_said="Hard to book",
        we_did="Evening clinics",
        status=ResponseStatus.DONE,
        responded_at=datetime.now(UTC),
        notify_contact_tokens=list(tokens),
    )
    envelope = new_envelope(
        event, source="feedback-intake", subject=str(event.response_id), tenant=organisation, correlation_id="c"
    )
    async with app.state.sessions() as session, session.begin():
        await on_feedback_responded(session, envelope, app.state.links)


async def test_a_feedback_pages_contact_belongs_to_its_practices_icb(client, app, two_icbs: SecondIcb) -> None:
    r = await client.post(f"/f/{two_icbs.practice}", data=form(hear_back="yes", email="south@example.org"))
    assert r.status_code == 200, r.text
    shown = re.search(r'id="reference">([0-9A-Z-]+)<', r.text)
    assert shown is not None
    token = canonical(shown.group(1))
    async with app.state.sessions() as session:
        contact = await session.get(HearBackContact, token)
    assert contact is not None and contact.organisation_code == two_icbs.practice
    [card] = await cards_of(app, token)
    assert card["tenant"] == two_icbs.icb and card["data"]["message"]["kind"] == "confirm_hear_back"
    r = await client.post(
        "/v1/hear-back/confirm", json={"token": token_of(card["data"]["message"]["links"]["confirm"])}
    )
    assert r.status_code == 200, r.text
    await respond(app, two_icbs.practice, token)
    cards = await cards_of(app, token)
    assert [c["tenant"] for c in cards] == [two_icbs.icb] * 3
    assert cards[-1]["data"]["message"]["kind"] == "update_due" and cards[-1]["data"]["contactable"] is True


async def test_through_the_api_the_tokens_organisation_is_the_contacts(client, app, keys, two_icbs) -> None:  # type: ignore[no-untyped-def]
    r = await client.post("/v1/hear-back", json={"email": "api@example.org"}, headers=auth(keys, two_icbs.place))
    assert r.status_code == 202, r.text
    [card] = await cards_of(app, r.json()["contact_token"])
    assert card["tenant"] == two_icbs.icb
    # Naming a practice of the caller's own is fine; another ICB's is not theirs to name.
    named = {"email": "api2@example.org", "organisation_code": two_icbs.other_practice}
    assert (await client.post("/v1/hear-back", json=named, headers=auth(keys, two_icbs.place))).status_code == 202
    other = {"email": "api3@example.org", "organisation_code": "P81001"}
    refused = await client.post("/v1/hear-back", json=other, headers=auth(keys, two_icbs.place))
    assert refused.status_code == 403


async def test_without_an_organisation_two_icbs_need_one_named(client, app, two_icbs) -> None:  # type: ignore[no-untyped-def]
    r = await client.post("/v1/hear-back", json={"email": "who@example.org"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "organisation_code"
    r = await client.post("/v1/hear-back", json={"email": "who@example.org", "organisation_code": "NOPE1"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "organisation_code"
    assert await outbox(app, MEMBERSHIP_CONTACTS.name) == []
    page = await client.post("/hear-back", data={"email": "who@example.org"})
    assert page.status_code == 422 and "name the practice" in page.text
    page = await client.post("/hear-back", data={"email": "who@example.org", "organisation": two_icbs.practice})
    assert page.status_code == 303
    [card] = await outbox(app, MEMBERSHIP_CONTACTS.name)
    assert card["tenant"] == two_icbs.icb


async def test_a_contact_from_before_organisations_were_recorded(client, app, keys, two_icbs) -> None:  # type: ignore[no-untyped-def]
    """Recorded with no organisation (as the migration leaves older rows): with two ICBs its
    confirmation stages no card (nothing is sent for it), and the first update takes the
    organisation of the feedback it answers and carries the confirmed card under its ICB."""
    r = await client.post("/v1/hear-back", json={"email": "old@example.org"}, headers=auth(keys, "P81001"))
    token = r.json()["contact_token"]
    [card] = await cards_of(app, token)
    assert card["tenant"] == "QZZ"
    async with app.state.sessions() as session, session.begin():
        await session.execute(update(HearBackContact).values(organisation_code=None))
    r = await client.post(
        "/v1/hear-back/confirm", json={"token": token_of(card["data"]["message"]["links"]["confirm"])}
    )
    assert r.status_code == 200, r.text
    assert len(await cards_of(app, token)) == 1
    await respond(app, two_icbs.practice, token)
    update_card = (await cards_of(app, token))[-1]
    assert update_card["tenant"] == two_icbs.icb and update_card["data"]["contactable"] is True
    async with app.state.sessions() as session:
        contact = await session.get(HearBackContact, token)
    assert contact is not None and contact.organisation_code == two_icbs.practice
