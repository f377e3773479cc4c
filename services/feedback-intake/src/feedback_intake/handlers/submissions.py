"""Submissions: accept one or a batch (scrubbed, triaged, deduplicated), read, list; unlink
an erased member."""

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from feedback_intake.models import FeedbackSubmission, OutboxMessage
from feedback_intake.publishing import publisher
from feedback_intake.rules import sentiment, themes
from feedback_intake.rules.deidentify import scrub
from feedback_intake.rules.triage import flags_for
from feedback_intake.schemas import FeedbackCreate
from hub_shared import keyset
from hub_shared.auth import Principal
from hub_shared.authorisation import NotAuthorised, authorise, may_see
from hub_shared.db import bulk_insert
from hub_shared.events import (
    Demographics,
    DemographicsStruct,
    Envelope,
    FeedbackReceived,
    MemberErasedV1,
)
from hub_shared.group_commit import Writes
from hub_shared.organisations import Organisations
from hub_shared.problems import Problem, field_errors
from hub_shared.text import one_line

PENDING_REVIEW = "pending"


class StagedSubmission(SimpleNamespace):
    """A submission accepted in this transaction: its column values, read like the stored
    row. Cheaper than an ORM instance (a quarter of the ingress path's time), and it never
    reaches the session: ``Staged`` writes it."""


Submission = FeedbackSubmission | StagedSubmission


async def find_by_client_reference(
    session: AsyncSession, submitted_by: str, reference: str
) -> FeedbackSubmission | None:
    return await session.scalar(
        select(FeedbackSubmission).where(
            FeedbackSubmission.submitted_by == submitted_by, FeedbackSubmission.client_reference == reference
        )
    )


async def accept_submission(
    session: AsyncSession | None,
    command: FeedbackCreate,
    *,
    submitted_by: str,
    organisations: Organisations,
    correlation_id: str,
    staged: "Staged",
    known: dict[str, Submission] | None = None,
) -> tuple[Submission, bool]:
    """Store one submission, scrubbed and triaged, and stage its feedback.received event in
    the same transaction. Returns (submission, True) if the client reference was seen before.
    ``known``: the caller's own index of this submitter's references (a batch prefetches it;
    without it, ``session`` looks the reference up).
    ``staged``: where the rows go; the caller writes them (``Staged.write``) before committing."""
    authorise(submitted_by, command.organisation_code, organisations=organisations)
    if command.client_reference:
        if known is not None:
            existing = known.get(command.client_reference)
        else:
            assert session is not None, "a session or the known references"
            existing = await find_by_client_reference(session, submitted_by, command.client_reference)
        if existing is not None:
            if not same_content(existing, command):
                raise ReferenceReused(command.client_reference)
            return existing, True
    scrubbed = scrub(command.text) if command.text else None
    flags = flags_for(scrubbed.text if scrubbed else None)
    demographics = command.demographics or Demographics()
    values = dict(
        id=uuid.uuid4(),
        organisation_code=command.organisation_code,
        counts_for=organisations.counts_for(command.organisation_code),
        service_area=command.service_area.value,
        channel=command.channel.value,
        fft_answer=command.fft_answer.value if command.fft_answer else None,
        text=scrubbed.text if scrubbed else None,
        occurred_at=command.occurred_at.astimezone(UTC),
        received_at=datetime.now(UTC),
        submitted_by=submitted_by,
        client_reference=command.client_reference,
        correlation_id=correlation_id,
        age_band=demographics.age_band,
        sex=demographics.sex,
        ethnic_group=demographics.ethnic_group,
        postcode_district=demographics.postcode_district,
        member_id=command.hear_back.member_id if command.hear_back else None,
        contact_token=command.hear_back.contact_token if command.hear_back else None,
        redactions=scrubbed.removed if scrubbed else {},
        triage_flags=[f.value for f in flags],
        review_status=PENDING_REVIEW if flags else "not_required",
    )
    submission = StagedSubmission(**values, reviewed_by=None, reviewed_at=None)
    staged.submissions.append(values)
    if known is not None and command.client_reference:
        known[command.client_reference] = submission
    given = command.demographics
    event = FeedbackReceived(
        submission_id=submission.id,
        organisation_code=submission.organisation_code,
        counts_for=submission.counts_for,
        place_code=organisations.place_of(submission.organisation_code),
        submitted_by=submitted_by,
        service_area=command.service_area,
        channel=command.channel,
        fft_answer=command.fft_answer,
        text=submission.text,
        occurred_at=submission.occurred_at,
        received_at=submission.received_at,
        demographics=DemographicsStruct(
            age_band=given.age_band,
            sex=given.sex,
            ethnic_group=given.ethnic_group,
            postcode_district=given.postcode_district,
        )
        if given
        else None,
        redactions=submission.redactions,
        triage_flags=flags,
        review_required=bool(flags),
        sentiment=sentiment.sentiment(submission.text) if submission.text else None,
        themes=themes.themes(submission.text) if submission.text else [],
        themes_version=themes.TAXONOMY_VERSION if submission.text else None,
    )
    staged.events.append(
        publisher.row(
            event, subject=str(submission.id), tenant=submission.organisation_code, correlation_id=correlation_id
        )
    )
    return submission, False


