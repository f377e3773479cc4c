"""What a person sees: erasure leaves nothing of them, one-click unsubscribe, templates
and previews, and daily or weekly digests in Europe/London time."""

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import update

from hub_shared.auth import DevKeys
from hub_shared.events import (
    FeedbackRespondedV1,
    Frequency,
    MemberErasedV1,
    MessageKind,
    OpportunityKind,
    OpportunityPublishedV1,
    ResponseStatus,
    decode,
)
from hub_shared.failures import DependencyUnavailable, is_transient
from hub_shared.migrations import sync_url
from hub_shared.sealing import ContactKeys
from hub_shared.testing import SmtpSink
from hub_shared.topics import FEEDBACK_RESPONSES, MEMBERSHIP_CONTACTS
from notification.models import Notification, Recipient
from notification.rules import kinds
from notification.rules.render import render
from notification.rules.schedule import next_digest
from notification.workers.delivery import Worker

from .conftest import KEYS, auth, card, contacts, deliver, drain, ledger, membership_event, published, record


def opportunity(org: str = "01A", title: str = "Physiotherapy redesign workshop") -> tuple[uuid.UUID, Any]:
    opportunity_id = uuid.uuid4()
    starts = datetime.now(UTC) + timedelta(days=10)
    data = OpportunityPublishedV1(
        opportunity_id=opportunity_id,
        organisation_code=org,
        kind=OpportunityKind.WORKSHOP,
        title=title,
        starts_at=starts,
        online=False,
        closes_at=starts - timedelta(days=3),
        invited=3,
        published_at=datetime.now(UTC),
    )
    return opportunity_id, membership_event(data, str(opportunity_id), tenant=org)


def response(org: str = "01A") -> tuple[uuid.UUID, Any]:
    response_id = uuid.uuid4()
    from hub_shared.events import new_envelope

    data = FeedbackRespondedV1(
        response_id=response_id,
        organisation_code=org,
        you_said="Evening appointments are hard to get.",
        we_did="The clinic now opens until 8pm on Tuesdays.",
        status=ResponseStatus.DONE,
        responded_at=datetime.now(UTC),
    )
    envelope = new_envelope(data, source="feedback-intake", subject=str(response_id), tenant=org, correlation_id="c")
    return response_id, record(envelope, FEEDBACK_RESPONSES.name)


def dump(url: str) -> str:
    out = []
    with psycopg.connect(sync_url(url).replace("postgresql+psycopg", "postgresql")) as conn:
        tables = conn.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
        for (table,) in tables.fetchall():
            out += [repr(row) for row in conn.execute(f'SELECT * FROM "{table}"').fetchall()]  # type: ignore[call-overload]
    return "\n".join(out)


async def test_erasure_leaves_no_address_or_name_in_the_store(
    app: Any, worker: Worker, smtp_sink: SmtpSink, settings: Any
) -> None:
    member = uuid.uuid4()
    email, name = "erin.erasable@example.org", "Erin Erasable"
    opp, published_opp = opportunity()
    await deliver(app, published_opp)
    await deliver(app, contacts(card(email, MessageKind.FRESH_LINK, member_id=member, name=name)))
    await drain(worker)
    await deliver(app, contacts(card(email, MessageKind.INVITATION, member_id=member, name=name, reference=str(opp))))
    assert email in dump(settings.database_url)
    # membership erases: a tombstone on the contacts topic and member.erased.v1.
    await deliver(
        app,
        record(None, MEMBERSHIP_CONTACTS.name, key=str(member)),
        membership_event(MemberErasedV1(member_id=member, erased_at=datetime.now(UTC)), str(member)),
    )
    await drain(worker)
    by_kind = {r.kind: r for r in await ledger(app)}
    assert by_kind["invitation"].status == "withheld" and by_kind["invitation"].reason == "erased"
    assert by_kind["erased"].status == "delivered"
    assert [m["Subject"] for m in smtp_sink.to(email)] == [
        "Your link to your preferences",
        "We have deleted your details",
    ]
    store = dump(settings.database_url)
    assert email not in store and "Erin" not in store and "Erasable" not in store
    async with app.state.sessions() as session:
        assert await session.get(Recipient, str(member)) is None
    rows = await ledger(app)
    assert all(r.member_id is None and r.recipient_key is None and r.farewell_address is None for r in rows)


