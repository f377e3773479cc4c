"""'You said, we did' responses."""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from feedback_intake.models import FeedbackResponse, FeedbackSubmission
from feedback_intake.publishing import RESPONSES, publisher
from feedback_intake.schemas import ResponseCreate, ResponseUpdate
from hub_shared import keyset
from hub_shared.auth import Principal
from hub_shared.authorisation import authorise, may_see
from hub_shared.events import FeedbackRespondedV1, ServiceArea
from hub_shared.organisations import Organisations
from hub_shared.problems import Problem


async def _responded_event(session: AsyncSession, response: FeedbackResponse) -> FeedbackRespondedV1:
    ids = [uuid.UUID(i) for i in response.submission_ids]
    contributors = (
        (await session.scalars(select(FeedbackSubmission).where(FeedbackSubmission.id.in_(ids)))).all() if ids else []
    )
    earliest = min((s.received_at for s in contributors), default=None)
    return FeedbackRespondedV1(
        response_id=response.id,
        organisation_code=response.organisation_code,
        theme=response.theme,
        submission_ids=ids,
        you_said=response.you_said,
        we_did=response.we_did,
        status=response.status,  # type: ignore[arg-type]
        status_reason=response.status_reason,
        evidence_url=response.evidence_url,
        earliest_feedback_at=earliest,
        responded_at=response.responded_at,
        change_due=response.change_due,
        changed_at=response.changed_at,
        notify_member_ids=sorted({s.member_id for s in contributors if s.member_id}),
        notify_contact_tokens=sorted({s.contact_token for s in contributors if s.contact_token}),
        service_areas=sorted({ServiceArea(s.service_area) for s in contributors}),
    )


async def create_response(
    session: AsyncSession,
    command: ResponseCreate,
    *,
    principal: Principal,
    organisations: Organisations,
    correlation_id: str,
) -> FeedbackResponse:
    authorise(principal, command.organisation_code, organisations=organisations)
    if command.submission_ids:
        found = (
            await session.scalars(select(FeedbackSubmission).where(FeedbackSubmission.id.in_(command.submission_ids)))
        ).all()
        visible = {s.id for s in found if organisations.may_act_for(command.organisation_code, s.organisation_code)}
        missing = [str(i) for i in command.submission_ids if i not in visible]
        if missing:
            raise Problem(
                422,
                "Unknown submissions",
                f"{len(missing)} submission(s) are not {command.organisation_code}'s.",
                errors=[
                    {"field": "submission_ids", "message": f"not found: {i}", "type": "not_found"} for i in missing
                ],
            )
    now = datetime.now(UTC)
    response = FeedbackResponse(
        id=uuid.uuid4(),
        organisation_code=command.organisation_code,
        theme=command.theme,
        submission_ids=[str(i) for i in command.submission_ids],
        you_said=command.you_said,
        we_did=command.we_did,
        status=command.status.value,
        status_reason=command.status_reason,
        evidence_url=str(command.evidence_url) if command.evidence_url else None,
        change_due=command.change_due,
        changed_at=command.changed_at,
        created_by=principal.organisation,
        responded_at=now,
        updated_at=now,
    )
    session.add(response)
    await session.flush()
    publisher.emit(
        session,
        await _responded_event(session, response),
        subject=str(response.id),
        tenant=response.organisation_code,
        correlation_id=correlation_id,
        topic=RESPONSES,
    )
    return response


async def get_response(
    session: AsyncSession, response_id: uuid.UUID, *, principal: Principal, organisations: Organisations
) -> FeedbackResponse:
    response = await session.get(FeedbackResponse, response_id)
    if response is None or not may_see(principal, response.organisation_code, organisations):
        raise Problem(404, "Not found", f"No response {response_id} that you may see.")
    return response


async def update_response(
    session: AsyncSession,
    response_id: uuid.UUID,
    command: ResponseUpdate,
    *,
    principal: Principal,
    organisations: Organisations,
    correlation_id: str,
) -> FeedbackResponse:
    """A status change is a new feedback.responded event for the same response id."""
    response = await get_response(session, response_id, principal=principal, organisations=organisations)
    changes = command.model_dump(exclude_unset=True)
    for name, value in changes.items():
        setattr(response, name, str(value) if name == "evidence_url" and value else value)
    response.status = command.status.value
    # What the response already holds may satisfy these rules, so a request without it
    # conflicts with the response's state (409), rather than being invalid in itself.
    if response.status == "not_possible" and not response.status_reason:
        raise Problem(
            409,
            "Conflicts with the response",
            "status_reason is required when the change is not possible",
            errors=[{"field": "status_reason", "message": "required for not_possible", "type": "missing"}],
        )
    if response.status == "done" and response.changed_at is None:
        raise Problem(
            409,
            "Conflicts with the response",
            "changed_at is required when status is done",
            errors=[{"field": "changed_at", "message": "required for done", "type": "missing"}],
        )
    response.updated_at = datetime.now(UTC)
    publisher.emit(
        session,
        await _responded_event(session, response),
        subject=str(response.id),
        tenant=response.organisation_code,
        correlation_id=correlation_id,
        topic=RESPONSES,
    )
    return response


async def hearing_back(session: AsyncSession, responses: Sequence[FeedbackResponse]) -> dict[uuid.UUID, int]:
    """How many contributors each response will reach: the distinct member ids and contact
    tokens of its submissions, as its feedback.responded event names them (a count only)."""
    wanted = {uuid.UUID(i) for r in responses for i in r.submission_ids}
    if not wanted:
        return {r.id: 0 for r in responses}
    rows = (
        await session.execute(
            select(FeedbackSubmission.id, FeedbackSubmission.member_id, FeedbackSubmission.contact_token).where(
                FeedbackSubmission.id.in_(wanted),
                or_(FeedbackSubmission.member_id.is_not(None), FeedbackSubmission.contact_token.is_not(None)),
            )
        )
    ).all()
    contact = {row.id: (f"m:{row.member_id}" if row.member_id else f"t:{row.contact_token}") for row in rows}
    return {r.id: len({contact[uuid.UUID(i)] for i in r.submission_ids if uuid.UUID(i) in contact}) for r in responses}


async def list_responses(
    session: AsyncSession, *, principal: Principal, organisations: Organisations, limit: int, cursor: str | None
) -> tuple[list[FeedbackResponse], str | None]:
    """Newest first, keyset-paginated on (responded_at, id), within the caller's authority."""
    query = select(FeedbackResponse).where(
        FeedbackResponse.organisation_code.in_(organisations.descendants(principal.organisation))
    )
    return await keyset.newest_first(
        session, query, FeedbackResponse.responded_at, FeedbackResponse.id, limit=limit, cursor=cursor
    )
