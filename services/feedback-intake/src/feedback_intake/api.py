"""HTTP routes: parse -> command -> handler -> commit -> response. Every route commits
explicitly before it answers, so a 2xx always means the data and its events are stored."""

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Depends, Header, Query, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from feedback_intake import idempotency
from feedback_intake.fft_returns import FFT_CSV_COLUMNS, FFT_CSV_EXAMPLE, CsvParts
from feedback_intake.handlers import responses, reviews, submissions
from feedback_intake.handlers.submissions import FeedbackFilter, public
from feedback_intake.idempotency import HEADER as IDEMPOTENCY_HEADER
from feedback_intake.models import FeedbackResponse, FftUpload, FftUploadPart, IdempotencyRecord, IngressRejection
from feedback_intake.schemas import (
    BatchCreate,
    BatchItemResult,
    BatchResult,
    FeedbackCreate,
    FeedbackPage,
    FeedbackPublic,
    IngressRejectionPublic,
    ResponseCreate,
    ResponsePublic,
    ResponseUpdate,
    ReviewDecisionCreate,
    UploadPublic,
)
from hub_shared import correlation
from hub_shared.auth import Principal, require_scope
from hub_shared.authorisation import may_see
from hub_shared.db import Session, commit
from hub_shared.events import Channel, ServiceArea
from hub_shared.group_commit import Writes
from hub_shared.organisations import reference
from hub_shared.problems import MEDIA_TYPE, Problem

router = APIRouter(prefix="/v1")


def problem(description: str) -> dict[str, Any]:
    return {"content": {MEDIA_TYPE: {}}, "description": f"{description} (RFC 9457 problem details)"}


ERRORS: dict[int | str, dict[str, Any]] = {
    401: problem("No bearer token, or one that is invalid or expired"),
    403: problem("The token lacks the scope, or your organisation may not act for this one"),
    404: problem("Not found, or not yours to see"),
    409: problem("A concurrent request changed the same data; retry"),
    422: problem("A field (or a query parameter or header) failed validation; each is named in `errors`"),
    429: problem("Your organisation's write rate was exceeded; see `Retry-After`"),
}
# Routes that take a body can also answer these.
BODY_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    400: problem("The body could not be read as JSON (e.g. it is not UTF-8)"),
    413: problem("The body is over this route's size limit"),
}


Writer = Annotated[Principal, Depends(require_scope("feedback:write", rate_limited=True))]
Reader = Annotated[Principal, Depends(require_scope("feedback:read"))]
Reviewer = Annotated[Principal, Depends(require_scope("feedback:review", rate_limited=True))]
Responder = Annotated[Principal, Depends(require_scope("responses:write", rate_limited=True))]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=IDEMPOTENCY_HEADER,
        min_length=1,
        max_length=200,
        description="Makes retries safe: same key and body, same result (1 to 200 characters, e.g. a UUID). "
        "The same key with a different body is refused with 422.",
    ),
]


# ---- submissions ----


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


# A write's (status, body, rows to insert).
Produced = tuple[int, Any, Writes]


async def respond_once(
    request: Request,
    principal: Principal,
    key: str | None,
    body: BaseModel,
    produce: Callable[[AsyncSession | None], Awaitable[Produced]],
    *,
    reads: bool,
    location: Callable[[Any], str] | None = None,
) -> Response:
    """Run a write once per Idempotency-Key, commit its rows (with concurrent requests',
    see ``GroupCommit``) and answer, marking replays. ``produce`` gets a session when it
    ``reads`` or a key is given (the lookups), None otherwise: a plain post makes no round
    trip of its own."""
    headers: dict[str, str] = {}
    if key is None and not reads:
        status_code, content, writes = await produce(None)
    else:
        async with request.app.state.sessions() as session:
            once, replay = (
                await idempotency.first_result(
                    session, organisation=principal.organisation, key=key, body=body.model_dump(mode="json")
                )
                if key is not None
                else (None, None)
            )
            if replay is not None:
                status_code, content, writes = *replay, []
                headers["Idempotent-Replayed"] = "true"
            else:
                status_code, content, writes = await produce(session)
                if once is not None:
                    writes = [*writes, (IdempotencyRecord, [once.record(status_code, content)])]
    try:
        if writes:
            await request.app.state.group_commit.write(writes)
    except IntegrityError as exc:
        raise Problem(409, "Conflict", "A concurrent request changed the same data; retry the request.") from exc
    if location and status_code < 300:
        headers["Location"] = location(content)
    return Response(orjson.dumps(content), status_code=status_code, headers=headers, media_type="application/json")


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
    organisation_code: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9]{3,6}$", description="Default: yours")] = None,
    service_area: ServiceArea | None = None,
    channel: Channel | None = None,
    occurred_from: AwareDatetime | None = None,
    occurred_to: AwareDatetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> FeedbackPage:
    filters = FeedbackFilter(
        organisation_code=organisation_code.upper() if organisation_code else None,
        service_area=service_area.value if service_area else None,
        channel=channel.value if channel else None,
        occurred_from=occurred_from,
        occurred_to=occurred_to,
    )
    rows, next_cursor = await submissions.list_feedback(
        session, filters, principal=principal, organisations=reference(), limit=limit, cursor=cursor
    )
    return FeedbackPage(items=[public(r) for r in rows], next_cursor=next_cursor)


