"""Membership measures built from membership's events on PostgreSQL: members per 1,000
registered patients, representation by age band and sex with the representativeness
score, PPG coverage, invitations, replies and attendance; disclosure control on each."""

import random
import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
import pytest_asyncio
from pydantic import BaseModel

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
from hub_shared.testing import migrated
from reporting.consumers import HANDLERS
from reporting.main import MIGRATIONS
from reporting.queries.membership import membership_scorecard
from reporting.rules.disclosure_audit import audit
from reporting.rules.membership_measures import (
    REPLIES,
    MemberCounts,
    band_column,
    publish_membership,
    published_membership,
    shown_rows,
)
from reporting.rules.representation import representation

NOW = datetime(2026, 11, 20, tzinfo=UTC)


@pytest_asyncio.fixture
async def sessions(new_postgres_database):  # type: ignore[no-untyped-def]
    url = new_postgres_database("reporting")
    migrated(MIGRATIONS, url)
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


def one_organisation(bands: dict[tuple[str, str], int]) -> MemberCounts:
    return MemberCounts("P83001", bands, 0, 0, dict.fromkeys(REPLIES, 0), 0)


def test_representativeness_is_least_over_most_represented_rate() -> None:
    registered = {
        ("16_24", "female"): 1000,
        ("16_24", "male"): 1000,
        ("65_74", "female"): 2000,
        ("65_74", "male"): 2000,
    }

    def shown(counts: dict[tuple[str, str], int]) -> dict[str, Any]:
        node = one_organisation({b: counts.get(b, 0) for b in registered})
        published = publish_membership(node)
        bands = {b: published.shown(node.code, band_column(b)) for b in registered}
        return representation(node.bands, registered, bands, published.shown(node.code, "members_in_bands"))

    full = shown({("16_24", "female"): 10, ("16_24", "male"): 5, ("65_74", "female"): 10, ("65_74", "male"): 40})
    assert full["representativeness"] == 0.25  # 5 per 1,000 over 20 per 1,000
    assert [r["per_1000"] for r in full["bands"]] == [10.0, 5.0, 5.0, 20.0]
    small = shown({("16_24", "female"): 3, ("16_24", "male"): 5, ("65_74", "male"): 40})
    assert small["representativeness"] == "*"
    assert small["bands"][0]["members"] == "*" and small["bands"][0]["per_1000"] == "*"


# Membership measures across outputs: a reader with the ICB's rights puts the ICB's scorecard
# beside each place's and each practice's.

BANDS = [(a, s) for a in ("16_24", "45_54", "75_84") for s in ("female", "male")]


def generated_membership(seed: int, places: int = 3, practices: int = 4) -> MemberCounts:
    """An ICS's members: a few per practice and band (many of 1 to 4), some not stating."""
    rng = random.Random(seed)
    place_nodes = []
    for p in range(places):
        kids = []
        for q in range(practices):
            bands = {b: rng.choice([0, 0, 1, 2, 3, 5, 8]) for b in BANDS}
            replies = {r: rng.choice([0, 1, 2, 6]) for r in REPLIES}
            attended = min(replies["replied_yes"], rng.choice([0, 1, 5]))
            kids.append(MemberCounts(f"P{p}{q:02d}", bands, rng.choice([0, 1, 6]), 0, replies, attended))
        place_nodes.append(add_up(f"{p:02d}X", kids))
    return add_up("QZZ", place_nodes)


def add_up(code: str, children: list[MemberCounts]) -> MemberCounts:
    return MemberCounts(
        code,
        {b: sum(c.bands[b] for c in children) for b in BANDS},
        sum(c.not_stated for c in children),
        0,
        {r: sum(c.invitations[r] for c in children) for r in REPLIES},
        sum(c.attended for c in children),
        children,
    )


def everyone(root: MemberCounts) -> list[MemberCounts]:
    return [root, *[n for c in root.children for n in everyone(c)]]


def side_by_side(root: MemberCounts, alone: bool) -> tuple[int, int]:
    """(starred counts, recoverable ones) over every organisation's scorecard put side by side:
    each published alone (``alone``), or all of them together as reporting now does."""
    parents = {c.code: n.code for n in everyone(root) for c in n.children} | {root.code: None}
    rows: dict[str, dict[str, int | str]] = {}
    extra: set[tuple[str, str]] = set()
    for node in everyone(root) if alone else [root]:
        own = MemberCounts(node.code, node.bands, node.not_stated, node.other, node.invitations, node.attended)
        published = publish_membership(own if alone else node)
        for code, row in shown_rows(published, own if alone else node).items():
            rows[code] = row
        extra |= set(published.publication.extra)
    report = audit(published_membership(rows, parents, extra), intervals=True)
    return report.checked, len(report.findings)


def test_membership_scorecards_alone_leak_when_put_side_by_side() -> None:
    assert side_by_side(generated_membership(1), alone=True)[1] > 0


@pytest.mark.parametrize("seed", range(3))
def test_no_starred_membership_count_is_recoverable_from_any_combination_of_scorecards(seed: int) -> None:
    checked, found = side_by_side(generated_membership(seed), alone=False)
    assert checked > 0 and found == 0


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
    # 02B's one member is starred in its own scorecard; the ICB's 7 beside 03C's 6 would give it
    # away, so one of them is starred too (extra suppression, labelled), and nothing starred in
    # the ICB's, a place's or a practice's scorecard can be worked out from the others.
    place_b = await scorecard_of(sessions, "02B")
    assert place_b["members"] == "*"
    assert "*" in (card["members"], icb["members"])
    for shown, true, scorecard in ((card["members"], 6, card), (icb["members"], 7, icb)):
        assert shown == true or "members" in scorecard["extra_suppression"]
    assert card["audit"]["recoverable"] == icb["audit"]["recoverable"] == 0
    registered = card["representation"]["bands"]
    assert sum(r["registered_patients"] for r in registered) > 0
    if card["members"] != "*":
        assert card["members_per_1000_registered"] == round(6000 / sum(r["registered_patients"] for r in registered), 2)
    else:
        assert card["members_per_1000_registered"] == "*"
    women_45 = next(r for r in registered if (r["age_band"], r["sex"]) == ("45_54", "female"))
    assert women_45["members"] in (6, "*")
    others = [r for r in registered if r is not women_45]
    assert {r["members"] for r in others} == {0}  # a shown zero where nothing is hidden
    assert icb["representativeness_by_place"].keys() == {"01A", "02B", "03C"}
    assert icb["representativeness_by_place"]["02B"] == "*"


async def scorecard_of(sessions: Any, code: str) -> dict[str, Any]:
    async with sessions() as session:
        return await membership_scorecard(session, reference(), code)
