"""What the hub's feedback pages send reaches intake through the one ingress path (the Kafka
ingress handler, scrubbed and triaged like a place's record), signed for one practice and
one reference and only as online FFT feedback; and a hear-back reference given with feedback
is checked, so a mistyped one is refused rather than attributed to someone else."""

import dataclasses
import uuid
from typing import Any

from sqlalchemy import select

from feedback_intake.handlers import ingress
from feedback_intake.models import FeedbackSubmission, IngressRejection
from hub_shared import page_records
from hub_shared.auth import TokenVerifier
from hub_shared.events import Envelope, FeedbackSubmittedV1, new_envelope
from hub_shared.links import SignedLinks
from hub_shared.organisations import reference
from hub_shared.references import grouped, new_reference

from .conftest import auth

SECRET = "s" * 40
PAGES = SignedLinks([SECRET], "", page_records.NAMESPACE)


def record(tenant: str = "P81001", signed_for: str | None = None, links: SignedLinks = PAGES, **data: Any) -> Envelope:
    client_reference = f"feedback-page-{uuid.uuid4()}"
    body = {
        "organisation_code": tenant,
        "service_area": "general_practice",
        "channel": "fft_online",
        "fft_answer": "poor",
        "text": "Call me on 07700 900123, the wait was long.",
        "occurred_at": "2026-11-20T09:30:00Z",
        "client_reference": client_reference,
        **data,
    }
    envelope = new_envelope(
        FeedbackSubmittedV1.model_validate(body),
        source="membership",
        subject=client_reference,
        tenant=tenant,
        correlation_id="c",
    )
    signature = page_records.authorization(links, tenant=signed_for or tenant, client_reference=client_reference)
    return dataclasses.replace(envelope, authorization=signature)


async def apply(app, *envelopes: Envelope) -> tuple[list[FeedbackSubmission], list[IngressRejection]]:  # type: ignore[no-untyped-def]
    settings = app.state.settings
    verifier = TokenVerifier(issuer=settings.jwt_issuer, audience=settings.jwt_audience, jwks_path=settings.jwks_path)
    async with app.state.sessions() as session:
        await ingress.on_ingress_submissions(session, list(envelopes), reference(), verifier, page_links=PAGES)
        await session.commit()
        stored = list((await session.scalars(select(FeedbackSubmission))).all())
        refused = list((await session.scalars(select(IngressRejection))).all())
    return stored, refused


async def test_a_page_record_goes_through_the_ingress_scrubbed_and_counted_as_online_fft(app) -> None:
    token = new_reference()
    page = record(hear_back={"contact_token": token})
    stored, refused = await apply(app, page, page)  # delivered twice: stored once
    assert refused == []
    [submission] = stored
    assert submission.channel == "fft_online" and submission.submitted_by == "P81001"
    assert "07700" not in (submission.text or "") and submission.redactions.get("phone") == 1
    assert submission.contact_token == token


async def test_a_page_record_is_good_for_its_own_practice_and_online_fft_only(app) -> None:
    other_practice = record(tenant="P81002", signed_for="P81001")
    not_online = record(channel="fft_sms")
    forged = record(links=SignedLinks(["f" * 40], "", page_records.NAMESPACE))
    stored, refused = await apply(app, other_practice, not_online, forged)
    assert stored == []
    reasons = sorted(r.errors[0]["message"] for r in refused)
    assert reasons == [
        "a feedback page sends fft_online feedback only",
        "invalid feedback page signature",
        "invalid feedback page signature",
    ]


async def test_a_hear_back_reference_is_checked_and_stored_in_its_canonical_form(client, keys) -> None:
    token = new_reference()
    item = {
        "organisation_code": "P81001",
        "service_area": "general_practice",
        "channel": "fft_paper",
        "fft_answer": "good",
        "occurred_at": "2026-11-20T09:30:00Z",
    }
    written = grouped(token).lower().replace("-", " ")
    r = await client.post(
        "/v1/feedback", json={**item, "hear_back": {"reference": written}}, headers=auth(keys, "P81001")
    )
    assert r.status_code == 201, r.text
    assert r.json()["hears_back"]
    r = await client.post(
        "/v1/feedback", json={**item, "hear_back": {"contact_token": grouped(token)}}, headers=auth(keys, "P81001")
    )
    assert r.status_code == 201, r.text

    slip = token[:3] + ("X" if token[3] != "X" else "Y") + token[4:]
    for hear_back in ({"reference": grouped(slip)}, {"contact_token": slip}):
        r = await client.post("/v1/feedback", json={**item, "hear_back": hear_back}, headers=auth(keys, "P81001"))
        assert r.status_code == 422, r.text
        [error] = r.json()["errors"]
        assert error["field"].startswith("hear_back") and "reference is not right" in error["message"]
