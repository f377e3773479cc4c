"""Erasure is complete within seconds, everywhere: a member who was emailed, invited to hear
back and heard back is erased, and a hear-back contributor stops; once every service
confirms it, no byte of either is in any store file (the hub on SQLite files, read raw,
write-ahead logs included), on any record of any topic from the beginning (the contacts
topic's whole history and every dead-letter topic), or in the logs. Their contact cards
are still on the topic (compaction has not run) but no longer open: their keys are gone."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from hub_shared.auth import DevKeys
from hub_shared.testing import KafkaUnderTest, eventually, migrated

from .conftest import Hub, running_hub
from .test_membership import (
    card,
    contact_cards,
    notification_forgot,
    on_broker,
    search_topics,
    token_of,
    traces_of,
)

pytestmark = pytest.mark.long(seconds=30)

# Practice and month no other test counts: a second hub's events reach the shared topics.
PRACTICE = "P82008"
WHEN = "2024-03-05T10:00:00Z"
MEMBER = {
    "name": "Philippa Wetherspoon-Ngata",
    "email": "philippa.wetherspoon@example.org",
    "phone": "07700 900456",
    "postcode": "LS7 3QB",
    "practice_code": PRACTICE,
    "interests": ["dermatology"],
    "demographics": {"age_band": "45_54", "sex": "female"},
    "consent_to_contact": True,
}
MEMBER_TRACES = (
    "Philippa",
    "Wetherspoon",
    "philippa.wetherspoon@example.org",
    "07700 900456",
    "+447700900456",
    "7700900456",
    "LS7 3QB",
)
CONTRIBUTOR = "ignatius.fairweather-oyelaran@example.org"
CONTRIBUTOR_TRACES = (CONTRIBUTOR, "ignatius.fairweather", "Fairweather-Oyelaran")
EVERYONE = MEMBER_TRACES + CONTRIBUTOR_TRACES


@pytest_asyncio.fixture(scope="module")
async def hub_on_files(kafka: KafkaUnderTest, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Hub]:
    """The whole hub with every service's store in a SQLite file of one folder."""
    folder = tmp_path_factory.mktemp("stores")
    keys = DevKeys(tmp_path_factory.mktemp("keys")).ensure()

    def new_database(name: str, migrations_dir: Path | None = None) -> str:
        url = f"sqlite+aiosqlite:///{folder / name}.db"
        if migrations_dir is not None:
            migrated(migrations_dir, url)
        return url

    async with running_hub(kafka, new_database, keys, groups=".on-files") as hub:
        hub.apps["stores"] = folder
        yield hub


def store_files(hub: Hub) -> dict[str, bytes]:
    folder: Path = hub.apps["stores"]
    files = {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}
    assert {"membership.db", "notification.db", "intake.db", "reporting.db"} <= set(files)
    return files


async def emails_to(hub: Hub, address: str, count: int) -> list[Any]:
    assert hub.smtp is not None

    async def arrived() -> bool:
        return len(hub.smtp.to(address)) >= count  # type: ignore[union-attr]

    await eventually(arrived, what=f"{count} email(s) to {address}")
    return hub.smtp.to(address)