@router.get("/feedback/{submission_id:uuid}", responses=ERRORS, tags=["feedback"], summary="Read one feedback item")
async def get_feedback(submission_id: uuid.UUID, principal: Reader, session: Session) -> FeedbackPublic:
    return public(
        await submissions.get_feedback(session, submission_id, principal=principal, organisations=reference())
    )


# ---- safeguarding and complaint review ----


@router.get("/reviews", responses=ERRORS, tags=["reviews"], summary="Flagged feedback awaiting review, oldest first")
async def review_queue(
    principal: Annotated[Principal, Depends(require_scope("feedback:review"))],
    session: Session,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[FeedbackPublic]:
    rows, _ = await submissions.list_feedback(
        session,
        FeedbackFilter(review_status=submissions.PENDING_REVIEW),
        principal=principal,
        organisations=reference(),
        limit=1000,
        cursor=None,
    )
    return [public(r) for r in sorted(rows, key=lambda r: r.received_at)[:limit]]


@router.post("/reviews/{submission_id}", responses=BODY_ERRORS, tags=["reviews"], summary="Record a review decision")
async def decide(
    submission_id: uuid.UUID, body: ReviewDecisionCreate, principal: Reviewer, session: Session
) -> FeedbackPublic:
    submission = await reviews.record_review(
        session,
        submission_id,
        body.decision,
        principal=principal,
        organisations=reference(),
        correlation_id=correlation.current(),
    )
    await commit(session)
    return public(submission)


# ---- "you said, we did" ----


async def response_public(session: AsyncSession, response: FeedbackResponse) -> ResponsePublic:
    hearing = await responses.hearing_back(session, [response])
    return ResponsePublic.model_validate(response, from_attributes=True).model_copy(
        update={"hearing_back": hearing[response.id]}
    )


@router.post(
    "/responses",
    status_code=201,
    responses=BODY_ERRORS,
    tags=["responses"],
    summary="Publish what changed because of feedback",
)
async def post_response(body: ResponseCreate, principal: Responder, session: Session) -> ResponsePublic:
    response = await responses.create_response(
        session, body, principal=principal, organisations=reference(), correlation_id=correlation.current()
    )
    await commit(session)
    return await response_public(session, response)


@router.patch(
    "/responses/{response_id}",
    responses=BODY_ERRORS,
    tags=["responses"],
    summary="Move a response on (status, evidence, dates)",
)
async def patch_response(
    response_id: uuid.UUID, body: ResponseUpdate, principal: Responder, session: Session
) -> ResponsePublic:
    response = await responses.update_response(
        session,
        response_id,
        body,
        principal=principal,
        organisations=reference(),
        correlation_id=correlation.current(),
    )
    await commit(session)
    return await response_public(session, response)


@router.get(
    "/responses",
    responses=ERRORS,
    tags=["responses"],
    summary="Responses you may see, newest first",
    description='Paginated: while there are more, a `Link: <...>; rel="next"` header gives the next page\'s '
    "address (pass its `cursor`).",
)
async def list_responses(
    principal: Reader,
    session: Session,
    http: Response,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> list[ResponsePublic]:
    rows, next_cursor = await responses.list_responses(
        session, principal=principal, organisations=reference(), limit=limit, cursor=cursor
    )
    if next_cursor:
        http.headers["Link"] = f'</v1/responses?{urlencode({"limit": limit, "cursor": next_cursor})}>; rel="next"'
    hearing = await responses.hearing_back(session, rows)
    return [
        ResponsePublic.model_validate(r, from_attributes=True).model_copy(update={"hearing_back": hearing[r.id]})
        for r in rows
    ]


@router.get("/responses/{response_id}", responses=ERRORS, tags=["responses"], summary="Read one response")
async def get_response(response_id: uuid.UUID, principal: Reader, session: Session) -> ResponsePublic:
    return await response_public(
        session, await responses.get_response(session, response_id, principal=principal, organisations=reference())
    )


# ---- the Kafka ingress ----


@router.get(
    "/ingress/rejections",
    responses=ERRORS,
    tags=["kafka ingress"],
    summary="Why records you signed on the Kafka ingress were rejected, newest first",
    description="Only rejections of records signed with your organisation's own token are shown: a record that "
    "claimed another organisation's tenant is shown to its signer, never to the organisation it claimed (nor "
    "to a place or the ICB above the signer). Records without a valid token are attributed to no one.",
)
async def ingress_rejections(
    principal: Annotated[Principal, Depends(require_scope("feedback:write"))],
    session: Session,
    client_reference: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[IngressRejectionPublic]:
    query = select(IngressRejection).where(IngressRejection.sender == principal.organisation)
    if client_reference is not None:
        query = query.where(IngressRejection.client_reference == client_reference)
    rows = (await session.scalars(query.order_by(IngressRejection.rejected_at.desc()).limit(limit))).all()
    return [IngressRejectionPublic.model_validate(r, from_attributes=True) for r in rows]


# ---- monthly FFT returns ----


def upload_public(upload: FftUpload) -> UploadPublic:
    return UploadPublic.model_validate(upload, from_attributes=True)


@router.post(
    "/fft-returns/uploads",
    status_code=status.HTTP_202_ACCEPTED,
    responses={
        **BODY_ERRORS,
        202: {"model": UploadPublic, "description": "Queued; follow `Location` for progress and the report"},
        415: problem("The body is not sent as `Content-Type: text/csv`"),
        422: problem("The header lacks a required column, or the file is not UTF-8; each is named in `errors`"),
    },
    tags=["fft returns"],
    summary="Upload a monthly FFT return (CSV, NHS England GP layout); processed in the background",
    description=FFT_CSV_COLUMNS,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/csv": {"schema": {"type": "string"}, "example": FFT_CSV_EXAMPLE}},
        }
    },
)
async def upload_returns(
    request: Request,
    principal: Writer,
    session: Session,
    filename: Annotated[str | None, Query(max_length=200)] = None,
) -> JSONResponse:
    if request.headers.get("content-type", "").split(";")[0].strip() not in ("text/csv", "application/csv"):
        raise Problem(415, "Unsupported media type", "Send the file as the body with Content-Type: text/csv.")
    upload = FftUpload(
        id=uuid.uuid4(),
        submitted_by=principal.organisation,
        filename=filename,
        status="queued",
        total_rows=0,
        processed_rows=0,
        accepted=0,
        rejected=0,
        errors=[],
        correlation_id=correlation.current(),
        created_at=datetime.now(UTC),
    )
    # Streamed: each part of whole records is stored as it arrives, in the upload's one
    # transaction (a wrong header or a broken body stores nothing), never the whole file.
    parts = CsvParts()
    session.add(upload)
    await session.flush()
    stored = 0
    async for chunk in request.stream():
        for part in parts.feed(chunk):
            await session.execute(insert(FftUploadPart).values(upload_id=upload.id, part=stored, content=part))
            stored += 1
    for part in parts.close():  # refuses a wrong header now, not in the background
        await session.execute(insert(FftUploadPart).values(upload_id=upload.id, part=stored, content=part))
        stored += 1
    upload.total_rows = parts.rows
    await commit(session)
    request.app.state.uploads.start(upload.id)
    location = f"/v1/fft-returns/uploads/{upload.id}"
    return JSONResponse(upload_public(upload).model_dump(mode="json"), status_code=202, headers={"Location": location})


@router.get(
    "/fft-returns/uploads/{upload_id}",
    responses=ERRORS,
    tags=["fft returns"],
    summary="An upload's progress and, when done, its result report",
)
async def upload_status(upload_id: uuid.UUID, principal: Reader, session: Session) -> UploadPublic:
    upload = await session.get(FftUpload, upload_id)
    if upload is None or not may_see(principal, upload.submitted_by):
        raise Problem(404, "Not found", f"No upload {upload_id} that you may see.")
    return upload_public(upload)
