"""Feedback pages: a person gives feedback about a practice or service on the hub's own page
(``/f/{code}``, the address on its QR poster). Membership serves the page, but the feedback
is intake's: it goes, as the record a place's own system would put there, on intake's
ingress topic (``feedback.submitted.v1``, online FFT, signed for that one practice and
reference, ``hub_shared.page_records``), where intake validates, de-identifies, triages and
counts it like any other. What stays here is only what membership keeps anyway: the address
to hear back at, behind a hear-back reference (``hear_back.request_hear_back``, double
opt-in), and the form's id, so that a second press is the same submission.

The form's record, the hear-back contact and the ingress record commit together (the outbox):
the feedback is never sent without its reference, nor the reference kept for feedback that
was not sent."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub_shared import page_records
from hub_shared.events import AUTHORIZATION_HEADER, Channel, FeedbackSubmittedV1, ServiceArea
from hub_shared.links import SignedLinks
from hub_shared.outbox import outbox_row
from hub_shared.topics import FEEDBACK_SUBMISSIONS
from membership.handlers.hear_back import request_hear_back
from membership.links import Links
from membership.models import FeedbackPageSubmission, OutboxMessage
from membership.publishing import publisher
from membership.schemas import FeedbackPageForm

REPEAT_WINDOW = timedelta(minutes=10)


@dataclass(frozen=True)
class Given:
    """What the thanks page shows: the hear-back reference, if one was asked for, and
    whether this was a repeat of a form already sent."""

    contact_token: str | None
    repeat: bool


def client_reference(form: FeedbackPageForm) -> str:
    return f"feedback-page-{form.form_id}"


async def give_feedback(
    session: AsyncSession,
    form: FeedbackPageForm,
    *,
    organisation_code: str,
    service_area: ServiceArea,
    links: Links,
    page_links: SignedLinks,
    client: str,
    correlation_id: str,
) -> Given:
    """Send the page's feedback to intake's ingress (and issue a hear-back reference when
    asked), once: a repeat of the form, or of the same words from the same ``client`` (its
    address, the real one behind a trusted proxy) within ``REPEAT_WINDOW``, answers as the
    first did and sends nothing."""
    sent = await session.get(FeedbackPageSubmission, str(form.form_id))
    if sent is not None:
        return Given(sent.contact_token, repeat=True)
    now = datetime.now(UTC)
    content_key = None
    if form.text:  # an answer alone is no repeat: many in one waiting room share an address and an answer
        words = " ".join(form.text.split()).casefold()
        content_key = links.content_key(
            client, organisation_code, service_area.value, form.fft_answer.value, words, form.email or ""
        )
        again = await session.scalar(
            select(FeedbackPageSubmission)
            .where(
                FeedbackPageSubmission.content_key == content_key,
                FeedbackPageSubmission.submitted_at >= now - REPEAT_WINDOW,
            )
            .limit(1)
        )
        if again is not None:
            return Given(again.contact_token, repeat=True)
    token = None
    if form.email is not None:
        token = await request_hear_back(
            session, form.email, organisation_code=organisation_code, links=links, correlation_id=correlation_id
        )
    session.add(
        FeedbackPageSubmission(
            form_id=str(form.form_id),
            organisation_code=organisation_code,
            contact_token=token,
            content_key=content_key,
            submitted_at=now,
        )
    )
    reference = client_reference(form)
    demographics = {
        k: v for k, v in {"age_band": form.age_band, "sex": form.sex, "ethnic_group": form.ethnic_group}.items() if v
    }
    data = FeedbackSubmittedV1.model_validate(
        {
            "organisation_code": organisation_code,
            "service_area": service_area.value,
            "channel": Channel.FFT_ONLINE.value,
            "fft_answer": form.fft_answer.value,
            "text": form.text,
            "occurred_at": now.isoformat(),
            "demographics": {k: v.value for k, v in demographics.items()} or None,
            "hear_back": {"contact_token": token} if token else None,
            "client_reference": reference,
        }
    )
    envelope = publisher.envelope(data, subject=reference, tenant=organisation_code, correlation_id=correlation_id)
    row = outbox_row(envelope, FEEDBACK_SUBMISSIONS.name)
    row["headers"][AUTHORIZATION_HEADER] = page_records.authorization(
        page_links, tenant=organisation_code, client_reference=reference
    )
    session.add(OutboxMessage(**row))
    return Given(token, repeat=False)