# Long, so it starts first in its process: its hub then runs beside no other.
async def test_an_erased_member_and_a_stopped_contributor_leave_no_byte_anywhere(
    hub_on_files: Hub, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    hub = hub_on_files
    m = hub.membership
    # A member joins and confirms from the email notification sent them.
    assert (await m.post("/v1/join", json=MEMBER)).status_code == 202
    await emails_to(hub, MEMBER["email"], 1)  # type: ignore[arg-type]
    confirm = await card(hub, MEMBER["email"], "confirm_join")  # type: ignore[arg-type]
    r = await m.post("/v1/confirm", json={"token": token_of(confirm["message"]["links"]["confirm"])})
    assert r.status_code == 200, r.text
    member_id = r.json()["member_id"]
    await on_broker(hub, "member.confirmed.v1", member_id)

    # Someone else only wants to hear back: double opt-in.
    r = await m.post("/v1/hear-back", json={"email": CONTRIBUTOR})
    assert r.status_code == 202, r.text
    contact_token = r.json()["contact_token"]
    confirm = await card(hub, CONTRIBUTOR, "confirm_hear_back")
    r = await m.post("/v1/hear-back/confirm", json={"token": token_of(confirm["message"]["links"]["confirm"])})
    assert r.status_code == 200, r.text

    # Both gave feedback and hear what came of it, by email.
    submissions = []
    for hear_back in ({"member_id": member_id}, {"contact_token": contact_token}):
        said = await hub.post_feedback(
            PRACTICE, service_area="dermatology", occurred_at=WHEN, hear_back=hear_back, text="Longer clinic hours."
        )
        assert said.status_code == 201, said.text
        submissions.append(said.json()["id"])
    r = await hub.intake.post(
        "/v1/responses",
        headers=hub.token("02B"),
        json={
            "organisation_code": PRACTICE,
            "submission_ids": submissions,
            "you_said": "Longer skin clinic hours.",
            "we_did": "The clinic opens until 8pm on Tuesdays.",
            "status": "planned",
        },
    )
    assert r.status_code == 201, r.text
    await emails_to(hub, MEMBER["email"], 2)  # type: ignore[arg-type]
    await emails_to(hub, CONTRIBUTOR, 2)
    update = await card(hub, CONTRIBUTOR, "update_due")

    # The searches below find both while they are here (so they can fail).
    before = b"".join(store_files(hub).values())
    for detail in (MEMBER["email"], MEMBER["name"], CONTRIBUTOR):
        assert any(trace in before for trace in traces_of((detail,))), f"{detail} was never in a store file"
    cards = {key.decode(): data for key, data in await contact_cards(hub) if data}
    assert cards[member_id]["email"] == MEMBER["email"] and cards[contact_token]["email"] == CONTRIBUTOR

    # The contributor stops hearing back; the member is erased.
    r = await m.post("/v1/hear-back/stop", json={"token": token_of(update["message"]["links"]["stop"])})
    assert r.status_code == 200, r.text
    assert (await m.post("/v1/links", json={"email": MEMBER["email"]})).status_code == 202
    preferences = token_of((await card(hub, MEMBER["email"], "fresh_link"))["message"]["links"]["preferences"])  # type: ignore[arg-type]
    await emails_to(hub, MEMBER["email"], 3)  # type: ignore[arg-type]
    assert (await m.post("/v1/me/erase", params={"token": preferences})).status_code == 200

    # Confirmed everywhere: membership published the erasure; intake unlinked the member's
    # feedback; notification sent its goodbye and kept neither person nor that address.
    await on_broker(hub, "member.erased.v1", member_id)

    async def unlinked() -> bool:
        stored = await hub.intake.get(f"/v1/feedback/{submissions[0]}", headers=hub.token(PRACTICE))
        return stored.json()["hears_back"] is False

    await eventually(unlinked, what="intake to unlink the erased member")
    goodbye = await emails_to(hub, MEMBER["email"], 4)  # type: ignore[arg-type]
    assert goodbye[-1]["Subject"] == "We have deleted your details"

    await notification_forgot(hub, member_id, contact_token)

    # Nowhere: every store file's raw bytes, every topic record, the logs.
    traces = traces_of(EVERYONE)
    for name, content in store_files(hub).items():
        for trace in traces:
            assert trace not in content, f"{trace!r} outlived erasure in {name}"
    await search_topics(hub, EVERYONE, member_id, contact_token)
    logged = ("".join(capfd.readouterr()) + caplog.text).encode()
    assert b"batch consumed" in logged  # the hub's log lines were captured to be searched
    for trace in traces:
        assert trace not in logged, f"{trace!r} was logged"
