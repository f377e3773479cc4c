"""Feedback: post one item or a batch (each safe to retry with an Idempotency-Key), list
and read what you may see. Every write commits before it answers, so a 2xx always means
the data and its events are stored."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from feedback_intake.api.deps import Reader, Writer
from feedback_intake.api.errors import BODY_ERRORS, ERRORS, problem
from feedback_intake.api.idempotency import IdempotencyKey, Produced, respond_once
from feedback_intake.handlers import submissions
from feedback_intake.handlers.submissions import FeedbackFilter, Submission
from feedback_intake.rules.triage import text_shown
from feedback_intake.schemas import (
    BatchCreate,
    BatchItemResult,
    BatchResult,
    FeedbackCreate,
    FeedbackPage,
    FeedbackPublic,
)
from hub_shared import correlation
from hub_shared.auth import Principal
from hub_shared.authorisation import authorise
from hub_shared.db import Session
from hub_shared.events import Channel, Demographics, ServiceArea
from hub_shared.keyset import Cursor
from hub_shared.organisations import describe_code, reference
from hub_shared.timestamps import Timestamp

router = APIRouter(prefix="/v1")


def public(submission: Submission, *, reader: Principal | None = None) -> FeedbackPublic:
    """The item as answered to ``reader``, its text only as triage allows; without a reader,
    as answered to the sender of a new item (what it sent, scrubbed)."""
    triages = reader is None or "feedback:review" in reader.scopes
    demographics = Demographics(
        age_band=submission.age_band,
        sex=submission.sex,
        ethnic_group=submission.ethnic_group,
        postcode_district=submission.postcode_district,
    )
    return FeedbackPublic(
        id=submission.id,
        organisation_code=submission.organisation_code,
        counts_for=submission.counts_for,
        service_area=submission.service_area,  # type: ignore[arg-type]
        channel=submission.channel,  # type: ignore[arg-type]
        fft_answer=submission.fft_answer,  # type: ignore[arg-type]
        text=submission.text if text_shown(submission.review_status, triages=triages) else None,
        occurred_at=submission.occurred_at,
        received_at=submission.received_at,
        client_reference=submission.client_reference,
        demographics=demographics if demographics.model_dump(exclude_none=True) else None,
        hears_back=submission.member_id is not None or submission.contact_token is not None,
        redactions=submission.redactions,
        triage_flags=submission.triage_flags,  # type: ignore[arg-type]
        review_status=submission.review_status,
    )


@router.post(
    "/feedback",
    status_code=201,
    responses={
        **BODY_ERRORS,
        200: {
            "model": FeedbackPublic,
            "description": "This client_reference was seen before with the same content: the item stored then",
        },
        422: problem(
            "A field failed validation, or this client_reference (or Idempotency-Key) was used before for "
            "different content (nothing was stored); each is named in `errors`"
        ),
    },
    tags=["feedback"],
    response_model=FeedbackPublic,
    summary="Post one feedback item",
)
async def post_feedback(
    body: FeedbackCreate, principal: Writer, request: Request, idempotency_key: IdempotencyKey = None
) -> Response:
    async def produce(session: AsyncSession | None) -> Produced:
        staged = submissions.Staged()
        known = (
            await submissions.known_references(session, principal.organisation, [body.client_reference])
            if session is not None and body.client_reference
            else {}
        )
        submission, duplicate = await submissions.accept_submission(
            None,
            body,
            submitted_by=principal.organisation,
            organisations=reference(),
            correlation_id=correlation.current(),
            staged=staged,
            known=known,
        )
        return (200 if duplicate else 201), public(submission).model_dump(mode="json"), staged.writes()

    return await respond_once(
        request,
        principal,
        idempotency_key,
        body,
        produce,
        reads=body.client_reference is not None,
        location=lambda content: f"/v1/feedback/{content['id']}",
    )


@router.post(
    "/feedback/batch",
    responses=BODY_ERRORS,
    tags=["feedback"],
    response_model=BatchResult,
    summary="Post up to 1,000 items; each gets its own result",
)
async def post_batch(
    body: BatchCreate, principal: Writer, request: Request, idempotency_key: IdempotencyKey = None
) -> Response:
    async def produce(session: AsyncSession | None) -> Produced:
        assert session is not None
        outcomes, staged = await submissions.submit_batch(
            session,
            body.items,
            submitted_by=principal.organisation,
            organisations=reference(),
            correlation_id=correlation.current(),
        )
        items = [
            BatchItemResult(
                index=i,
                client_reference=(raw.get("client_reference") if isinstance(raw, dict) else None),
                status=o.status,
                id=o.submission.id if o.submission else None,
                errors=o.errors,
            )
            for i, (raw, o) in enumerate(zip(body.items, outcomes, strict=True))
        ]
        counts = {s: sum(1 for o in outcomes if o.status == s) for s in ("accepted", "duplicate", "rejected")}
        result = BatchResult(
            accepted=counts["accepted"], duplicates=counts["duplicate"], rejected=counts["rejected"], items=items
        )
        return 200, result.model_dump(mode="json"), staged.writes()

    return await respond_once(request, principal, idempotency_key, body, produce, reads=True)


@router.get("/feedback", responses=ERRORS, tags=["feedback"], summary="List feedback, newest first")
async def list_feedback(
    principal: Reader,
    session: Session,
    organisation_code: Annotated[
        str | None, Query(json_schema_extra=describe_code, description="Default: yours")
    ] = None,
    service_area: ServiceArea | None = None,
    channel: Channel | None = None,
    occurred_from: Timestamp | None = None,
    occurred_to: Timestamp | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Cursor = None,
) -> FeedbackPage:
    filters = FeedbackFilter(
        # Only an absent code means yours: an empty one is no organisation (422).
        organisation_code=None if organisation_code is None else authorise(principal, organisation_code),
        service_area=service_area.value if service_area else None,
        channel=channel.value if channel else None,
        occurred_from=occurred_from,
        occurred_to=occurred_to,
    )
    rows, next_cursor = await submissions.list_feedback(
        session, filters, principal=principal, organisations=reference(), limit=limit, cursor=cursor
    )
    return FeedbackPage(items=[public(r, reader=principal) for r in rows], next_cursor=next_cursor)


@router.get("/feedback/{submission_id:uuid}", responses=ERRORS, tags=["feedback"], summary="Read one feedback item")
async def get_feedback(submission_id: uuid.UUID, principal: Reader, session: Session) -> FeedbackPublic:
    return public(
        await submissions.get_feedback(session, submission_id, principal=principal, organisations=reference()),
        reader=principal,
    )