class ReferenceReused(Problem):
    """A client_reference the submitter used before, for different content."""

    def __init__(self, reference: str) -> None:
        self.reference = reference
        message = f"{reference!r} was already used for a different submission; use a new reference"
        self.errors = [{"field": "client_reference", "message": message, "type": "conflict"}]
        super().__init__(422, "Invalid request", message, errors=self.errors)

    def problem(self) -> Problem:
        return Problem(
            422,
            "client_reference reused",
            f"You already sent a different submission with client_reference {self.reference!r}; "
            "nothing was stored. A repeat must have the same content; new content needs a new reference.",
            errors=self.errors,
        )


def same_content(existing: Submission, command: FeedbackCreate) -> bool:
    """Whether a repeat under a known client_reference is the same submission (a retry)."""
    demographics = command.demographics or Demographics()
    hear_back = command.hear_back
    return (
        existing.organisation_code == command.organisation_code
        and existing.service_area == command.service_area.value
        and existing.channel == command.channel.value
        and existing.fft_answer == (command.fft_answer.value if command.fft_answer else None)
        and existing.occurred_at == command.occurred_at
        and existing.text == (scrub(command.text).text if command.text else None)
        and (existing.age_band, existing.sex, existing.ethnic_group, existing.postcode_district)
        == (demographics.age_band, demographics.sex, demographics.ethnic_group, demographics.postcode_district)
        and existing.member_id == (hear_back.member_id if hear_back else None)
        and existing.contact_token == (hear_back.contact_token if hear_back else None)
    )


@dataclass
class Staged:
    """The rows a request or a batch (a batch POST, one poll of the Kafka ingress) accepts,
    written together when it ends (Core INSERT, or COPY for many rows on PostgreSQL)
    rather than through the ORM's unit of work, in the caller's transaction."""

    submissions: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)

    def writes(self) -> Writes:
        """The rows, for a ``GroupCommit``."""
        return [(FeedbackSubmission, self.submissions), (OutboxMessage, self.events)]

    async def write(self, session: AsyncSession) -> None:
        await bulk_insert(session, FeedbackSubmission, self.submissions)
        await bulk_insert(session, OutboxMessage, self.events)
        self.submissions.clear()
        self.events.clear()


@dataclass
class ItemOutcome:
    status: str  # accepted, duplicate, rejected
    submission: Submission | None = None
    errors: list[dict[str, str]] | None = None


async def submit_item(
    session: AsyncSession,
    raw: Any,
    *,
    submitted_by: str,
    organisations: Organisations,
    correlation_id: str,
    require_reference: bool,
    staged: Staged,
    known: dict[str, Submission] | None = None,
) -> ItemOutcome:
    """Validate and accept one raw item of a batch or the Kafka ingress; never raises for bad input."""
    try:
        command = FeedbackCreate.model_validate(raw)
    except ValidationError as exc:
        return ItemOutcome("rejected", errors=field_errors(exc.errors()))
    if require_reference and not command.client_reference:
        return ItemOutcome("rejected", errors=[{"field": "client_reference", "message": "required", "type": "missing"}])
    try:
        submission, duplicate = await accept_submission(
            session,
            command,
            submitted_by=submitted_by,
            organisations=organisations,
            correlation_id=correlation_id,
            known=known,
            staged=staged,
        )
    except (NotAuthorised, ReferenceReused) as exc:
        return ItemOutcome("rejected", errors=exc.errors)
    return ItemOutcome("duplicate" if duplicate else "accepted", submission)


