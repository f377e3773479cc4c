"""However many ask, and through however many API processes, an address gets at most a few
emails an hour from joining, fresh links and hearing back; the answer does not say so, in
its words or its timing."""

import statistics
import time
from typing import Any

import httpx
import pytest

from hub_shared.topics import MEMBERSHIP_CONTACTS
from membership.main import create_app

from .conftest import JOIN, outbox


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"public_response_floor_ms": 0, "emails_per_address_per_hour": 3}


async def emails_to(app, address: str) -> int:  # type: ignore[no-untyped-def]
    cards = [c["data"] for c in await outbox(app, MEMBERSHIP_CONTACTS.name) if "data" in c]
    return sum(1 for c in cards if c["message"] and (c["message"]["to"] or c["email"]) == address)


async def test_requests_for_one_address_send_at_most_three_emails_an_hour_across_processes(client, app) -> None:
    # A second API process on the same store: the count is stored, not kept in memory.
    other_app = create_app(app.state.settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=other_app), base_url="http://membership") as other:
        answers = []
        for i, api in enumerate([client, other] * 4):
            if i % 3 == 0:
                answers.append(await api.post("/v1/join", json=JOIN))
            elif i % 3 == 1:
                answers.append(await api.post("/v1/links", json={"email": JOIN["email"]}))
            else:
                answers.append(await api.post("/v1/hear-back", json={"email": JOIN["email"]}))
    await other_app.state.engine.dispose()
    assert await emails_to(app, JOIN["email"]) == 3
    # Every answer of a kind is the same, whether or not its email went (a hear-back reference is new each time).
    for kind in range(3):
        bodies = [
            {k: v for k, v in a.json().items() if k not in ("contact_token", "reference")} for a in answers[kind::3]
        ]
        assert {a.status_code for a in answers[kind::3]} == {202} and all(b == bodies[0] for b in bodies)
    # Another address is not held back by this one.
    assert (await client.post("/v1/links", json={"email": "someone.else@example.org"})).status_code == 202


async def test_a_capped_hear_back_token_leads_nowhere(client, app) -> None:
    tokens = [(await client.post("/v1/hear-back", json={"email": "hb@example.org"})).json() for _ in range(5)]
    assert len({t["contact_token"] for t in tokens}) == 5
    assert await emails_to(app, "hb@example.org") == 3
    async with app.state.sessions() as session:
        kept = (await session.execute(__import__("sqlalchemy").text("SELECT count(*) FROM hear_back_contact"))).scalar()
    assert kept == 3


class TestTiming:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"public_response_floor_ms": 150, "emails_per_address_per_hour": 3}

    async def test_an_answer_takes_as_long_whether_or_not_the_email_was_sent(self, client, app) -> None:
        async def timed(email: str) -> float:
            started = time.perf_counter()
            response = await client.post("/v1/links", json={"email": email})
            assert response.status_code == 202
            return time.perf_counter() - started

        await client.post("/v1/join", json={**JOIN, "email": "timed@example.org"})
        for _ in range(2):
            await timed("timed@example.org")  # its last emails for the hour
        capped = [await timed("timed@example.org") for _ in range(4)]
        assert await emails_to(app, "timed@example.org") == 3
        for i in range(4):
            await client.post("/v1/join", json={**JOIN, "email": f"sent{i}@example.org"})
        sent = [await timed(f"sent{i}@example.org") for i in range(4)]
        assert [await emails_to(app, f"sent{i}@example.org") for i in range(4)] == [2, 2, 2, 2]
        assert min(capped + sent) >= 0.15
        assert abs(statistics.median(capped) - statistics.median(sent)) < 0.05
