"""Groups (a PPG per practice, co-production groups per place and service area, the
Patient Partners scheme), their members and roles, and CSV imports of PPG lists."""

import csv
import io
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub_shared.auth import Principal
from hub_shared.authorisation import authorise, may_see
from hub_shared.events import ConsentSource, GroupKind, MessageKind
from hub_shared.organisations import reference
from hub_shared.problems import Problem, field_errors
from hub_shared.text import one_line
from membership.handlers.group_memberships import add_to_group, group_event
from membership.handlers.members import join
from membership.links import Links
from membership.models import Group, GroupMembership, Member
from membership.publishing import place_of
from membership.schemas import GroupCreate, GroupMemberAdd, GroupMemberUpdate, JoinRequest

IMPORT_COLUMNS = ("name", "email", "phone", "postcode", "practice_code", "consent_basis", "role")
MAX_IMPORT_ROWS = 5000


def group_public(group: Group, members: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": str(group.id),
        "kind": group.kind,
        "name": group.name,
        "organisation_code": group.organisation_code,
        "place_code": group.place_code,
        "service_area": group.service_area,
    }
    if members is not None:
        out["members"] = members
    return out


async def create_group(session: AsyncSession, principal: Principal, command: GroupCreate) -> Group:
    authorise(principal, command.organisation_code)
    if command.kind is GroupKind.PPG:
        existing = await session.scalar(
            select(Group).where(Group.kind == GroupKind.PPG.value, Group.organisation_code == command.organisation_code)
        )
        if existing is not None:
            raise Problem(409, "PPG exists", f"{command.organisation_code} already has a PPG ({existing.id}).")
    group = Group(
        id=uuid.uuid4(),
        kind=command.kind.value,
        name=command.name,
        organisation_code=command.organisation_code,
        place_code=place_of(command.organisation_code) if command.kind is not GroupKind.PATIENT_PARTNERS else None,
        service_area=command.service_area.value if command.service_area else None,
        created_at=datetime.now(UTC),
    )
    session.add(group)
    return group


async def visible_groups(session: AsyncSession, principal: Principal) -> list[Group]:
    """A practice sees its PPG and the groups above it; a place its own and its practices'."""
    organisations = reference()
    rows = (await session.scalars(select(Group).order_by(Group.kind, Group.name))).all()
    return [
        g
        for g in rows
        if may_see(principal, g.organisation_code, organisations)
        or organisations.may_act_for(g.organisation_code, principal.organisation)
    ]


async def managed_group(session: AsyncSession, principal: Principal, group_id: uuid.UUID) -> Group:
    group = await session.get(Group, group_id)
    if group is None or group not in await visible_groups(session, principal):
        raise Problem(404, "No such group", f"No group {group_id} that you can see.")
    if not may_see(principal, group.organisation_code):
        raise Problem(403, "Not your group", f"{group.organisation_code} manages this group.")
    return group


def _may_belong(group: Group, member: Member) -> bool:
    return reference().may_act_for(group.organisation_code, member.practice_code) or (
        group.kind == GroupKind.PATIENT_PARTNERS.value
    )


async def add_member(
    session: AsyncSession, principal: Principal, group_id: uuid.UUID, command: GroupMemberAdd, correlation_id: str
) -> GroupMembership:
    group = await managed_group(session, principal, group_id)
    member = await session.get(Member, command.member_id)
    if member is None or member.status == "left" or not may_see(principal, member.practice_code):
        raise Problem(404, "No such member", f"No member {command.member_id} that you can see.")
    if not _may_belong(group, member):
        raise Problem(422, "Not in this group's area", "The member is registered outside the group's area.")
    current = await session.scalar(
        select(GroupMembership).where(
            GroupMembership.group_id == group.id,
            GroupMembership.member_id == member.id,
            GroupMembership.left_on.is_(None),
        )
    )
    if current is not None:
        if current.role != command.role.value:
            current.role = command.role.value
            group_event(session, member, group, current, correlation_id)
        return current
    return add_to_group(session, member, group, command.role.value, correlation_id, on=command.joined_on)