async def known_references_of(
    session: AsyncSession, pairs: Sequence[tuple[str, object]]
) -> defaultdict[str, dict[str, Submission]]:
    """The stored submissions of every (submitter, client reference) named, by submitter
    and reference, in one query (a poll of the Kafka ingress carries many practices')."""
    wanted = {(tenant, reference) for tenant, reference in pairs if _storable(reference)}
    known: defaultdict[str, dict[str, Submission]] = defaultdict(dict)
    if not wanted:
        return known
    pairs = sorted(wanted)
    if session.get_bind().dialect.name == "postgresql":
        # Joined to the pairs as two arrays: planning a row-IN list of a thousand pairs costs
        # more than running it.
        query: Any = select(FeedbackSubmission).from_statement(
            text(
                "SELECT s.* FROM feedback_submission s"
                " JOIN unnest(CAST(:tenants AS text[]), CAST(:refs AS text[])) AS w(tenant, ref)"
                " ON s.submitted_by = w.tenant AND s.client_reference = w.ref"
            ).bindparams(tenants=[t for t, _ in pairs], refs=[r for _, r in pairs])
        )
    else:
        query = select(FeedbackSubmission).where(
            tuple_(FeedbackSubmission.submitted_by, FeedbackSubmission.client_reference).in_(pairs)
        )
    for submission in (await session.scalars(query)).all():
        known[submission.submitted_by][submission.client_reference or ""] = submission
    return known


def _storable(reference: object) -> bool:
    """Whether a client reference could have been stored: one that could not (a NUL in it,
    which PostgreSQL cannot even compare) is refused with its item, never looked up."""
    try:
        return isinstance(reference, str) and bool(reference) and bool(one_line(reference))
    except ValueError:
        return False


async def known_references(
    session: AsyncSession, submitted_by: str, references: Sequence[object]
) -> dict[str, Submission]:
    """One submitter's stored submissions under the client references a request names."""
    return (await known_references_of(session, [(submitted_by, r) for r in references]))[submitted_by]


async def submit_batch(
    session: AsyncSession, items: Sequence[Any], *, submitted_by: str, organisations: Organisations, correlation_id: str
) -> tuple[list[ItemOutcome], Staged]:
    """Each item's outcome, and the rows of those accepted, for the caller to write."""
    known = await known_references(
        session, submitted_by, [i.get("client_reference") for i in items if isinstance(i, dict)]
    )
    staged = Staged()
    outcomes = [
        await submit_item(
            session,
            raw,
            submitted_by=submitted_by,
            organisations=organisations,
            correlation_id=correlation_id,
            require_reference=True,
            known=known,
            staged=staged,
        )
        for raw in items
    ]
    return outcomes, staged


async def get_feedback(
    session: AsyncSession, submission_id: uuid.UUID, *, principal: Principal, organisations: Organisations
) -> FeedbackSubmission:
    submission = await session.get(FeedbackSubmission, submission_id)
    # Another organisation's submission is indistinguishable from a missing one.
    if submission is None or not may_see(principal, submission.organisation_code, organisations):
        raise Problem(404, "Not found", f"No feedback submission {submission_id} that you may see.")
    return submission


@dataclass
class FeedbackFilter:
    organisation_code: str | None = None
    service_area: str | None = None
    channel: str | None = None
    occurred_from: datetime | None = None
    occurred_to: datetime | None = None
    review_status: str | None = None


async def list_feedback(
    session: AsyncSession,
    filters: FeedbackFilter,
    *,
    principal: Principal,
    organisations: Organisations,
    limit: int,
    cursor: str | None,
) -> tuple[list[FeedbackSubmission], str | None]:
    """Newest first, keyset-paginated on (received_at, id), within the caller's authority."""
    scope_root = filters.organisation_code or principal.organisation
    if filters.organisation_code:
        authorise(principal, filters.organisation_code, organisations=organisations)
    query = select(FeedbackSubmission).where(
        FeedbackSubmission.organisation_code.in_(organisations.descendants(scope_root))
    )
    if filters.service_area:
        query = query.where(FeedbackSubmission.service_area == filters.service_area)
    if filters.channel:
        query = query.where(FeedbackSubmission.channel == filters.channel)
    if filters.occurred_from:
        query = query.where(FeedbackSubmission.occurred_at >= filters.occurred_from)
    if filters.occurred_to:
        query = query.where(FeedbackSubmission.occurred_at < filters.occurred_to)
    if filters.review_status:
        query = query.where(FeedbackSubmission.review_status == filters.review_status)
    return await keyset.newest_first(
        session, query, FeedbackSubmission.received_at, FeedbackSubmission.id, limit=limit, cursor=cursor
    )


async def on_member_erased(session: AsyncSession, envelope: Envelope, organisations: Organisations) -> None:
    """Remove every link from submissions to the erased member."""
    data = envelope.data
    assert isinstance(data, MemberErasedV1)
    await session.execute(
        update(FeedbackSubmission).where(FeedbackSubmission.member_id == data.member_id).values(member_id=None)
    )
