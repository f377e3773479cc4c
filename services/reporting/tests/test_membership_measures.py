"""Membership measures built from membership's events on PostgreSQL: members per 1,000
registered patients, representation by age band and sex with the representativeness
score, PPG coverage, invitations, replies and attendance; disclosure control on each."""

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest_asyncio
from pydantic import BaseModel

from hub_shared import migrations
from hub_shared.db import create_engine, session_factory
from hub_shared.events import (
    AttendanceRecordedV1,
    Bands,
    ConsentSource,
    GroupKind,
    GroupMembershipChangedV1,
    GroupRole,
    InvitationAnsweredV1,
    InvitationIssuedV1,
    MemberConfirmedV1,
    MemberErasedV1,
    MemberJoinedV1,
    MemberLeftV1,
    new_envelope,
)
from hub_shared.organisations import reference
from reporting.consumers import HANDLERS
from reporting.main import MIGRATIONS
from reporting.queries.membership import membership_scorecard
from reporting.rules.representation import representation

NOW = datetime(2026, 11, 20, tzinfo=UTC)


@pytest_asyncio.fixture
async def sessions(new_postgres_database):  # type: ignore[no-untyped-def]
    url = new_postgres_database("reporting")
    migrations.upgrade(MIGRATIONS, url)
    engine = create_engine(url)
    yield session_factory(engine)
    await engine.dispose()


async def apply(sessions: Any, *events: BaseModel) -> None:
    for data in events:
        envelope = new_envelope(data, source="membership", subject="k", tenant="P83001", correlation_id="t")
        async with sessions() as session, session.begin():
            await HANDLERS[envelope.type](session, envelope)


def facts(member: uuid.UUID, practice: str = "P83001", age: str = "45_54", sex: str = "female") -> dict[str, Any]:
    return {
        "member_id": member,
        "practice_code": practice,
        "place_code": "03C",
        "bands": Bands.model_validate({"age_band": age, "sex": sex}),
    }


async def member(sessions: Any, practice: str = "P83001", age: str = "45_54", sex: str = "female") -> uuid.UUID:
    m = uuid.uuid4()
    await apply(
        sessions,
        MemberJoinedV1(
            **facts(m, practice, age, sex), consent_source=ConsentSource.API, consent_wording_version="v", joined_at=NOW
        ),
        MemberConfirmedV1(**facts(m, practice, age, sex), confirmed_at=NOW),
    )
    return m


def test_representativeness_is_least_over_most_represented_rate() -> None:
    registered = {
        ("16_24", "female"): 1000,
        ("16_24", "male"): 1000,
        ("65_74", "female"): 2000,
        ("65_74", "male"): 2000,
    }
    shown = representation(
        {("16_24", "female"): 10, ("16_24", "male"): 5, ("65_74", "female"): 10, ("65_74", "male"): 40}, registered
    )
    assert shown["representativeness"] == 0.25  # 5 per 1,000 over 20 per 1,000
    assert [r["per_1000"] for r in shown["bands"]] == [10.0, 5.0, 5.0, 20.0]
    small = representation({("16_24", "female"): 3, ("16_24", "male"): 5, ("65_74", "male"): 40}, registered)
    assert small["representativeness"] == "*"
    assert small["bands"][0]["members"] == "*" and small["bands"][0]["per_1000"] == "*"


async def test_scorecard_measures_from_membership_events(sessions) -> None:  # type: ignore[no-untyped-def]
    members = [await member(sessions) for _ in range(6)]
    await member(sessions, practice="P82001")
    left, erased = members[4], members[5]
    await apply(sessions, MemberLeftV1(**facts(left), left_at=NOW), MemberErasedV1(member_id=erased, erased_at=NOW))
    ppg = uuid.uuid4()
    for m in members[:3]:
        await apply(
            sessions,
            GroupMembershipChangedV1(
                **facts(m),
                group_id=ppg,
                group_kind=GroupKind.PPG,
                group_organisation_code="P83001",
                role=GroupRole.MEMBER,
                joined_on=date.today(),
            ),
        )
    opportunity = uuid.uuid4()
    invitations = {m: uuid.uuid4() for m in members[:4]}
    for m, i in invitations.items():
        common = {**facts(m), "invitation_id": i, "opportunity_id": opportunity, "organisation_code": "03C"}
        await apply(sessions, InvitationIssuedV1(**common, issued_at=NOW))
        await apply(sessions, InvitationAnsweredV1(**common, answer="yes", answered_at=NOW))
    await apply(
        sessions,
        AttendanceRecordedV1(
            **facts(members[0]),
            invitation_id=invitations[members[0]],
            opportunity_id=opportunity,
            organisation_code="03C",
            attended_on=date.today(),
            recorded_at=NOW,
        ),
    )
    async with sessions() as session:
        card = await membership_scorecard(session, reference(), "03C")
        practice = await membership_scorecard(session, reference(), "P83001")
    assert card["members"] == "*"  # 4 active: the leaver and the erased member no longer count
    assert card["members_per_1000_registered"] == "*"
    assert card["ppg_coverage"]["practices_with_active_ppg"] == 1 and card["ppg_coverage"]["practices"] == 10
    assert card["ppg_coverage"]["ppg_members"] == {"P83001": "*"}
    assert card["invitations"]["invited"] == "*" and card["invitations"]["attended"] == "*"
    assert card["representativeness_by_place"] == {"03C": "*"}
    assert practice["members"] == "*"
    await member(sessions)
    await member(sessions)
    async with sessions() as session:
        card = await membership_scorecard(session, reference(), "03C")
        icb = await membership_scorecard(session, reference(), "QZZ")
    assert card["members"] == 6
    assert icb["members"] == 7  # and the member registered in another place
    registered = card["representation"]["bands"]
    assert sum(r["registered_patients"] for r in registered) > 0
    assert card["members_per_1000_registered"] == round(6000 / sum(r["registered_patients"] for r in registered), 2)
    women_45 = next(r for r in registered if (r["age_band"], r["sex"]) == ("45_54", "female"))
    assert women_45["members"] == 6
    assert card["representativeness_by_place"]["03C"] == 0.0  # other bands have no members
    assert icb["representativeness_by_place"].keys() == {"01A", "02B", "03C"}
