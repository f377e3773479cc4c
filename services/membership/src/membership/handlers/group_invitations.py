"""Group invitations: a team imports its PPG list (CSV) and each person on it is emailed a
welcome; they join the group when they accept it from that email, as a new member or as the
member they already are.

An import never adds anyone to a group, nor changes or shows a member: a row is "imported"
(welcome sent), "duplicate" (an address already on the list) or "rejected" (field errors),
whether or not the address belongs to someone, here or in another place. Otherwise a team
could add another place's member to its group, or learn who is a member by listing
addresses."""

import csv
import io
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub_shared.auth import Principal
from hub_shared.events import ConsentSource
from hub_shared.links import LinkProblem
from hub_shared.problems import Problem, field_errors
from hub_shared.text import one_line
from membership.handlers.email_allowance import may_email
from membership.handlers.group_memberships import add_to_group
from membership.handlers.groups import managed_group, may_belong, may_belong_code
from membership.handlers.members import activate, member_by_email, new_member
from membership.links import Links, Purpose, use_once
from membership.models import Group, GroupInvitation, GroupMembership, Member
from membership.publishing import forget_contact_cards, welcome_card
from membership.schemas import JoinRequest

IMPORT_COLUMNS = ("name", "email", "phone", "postcode", "practice_code", "consent_basis", "role")
REQUIRED_COLUMNS = ("name", "email", "postcode", "practice_code", "consent_basis")
MAX_IMPORT_ROWS = 5000


@dataclass
class ImportResult:
    imported: int = 0
    rejected: int = 0
    duplicates: int = 0
    rows: list[dict[str, Any]] = field(default_factory=list)


def _records(text: str) -> Iterator[list[str] | csv.Error]:
    """The CSV's records; one that cannot be read (a field over the csv module's limit, a
    stray quote) is yielded as its error, and reading goes on with the next line."""
    reader = csv.reader(io.StringIO(text))
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield exc


async def import_csv(
    session: AsyncSession,
    principal: Principal,
    group_id: uuid.UUID,
    content: bytes,
    *,
    links: Links,
    correlation_id: str,
) -> ImportResult:
    """Each good row is emailed a welcome to the group (consent basis kept until they
    accept); each bad row is named with its reasons; an address met again is a duplicate."""
    group = await managed_group(session, principal, group_id)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Problem(422, "Not UTF-8", "Save the CSV as UTF-8 and upload it again.") from exc
    records = _records(text)
    first = next(records, [])
    if isinstance(first, csv.Error):
        raise Problem(
            422,
            "Header unreadable",
            f"The first line of the CSV cannot be read ({first}).",
            errors=[{"field": "header", "message": str(first), "type": "unreadable"}],
        )
    header = [h.strip().lower() for h in first]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise Problem(
            422,
            "Missing columns",
            f"The CSV needs the columns {', '.join(IMPORT_COLUMNS[:6])} (and optionally role).",
            errors=[{"field": c, "message": "column missing", "type": "missing_column"} for c in missing],
        )
    await forget_expired(session, links)
    result = ImportResult()
    first_line: dict[str, int] = {}
    for line, record in enumerate(records, start=2):
        if line - 1 > MAX_IMPORT_ROWS:
            raise Problem(413, "Too many rows", f"At most {MAX_IMPORT_ROWS} rows per upload.")
        errors = _record_errors(record, len(header))
        request: JoinRequest | None = None
        role = "member"
        if not errors and isinstance(record, list):
            row = dict(zip(header, (v.strip() for v in record), strict=False))
            request, role, errors = _row(row)
        if errors or request is None:
            result.rejected += 1
            result.rows.append({"line": line, "status": "rejected", "errors": errors})
            continue
        if not may_belong_code(group, request.practice_code):
            result.rejected += 1
            error = {"field": "practice_code", "message": "registered outside the group's area", "type": "outside"}
            result.rows.append({"line": line, "status": "rejected", "errors": [error]})
            continue
        if request.email in first_line:
            result.duplicates += 1
            error = {"field": "email", "message": f"the same address as line {first_line[request.email]}"}
            result.rows.append({"line": line, "status": "duplicate", "errors": [{**error, "type": "duplicate"}]})
            continue
        first_line[request.email] = line
        await invite(session, group, request, role, row["consent_basis"], links=links, correlation_id=correlation_id)
        result.imported += 1
        result.rows.append({"line": line, "status": "imported", "errors": []})
    return result