async def test_a_card_of_someone_erased_since_opens_no_more_and_keeps_nothing(
    app: Any, worker: Worker, smtp_sink: SmtpSink
) -> None:
    """A card read after its person's key was destroyed (a consumer behind, a replay, a dead
    letter replayed): nothing of them is kept and nothing is sent."""
    member = uuid.uuid4()
    late = contacts(card("late.reader@example.org", MessageKind.FRESH_LINK, member_id=member))
    KEYS.forget(str(member))  # membership erased them before notification read the card
    assert await deliver(app, late) == ["applied"]
    await drain(worker)
    async with app.state.sessions() as session:
        assert await session.get(Recipient, str(member)) is None
    assert smtp_sink.messages == [] and await ledger(app) == []


async def test_a_card_waits_while_membership_cannot_be_asked_for_the_key(app: Any) -> None:
    """Membership down is the world's failure, not the card's: the consumer waits and tries
    again (never a dead letter, never skipped)."""
    member = uuid.uuid4()
    unreachable = ContactKeys("http://127.0.0.1:9", KEYS.links, timeout=1)
    sealed = contacts(card("patient@example.org", MessageKind.FRESH_LINK, member_id=member)).value
    envelope = decode(sealed)
    with pytest.raises(DependencyUnavailable) as raised:
        await unreachable.open(envelope.data)  # type: ignore[arg-type]
    assert is_transient(raised.value)


async def test_nobody_unconfirmed_gets_a_goodbye(app: Any, worker: Worker, smtp_sink: SmtpSink) -> None:
    member = uuid.uuid4()
    await deliver(app, contacts(card("typo@example.org", member_id=member, contactable=False)))
    await deliver(
        app,
        record(None, MEMBERSHIP_CONTACTS.name, key=str(member)),
        membership_event(MemberErasedV1(member_id=member, erased_at=datetime.now(UTC)), str(member)),
    )
    await drain(worker)
    assert smtp_sink.messages == [] and await ledger(app) == []


async def test_a_new_address_is_asked_to_confirm_at_that_address_and_kept_no_longer(
    app: Any, worker: Worker, smtp_sink: SmtpSink
) -> None:
    member = uuid.uuid4()
    await deliver(app, contacts(card("old@example.org", member_id=member)))
    confirm = {"confirm": "http://membership/email/confirm?token=new-address"}
    asking = card(
        "old@example.org", MessageKind.CONFIRM_NEW_EMAIL, member_id=member, to="new@example.org", links=confirm
    )
    await deliver(app, contacts(asking))
    await drain(worker)
    assert smtp_sink.to("old@example.org") == []
    [asked] = smtp_sink.to("new@example.org")
    assert asked["Subject"] == "Confirm your new email address"
    assert confirm["confirm"] in asked.get_body(("plain",)).get_content()
    assert "List-Unsubscribe" not in asked  # it is how the address gets confirmed
    [row] = [r for r in await ledger(app) if r.kind == kinds.CONFIRM_NEW_ADDRESS]
    assert row.status == "delivered" and row.farewell_address is None  # the address goes once it is final


