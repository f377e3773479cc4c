"""Every email reads right: who gave the feedback is told so and nobody else is; every
update can be stopped from the email itself; a place given to someone waiting is one email;
every kind of email writes times the NHS.UK way and calls the ICS by its name from the
reference data."""

import re
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from hub_shared.dates import LONDON, when
from hub_shared.events import Answer, InvitationAnsweredV1, MessageKind, Place
from hub_shared.organisations import reference
from hub_shared.testing import SmtpSink
from notification.handlers.branding import SAMPLE_BRANDING
from notification.rules import kinds
from notification.rules.render import opportunity_view, render
from notification.rules.samples import sample_context
from notification.workers.delivery import Worker

from .conftest import card, contacts, deliver, drain, membership_event
from .test_people import opportunity, response

STOP = "http://membership/hear-back/stop?token=stop-token"
# What the NHS.UK style never writes: "12am", "12:00pm", "6:00pm", a 24-hour "18:00".
NOT_NHS_STYLE = re.compile(r"\b12(:00)?\s?[ap]m\b|\b\d{1,2}:00\s?[ap]m\b|\b[0-2]?\d:[0-5]\d\b(?!\s?[ap]m)", re.I)


def body(message: Any) -> str:
    return str(message.get_body(("plain",)).get_content())


async def test_an_update_tells_contributors_it_was_theirs_and_nobody_else(
    app: Any, worker: Worker, smtp_sink: SmtpSink
) -> None:
    response_id, responded = response()
    await deliver(app, responded)
    people = {
        "contributor@example.org": {"member_id": uuid.uuid4(), "links": {"because": "contributor"}},
        "group@example.org": {"member_id": uuid.uuid4(), "links": {"because": "group_interest"}},
        "earlier@example.org": {"member_id": uuid.uuid4(), "links": {}},  # a card from before it said why
        "hearback@example.org": {"token": "hb-token", "links": {"because": "contributor", "stop": STOP}},
    }
    for email, who in people.items():
        await deliver(
            app,
            contacts(card(email, MessageKind.UPDATE_DUE, reference=str(response_id), **who)),  # type: ignore[arg-type]
        )
    await drain(worker)
    text = {email: body(smtp_sink.to(email)[-1]) for email in people}
    for email in ("contributor@example.org", "hearback@example.org"):
        assert "has acted on feedback you gave." in text[email]
        assert "because you asked to hear what came of your feedback" in text[email]
    for email in ("group@example.org", "earlier@example.org"):
        assert "feedback you gave" not in text[email] and "You said" not in text[email].split("You said, we did")[1]
        assert "feedback patients gave about a service your patient group looks at" in text[email]
        assert "because you are in a patient group" in text[email] and "asked to hear what came of" not in text[email]
    # Every update can be stopped from the email: a hear-back address by the link that
    # forgets it, a member by their unsubscribe link.
    assert (
        f"Stop hearing about your feedback (we will forget your email address): {STOP}" in text["hearback@example.org"]
    )
    for email in ("contributor@example.org", "group@example.org", "earlier@example.org"):
        assert re.search(r"Stop these emails: http://notification/unsubscribe\?token=\S+", text[email])
    html = smtp_sink.to("hearback@example.org")[-1].get_body(("html",)).get_content()
    assert f'href="{STOP}"' in html


async def test_a_place_given_to_someone_waiting_is_one_email(app: Any, worker: Worker, smtp_sink: SmtpSink) -> None:
    member = uuid.uuid4()
    opp, published_opp = opportunity()
    await deliver(app, published_opp, contacts(card("wyn@example.org", member_id=member, name="Wyn Jones")))

    def answered(place: Place, moved: bool) -> Any:
        data = InvitationAnsweredV1(
            member_id=member,
            invitation_id=uuid.uuid4(),
            opportunity_id=opp,
            organisation_code="01A",
            answer=Answer.YES,
            place=place,
            answered_at=datetime.now(UTC) - timedelta(days=1),
            moved=moved,
        )
        return membership_event(data, str(member))

    await deliver(app, answered(Place.WAITING_LIST, moved=False))  # their reply
    await drain(worker)
    # A place comes up: membership sends "place offered" and publishes the move.
    offered = card("wyn@example.org", MessageKind.PLACE_OFFERED, member_id=member, name="Wyn Jones", reference=str(opp))
    await deliver(app, answered(Place.BOOKED, moved=True), contacts(offered))
    await drain(worker)
    subjects = [m["Subject"] for m in smtp_sink.to("wyn@example.org")]
    title = "Physiotherapy redesign workshop"
    assert subjects == [f"We have your reply: {title}", f"A place has come up: {title}"]
    # Fewer places: moved back to the waiting list, told so, not thanked for a reply.
    await deliver(app, answered(Place.WAITING_LIST, moved=True))
    await drain(worker)
    moved = smtp_sink.to("wyn@example.org")[-1]
    assert moved["Subject"] == f"Your place has changed: {title}"
    assert "moved to the waiting list" in body(moved) and "Thank you for replying" not in body(moved)


def test_every_kind_of_email_writes_times_the_nhs_way_and_names_the_ics(settings: Any) -> None:
    # An evening start and replies closing at midnight: the times people misread most.
    starts = datetime(2027, 1, 20, 18, 0, tzinfo=LONDON)
    closes = datetime(2027, 1, 11, 0, 0, tzinfo=LONDON)
    shown = opportunity_view(
        SimpleNamespace(
            title="Skin clinic redesign",
            kind="workshop",
            starts_at=starts,
            closes_at=closes,
            online=False,
            location="Northvale Library",
            cancel_reason="The library is closed.",
        )
    )
    ics = reference().ics_name("01A")
    for kind in kinds.ALL:
        context = sample_context(kind, "01A", dict(SAMPLE_BRANDING), settings)
        context["opportunity"] = shown
        for item in (i for group in context.get("digest", []) for i in group["items"] if "opportunity" in i):
            item["opportunity"] = shown
        rendered = render(kind, context)
        words = rendered.subject + "\n" + rendered.text
        assert not NOT_NHS_STYLE.search(words), (kind, NOT_NHS_STYLE.search(words))
        assert ics in rendered.text and ics in rendered.html, kind
        if kind in kinds.ABOUT_OPPORTUNITY or kind == kinds.DIGEST_DAILY:
            assert "Wednesday 20 January 2027 at 6pm" in words, kind
        if kind == kinds.INVITATION:
            assert f"{when(closes)}" == "Monday 11 January 2027 at midnight" and when(closes) in words
        if kind == kinds.UPDATE:
            assert "Stop these emails" in rendered.text