def _record_errors(record: list[str] | csv.Error, columns: int) -> list[dict[str, str]]:
    if isinstance(record, csv.Error):
        return [{"field": "row", "message": f"this row cannot be read: {record}", "type": "unreadable"}]
    if len(record) > columns:
        message = f"{len(record)} fields but the header has {columns}: quote any field that holds a comma"
        return [{"field": "row", "message": message, "type": "too_many_fields"}]
    return []


def _row(row: dict[str, str]) -> tuple[JoinRequest | None, str, list[dict[str, str]]]:
    errors: list[dict[str, str]] = []
    if not row.get("consent_basis"):
        errors.append({"field": "consent_basis", "message": "Say how this person consented", "type": "missing"})
    elif len(row["consent_basis"]) > 200:
        errors.append({"field": "consent_basis", "message": "At most 200 characters", "type": "too_long"})
    else:
        try:
            one_line(row["consent_basis"])  # kept with the consent, and shown: one line of text
        except ValueError as exc:
            errors.append({"field": "consent_basis", "message": str(exc), "type": "value_error"})
    role = row.get("role") or "member"
    if role not in ("member", "chair", "clinician", "staff"):
        errors.append({"field": "role", "message": "member, chair, clinician or staff", "type": "enum"})
    try:
        request = JoinRequest(
            name=row.get("name", ""),
            email=row.get("email", ""),
            phone=row.get("phone") or None,
            postcode=row.get("postcode", ""),
            practice_code=row.get("practice_code", ""),
            consent_to_contact=True,
        )
    except ValidationError as exc:
        return None, role, errors + field_errors(exc.errors())
    return request, role, errors


async def invite(
    session: AsyncSession,
    group: Group,
    request: JoinRequest,
    role: str,
    basis: str,
    *,
    links: Links,
    correlation_id: str,
) -> None:
    """Email the person a welcome to the group, unless the address has had its emails for
    the hour (then nothing is kept: they can be imported again later)."""
    if not await may_email(session, request.email, links):
        return
    invitation = GroupInvitation(
        token=secrets.token_urlsafe(24),
        group_id=group.id,
        role=role,
        email=request.email,
        name=request.name,
        phone=request.phone,
        postcode=request.postcode,
        practice_code=request.practice_code,
        consent_basis=basis,
        created_at=datetime.now(UTC),
    )
    session.add(invitation)
    url = links.url(Purpose.WELCOME, t=invitation.token)
    welcome_card(session, invitation, group.organisation_code, correlation_id=correlation_id, url=url)


@dataclass
class Acceptance:
    member: Member
    group: Group
    joined: bool  # False: the member is registered outside the group's area


async def accept(
    session: AsyncSession, token: str, *, links: Links, wording_version: str, correlation_id: str
) -> Acceptance:
    """The person followed the welcome: the address is theirs. They join the group as the
    member they are (confirmed, if they were pending) or as a new, confirmed member."""
    claims = links.load(Purpose.WELCOME, token)
    await use_once(session, claims)  # first: an accepted welcome's row is gone, and "used" says why
    invitation = await session.get(GroupInvitation, str(claims.get("t", "")), with_for_update=True)
    group = await session.get(Group, invitation.group_id) if invitation is not None else None
    if invitation is None or group is None:
        raise LinkProblem("invalid")
    member = await member_by_email(session, invitation.email)
    if member is None:
        request = JoinRequest(
            name=invitation.name,
            email=invitation.email,
            phone=invitation.phone,
            postcode=invitation.postcode,
            practice_code=invitation.practice_code,
            consent_to_contact=True,
        )
        member = await new_member(
            session,
            request,
            source=ConsentSource.CSV_IMPORT,
            wording_version=wording_version,
            correlation_id=correlation_id,
            basis=invitation.consent_basis,
        )
    activate(session, member, links, correlation_id)
    joined = may_belong(group, member)
    held = await session.scalar(
        select(GroupMembership).where(
            GroupMembership.group_id == group.id,
            GroupMembership.member_id == member.id,
            GroupMembership.left_on.is_(None),
        )
    )
    if joined and held is None:
        add_to_group(session, member, group, invitation.role, correlation_id, on=date.today())
    await _forget(session, GroupInvitation.group_id == group.id, GroupInvitation.email == invitation.email)
    return Acceptance(member, group, joined)


async def forget_expired(session: AsyncSession, links: Links) -> None:
    """Welcomes nobody accepted in time: their details are not kept."""
    await _forget(session, GroupInvitation.created_at < datetime.now(UTC) - links.lifetimes[Purpose.WELCOME])


async def _forget(session: AsyncSession, *where: Any) -> None:
    tokens = (await session.scalars(select(GroupInvitation.token).where(*where))).all()
    for token in tokens:
        await forget_contact_cards(session, token)
    await session.execute(delete(GroupInvitation).where(*where))