async def test_one_click_unsubscribe(app: Any, client: httpx.AsyncClient, worker: Worker, smtp_sink: SmtpSink) -> None:
    member = uuid.uuid4()
    opp, published_opp = opportunity()
    await deliver(app, published_opp)
    await deliver(app, contacts(card("una@example.org", MessageKind.INVITATION, member_id=member, reference=str(opp))))
    await drain(worker)
    [invitation] = smtp_sink.messages
    assert invitation["Subject"] == "You are invited: Physiotherapy redesign workshop"
    assert invitation["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = invitation["List-Unsubscribe"].strip("<>")
    assert url.startswith("http://notification/unsubscribe?token=")
    text = invitation.get_body(("plain",)).get_content()
    html = invitation.get_body(("html",)).get_content()
    assert (url in text and url.replace("&", "&amp;") in html) or url in html
    assert "http://membership/reply?token=reply-token" in text
    path = url.removeprefix("http://notification")

    r = await client.get(path)  # a link scanner, or the person: asks first
    assert r.status_code == 200 and "<form" in r.text and 'method="post"' in r.text
    async with app.state.sessions() as session:
        assert (await session.get(Recipient, str(member))).unsubscribed_at is None  # type: ignore[union-attr]
    r = await client.post(
        path, content="List-Unsubscribe=One-Click", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert r.status_code == 200 and "You have unsubscribed" in r.text
    r = await client.post(path, content="List-Unsubscribe=One-Click")
    assert r.status_code == 200
    [told] = await published(app, "notification.unsubscribed.v1")
    assert told["data"]["member_id"] == str(member) and "una@" not in str(told)

    await deliver(app, contacts(card("una@example.org", MessageKind.INVITATION, member_id=member, reference=str(opp))))
    await deliver(app, contacts(card("una@example.org", MessageKind.FRESH_LINK, member_id=member)))
    await drain(worker)
    assert [m["Subject"] for m in smtp_sink.messages][1:] == ["Your link to your preferences"]
    withheld = [r for r in await ledger(app) if r.status == "withheld"]
    assert [(r.kind, r.reason) for r in withheld] == [("invitation", "unsubscribed")]
    assert (await client.get("/unsubscribe?token=forged")).status_code == 403
    assert (await client.post("/unsubscribe?token=forged")).status_code == 403


async def test_every_template_previews_with_branding_escaped_and_inlined(
    app: Any, client: httpx.AsyncClient, keys: DevKeys
) -> None:
    r = await client.put(
        "/v1/branding/01A",
        json={"sign_off": "With warm thanks from Northvale,", "team_name": "Northvale engagement team"},
        headers=auth(keys, "01A"),
    )
    assert r.status_code == 200, r.text
    assert (await client.put("/v1/branding/02B", json={"sign_off": "x"}, headers=auth(keys, "01A"))).status_code == 403
    r = await client.put("/v1/branding/01A", json={"sign_off": ""}, headers=auth(keys, "01A"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"].endswith("sign_off")
    for kind in kinds.ALL:
        r = await client.get(f"/v1/templates/{kind}/preview", headers=auth(keys, "01A"))
        assert r.status_code == 200, (kind, r.text)
        preview = r.json()
        assert preview["subject"] and "{{" not in preview["subject"]
        assert "With warm thanks from Northvale," in preview["text"] and "Northvale engagement team" in preview["html"]
        assert "<" not in preview["text"]
        assert "<style" not in preview["html"] and "<img" not in preview["html"] and 'lang="en-GB"' in preview["html"]
        assert ("Unsubscribe" in preview["html"]) == (kind in kinds.NON_TRANSACTIONAL)
        page = await client.get(f"/templates/{kind}", params={"organisation_code": "01A"})
        assert page.status_code == 200 and "<iframe" in page.text
    assert (await client.get("/v1/templates/nope/preview", headers=auth(keys, "01A"))).status_code == 404
    assert (await client.get("/templates")).status_code == 200

    context = {
        "ics_name": "ICS",
        "name": "<script>alert(1)</script>",
        "links": {"preferences": "http://x/?a=1&b=2"},
        "sign_off": "Thanks",
        "team_name": None,
        "organisation_name": "Org",
        "contact_email": None,
        "recipient_kind": "member",
    }
    rendered = render(kinds.FRESH_LINK, context)
    assert "<script>" not in rendered.html and "&lt;script&gt;" in rendered.html
    assert "<script>alert(1)</script>" in rendered.text  # plain text is not HTML
    assert 'href="http://x/?a=1&amp;b=2"' in rendered.html


def test_digest_moments_are_london_wall_clock() -> None:
    summer = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)  # BST: 08:00 London is 07:00 UTC
    assert next_digest(summer, "daily", hour=8, weekday=0) == datetime(2026, 7, 2, 7, 0, tzinfo=UTC)
    winter = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)  # GMT, and before today's 08:00
    assert next_digest(winter, "daily", hour=8, weekday=0) == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    weekly = next_digest(winter, "weekly", hour=8, weekday=0)  # 1 Dec 2026 is a Tuesday
    assert weekly == datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    change = datetime(2026, 10, 24, 12, 0, tzinfo=UTC)  # clocks go back on the 25th
    assert next_digest(change, "daily", hour=8, weekday=0) == datetime(2026, 10, 25, 8, 0, tzinfo=UTC)


async def test_one_digest_per_person_across_organisations_and_never_an_empty_one(
    app: Any, worker: Worker, smtp_sink: SmtpSink
) -> None:
    daily, idle = uuid.uuid4(), uuid.uuid4()
    north, north_published = opportunity("01A", "Northvale workshop")
    south, south_published = opportunity("02B", "Southdale seminar")
    answer, responded = response("P81001")
    await deliver(app, north_published, south_published, responded)
    await deliver(app, contacts(card("idle@example.org", member_id=idle, frequency=Frequency.DAILY)))
    for kind, ref in (
        (MessageKind.INVITATION, north),
        (MessageKind.INVITATION, south),
        (MessageKind.UPDATE_DUE, answer),
    ):
        await deliver(
            app, contacts(card("dee@example.org", kind, member_id=daily, frequency=Frequency.DAILY, reference=str(ref)))
        )
    await drain(worker)
    assert smtp_sink.messages == []  # held until the digest hour
    rows = await ledger(app)
    assert {r.status for r in rows} == {"held-for-digest"}
    assert all(r.due_at.astimezone(UTC).hour in (7, 8) for r in rows)  # 08:00 Europe/London
    async with app.state.sessions() as session, session.begin():  # the digest hour comes
        await session.execute(update(Notification).values(due_at=datetime.now(UTC) - timedelta(seconds=1)))
    await drain(worker)
    [digest] = smtp_sink.messages
    assert digest["To"] == "dee@example.org" and digest["Subject"] == "Your daily round-up: 3 new"
    assert digest["List-Unsubscribe"] is not None
    text = digest.get_body(("plain",)).get_content()
    for expected in ("Northvale workshop", "Southdale seminar", "The clinic now opens until 8pm on Tuesdays.",
                     "From Northvale Place", "From Riverside Place", "Dear Ada Lovelace,"):  # fmt: skip
        assert expected in text, expected
    statuses = {r.kind: r.status for r in await ledger(app)}
    assert statuses == {"invitation": "delivered", "update": "delivered", "digest_daily": "delivered"}
    await drain(worker)
    assert len(smtp_sink.messages) == 1
    assert not re.search(r"idle@example.org", str([m["To"] for m in smtp_sink.messages]))


async def test_a_reply_is_acknowledged_and_a_booked_place_reminded_unless_they_change_their_mind(
    app: Any, worker: Worker, smtp_sink: SmtpSink
) -> None:
    from hub_shared.events import Answer, InvitationAnsweredV1, Place

    member, other = uuid.uuid4(), uuid.uuid4()
    opp, published_opp = opportunity()
    await deliver(app, published_opp)
    await deliver(app, contacts(card("rhian@example.org", member_id=member, name="Rhian Rees")))
    await deliver(app, contacts(card("owain@example.org", member_id=other, name="Owain Rees")))

    def answered(who: uuid.UUID, answer: Answer, place: Place | None) -> Any:
        data = InvitationAnsweredV1(
            member_id=who,
            invitation_id=uuid.uuid4(),
            opportunity_id=opp,
            organisation_code="01A",
            answer=answer,
            place=place,
            answered_at=datetime.now(UTC),
        )
        return membership_event(data, str(who))

    await deliver(app, answered(member, Answer.YES, Place.BOOKED), answered(other, Answer.YES, Place.BOOKED))
    await deliver(app, answered(other, Answer.NO, None))  # changed their mind
    await drain(worker)
    assert (
        sorted(m["Subject"] for m in smtp_sink.messages) == ["We have your reply: Physiotherapy redesign workshop"] * 3
    )
    assert "You said no" in smtp_sink.to("owain@example.org")[-1].get_body(("plain",)).get_content()
    reminders = {r.member_id: r for r in await ledger(app) if r.kind == "reminder"}
    assert reminders[member].status == "created" and reminders[other].status == "withheld"
    assert reminders[member].due_at > datetime.now(UTC) + timedelta(days=8)  # the day before it starts
    async with app.state.sessions() as session, session.begin():  # the day before comes
        await session.execute(
            update(Notification).where(Notification.kind == "reminder").values(due_at=datetime.now(UTC))
        )
    await drain(worker)
    [reminder] = [m for m in smtp_sink.messages if str(m["Subject"]).startswith("Reminder: ")]
    assert reminder["Subject"].endswith("m") and "\n" not in reminder["Subject"]
    assert reminder["To"] == "rhian@example.org" and "Dear Rhian Rees," in reminder.get_body(("plain",)).get_content()


async def test_an_update_whose_response_never_arrives_is_a_technical_failure(
    app: Any, settings: Any, smtp_sink: SmtpSink
) -> None:
    impatient = Worker(settings.model_copy(update={"content_wait_seconds": 0}), app.state.sessions, name="i")
    await deliver(
        app,
        contacts(card("wait@example.org", MessageKind.UPDATE_DUE, member_id=uuid.uuid4(), reference=str(uuid.uuid4()))),
    )
    await drain(impatient)
    await impatient.relay.close()
    [row] = await ledger(app)
    assert row.status == "technical-failure" and (row.reason or "").startswith("never arrived: response")
    assert smtp_sink.messages == []
