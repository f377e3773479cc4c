"""membership's API on a real PostgreSQL store. No broker is needed here: events wait in
the outbox, where the tests read them (the end-to-end tests read them from Kafka)."""

import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select

from hub_shared.auth import SCOPES, DevKeys
from hub_shared.events import MemberContactV2
from hub_shared.sealing import card_key, unseal
from hub_shared.topics import MEMBERSHIP_CONTACTS, MEMBERSHIP_EVENTS
from membership.handlers import members
from membership.main import MIGRATIONS, create_app
from membership.models import OutboxMessage
from membership.settings import MembershipSettings


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"public_response_floor_ms": 0}  # test_timing sets its own


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> DevKeys:
    """One key pair for the test process: generating an RSA key costs a tenth of a second."""
    return DevKeys(tmp_path_factory.mktemp("keys")).ensure()


@pytest_asyncio.fixture
async def app(new_postgres_database, keys: DevKeys, settings_overrides: dict[str, Any]):  # type: ignore[no-untyped-def]
    settings = MembershipSettings(
        database_url=new_postgres_database("membership", MIGRATIONS), HUB_JWKS_PATH=keys.jwks_path, **settings_overrides
    )
    application = create_app(settings)
    yield application
    await application.state.engine.dispose()


@pytest_asyncio.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://membership") as c:
        yield c


def auth(keys: DevKeys, org: str, scopes: tuple[str, ...] = tuple(SCOPES)) -> dict[str, str]:
    settings = MembershipSettings()
    token = keys.issue(
        organisation=org, scopes=list(scopes), issuer=settings.jwt_issuer, audience=settings.jwt_audience
    )
    return {"Authorization": f"Bearer {token}"}


async def outbox(app, topic: str = MEMBERSHIP_EVENTS.name) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """Staged events of a topic, oldest first, as CloudEvents dicts (a tombstone as such);
    a contact card's data opened with its person's key, while they have one."""
    async with app.state.sessions() as session:
        rows = (
            await session.scalars(select(OutboxMessage).where(OutboxMessage.topic == topic).order_by(OutboxMessage.seq))
        ).all()
        staged = [json.loads(r.payload) if r.payload else {"tombstone": True, "key": r.key} for r in rows]
        for event in staged:
            if event.get("type") == MemberContactV2.event_type:
                card = MemberContactV2.model_validate(event["data"])
                key = await members.contact_key(session, card_key(card))
                if key is not None:
                    event["data"] = {**event["data"], **unseal(key, card).model_dump(mode="json")}
    return staged


async def events_of(app, event_type: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    return [e for e in await outbox(app) if e.get("type") == event_type]


async def last_card(app, email: str | None = None) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    cards = [c for c in await outbox(app, MEMBERSHIP_CONTACTS.name) if "data" in c]
    if email:
        cards = [c for c in cards if c["data"]["email"] == email]
    assert cards, "no contact card staged"
    return cards[-1]["data"]  # type: ignore[no-any-return]


def token_of(url: str) -> str:
    return parse_qs(urlparse(url).query)["token"][0]


JOIN = {
    "name": "Ada Lovelace",
    "email": "ada@example.org",
    "phone": "07700 900982",
    "postcode": "ls1 4ap",
    "practice_code": "P81001",
    "interests": ["musculoskeletal"],
    "demographics": {"age_band": "16_24", "sex": "female", "ethnic_group": "white_british"},
    "consent_to_contact": True,
}


async def join_and_confirm(client: httpx.AsyncClient, app, **overrides: Any) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """Join, follow the emailed confirmation link; return (member id, preferences token)."""
    body = {**JOIN, **overrides}
    r = await client.post("/v1/join", json=body)
    assert r.status_code == 202, r.text
    card = await last_card(app, body["email"].lower())
    r = await client.post("/v1/confirm", json={"token": token_of(card["message"]["links"]["confirm"])})
    assert r.status_code == 200, r.text
    member_id = r.json()["member_id"]
    r = await client.post("/v1/links", json={"email": body["email"]})
    fresh = await last_card(app, body["email"].lower())
    return member_id, token_of(fresh["message"]["links"]["preferences"])