async def update_member(
    session: AsyncSession,
    principal: Principal,
    group_id: uuid.UUID,
    member_id: uuid.UUID,
    command: GroupMemberUpdate,
    correlation_id: str,
) -> GroupMembership:
    group = await managed_group(session, principal, group_id)
    row = await session.execute(
        select(GroupMembership, Member)
        .join(Member, Member.id == GroupMembership.member_id)
        .where(GroupMembership.group_id == group.id, GroupMembership.member_id == member_id)
        .where(GroupMembership.left_on.is_(None))
    )
    found = row.first()
    if found is None:
        raise Problem(404, "Not a member", f"{member_id} is not a current member of this group.")
    membership, member = found
    if command.role is not None:
        membership.role = command.role.value
    if command.left_on is not None:
        membership.left_on = command.left_on
    group_event(session, member, group, membership, correlation_id)
    return membership


async def group_members(session: AsyncSession, principal: Principal, group_id: uuid.UUID) -> list[dict[str, Any]]:
    """Who is in a group: ids, roles and dates; contact details never leave membership."""
    group = await session.get(Group, group_id)
    if group is None or group not in await visible_groups(session, principal):
        raise Problem(404, "No such group", f"No group {group_id} that you can see.")
    rows = await session.execute(
        select(GroupMembership, Member)
        .join(Member, Member.id == GroupMembership.member_id)
        .where(GroupMembership.group_id == group_id)
        .order_by(GroupMembership.joined_on)
    )
    return [
        {
            "member_id": str(m.id),
            "status": m.status,
            "practice_code": m.practice_code,
            "role": gm.role,
            "joined_on": gm.joined_on.isoformat(),
            "left_on": gm.left_on.isoformat() if gm.left_on else None,
        }
        for gm, m in rows.all()
        if may_see(principal, m.practice_code) or may_see(principal, group.organisation_code)
    ]


@dataclass
class ImportResult:
    imported: int = 0
    rejected: int = 0
    rows: list[dict[str, Any]] = field(default_factory=list)


async def import_csv(
    session: AsyncSession,
    principal: Principal,
    group_id: uuid.UUID,
    content: bytes,
    *,
    links: Links,
    wording_version: str,
    correlation_id: str,
) -> ImportResult:
    """Each good row becomes a pending member (consent basis recorded) in the group and is
    sent a welcome with a confirmation link; each bad row is named with its reasons.
    Someone already a member is added to the group; the result does not say which."""
    group = await managed_group(session, principal, group_id)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Problem(422, "Not UTF-8", "Save the CSV as UTF-8 and upload it again.") from exc
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in ("name", "email", "postcode", "practice_code", "consent_basis") if c not in header]
    if missing:
        raise Problem(
            422,
            "Missing columns",
            f"The CSV needs the columns {', '.join(IMPORT_COLUMNS[:6])} (and optionally role).",
            errors=[{"field": c, "message": "column missing", "type": "missing_column"} for c in missing],
        )
    result = ImportResult()
    for line, raw in enumerate(reader, start=2):
        if line - 1 > MAX_IMPORT_ROWS:
            raise Problem(413, "Too many rows", f"At most {MAX_IMPORT_ROWS} rows per upload.")
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
        errors: list[dict[str, str]] = []
        if not row.get("consent_basis"):
            errors.append({"field": "consent_basis", "message": "Say how this person consented", "type": "missing"})
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
            errors.extend(field_errors(exc.errors()))
            request = None
        if request is not None and not _may_belong_code(group, request.practice_code):
            errors.append(
                {"field": "practice_code", "message": "registered outside the group's area", "type": "outside"}
            )
        if errors or request is None:
            result.rejected += 1
            result.rows.append({"line": line, "status": "rejected", "errors": errors})
            continue
        async with session.begin_nested():
            outcome = await join(
                session,
                request,
                source=ConsentSource.CSV_IMPORT,
                links=links,
                wording_version=wording_version,
                correlation_id=correlation_id,
                basis=row["consent_basis"][:200],
                welcome=MessageKind.WELCOME_IMPORTED,
            )
            held = await session.scalar(
                select(GroupMembership).where(
                    GroupMembership.group_id == group.id,
                    GroupMembership.member_id == outcome.member.id,
                    GroupMembership.left_on.is_(None),
                )
            )
            if held is None and outcome.member.status != "left":
                add_to_group(session, outcome.member, group, role, correlation_id, on=date.today())
        result.imported += 1
        result.rows.append({"line": line, "status": "imported", "errors": []})
    return result


def _may_belong_code(group: Group, practice_code: str) -> bool:
    return group.kind == GroupKind.PATIENT_PARTNERS.value or reference().may_act_for(
        group.organisation_code, practice_code
    )
