"""Text that cannot be stored or shown faithfully (a NUL, other control characters, line or
paragraph separators where one line is meant) is refused where it comes in, naming the
field, on PostgreSQL (which cannot hold a NUL) as on SQLite (which would store it)."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import func, select

from feedback_intake.main import MIGRATIONS, create_app
from feedback_intake.models import FeedbackResponse, FeedbackSubmission, FftUpload
from feedback_intake.settings import IntakeSettings
from hub_shared.auth import DevKeys
from hub_shared.testing import migrated

from .conftest import auth

ITEM = {
    "organisation_code": "P81001",
    "service_area": "general_practice",
    "channel": "online_comment",
    "text": "Reception were kind.",
    "occurred_at": "2026-10-01T09:00:00Z",
}
RESPONSE = {
    "organisation_code": "01A",
    "theme": "appointments",
    "you_said": "It is hard to get through.",
    "we_did": "We added phone lines.",
    "status": "planned",
}
CSV = "Practice Code,Practice Name,Period,Very Good,Good,Neither Good nor Poor,Poor,Very Poor,Don't Know\r\n"


@pytest_asyncio.fixture(params=["sqlite", "postgresql"])
async def store(request, tmp_path: Path, keys: DevKeys) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'intake.db'}"
    else:
        url = request.getfixturevalue("new_postgres_database")("intake_text")
    migrated(MIGRATIONS, url)
    app = create_app(IntakeSettings(database_url=url, HUB_JWKS_PATH=keys.jwks_path))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://intake") as client:
        yield app, client
    await app.state.engine.dispose()


def refused(response: httpx.Response, field: str) -> None:
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]], response.text


async def count(app: Any, model: Any) -> int:
    async with app.state.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("text", "Kind staff\x00"),
        ("text", "Kind\x1bstaff"),
        ("text", "Kind\u2028staff"),
        ("client_reference", "ref\x00-1"),
        ("client_reference", "ref\n1"),
    ],
)
async def test_feedback_with_a_control_character_is_refused(store, keys, field, value) -> None:  # type: ignore[no-untyped-def]
    app, client = store
    refused(await client.post("/v1/feedback", json={**ITEM, field: value}, headers=auth(keys, "01A")), field)
    batch = await client.post("/v1/feedback/batch", json={"items": [{**ITEM, field: value}]}, headers=auth(keys, "01A"))
    assert batch.status_code == 200 and batch.json()["items"][0]["errors"][0]["field"] == field
    assert await count(app, FeedbackSubmission) == 0


async def test_lines_and_tabs_in_free_text_are_kept(store, keys) -> None:  # type: ignore[no-untyped-def]
    _, client = store
    text = "Kind staff.\r\n\tSeen on time."
    created = await client.post("/v1/feedback", json={**ITEM, "text": text}, headers=auth(keys, "01A"))
    assert created.status_code == 201 and created.json()["text"] == text


@pytest.mark.parametrize(
    ("field", "value"), [("you_said", "Hard\x00"), ("we_did", "Lines\x07"), ("theme", "appoint\u2029ments")]
)
async def test_a_response_with_a_control_character_is_refused(store, keys, field, value) -> None:  # type: ignore[no-untyped-def]
    app, client = store
    refused(await client.post("/v1/responses", json={**RESPONSE, field: value}, headers=auth(keys, "01A")), field)
    assert await count(app, FeedbackResponse) == 0
    created = await client.post("/v1/responses", json=RESPONSE, headers=auth(keys, "01A"))
    assert created.status_code == 201
    change = {"status": "not_possible", "status_reason": "No\x00money"}
    refused(
        await client.patch(f"/v1/responses/{created.json()['id']}", json=change, headers=auth(keys, "01A")),
        "status_reason",
    )


async def test_an_upload_with_a_nul_is_refused_naming_its_line(store, keys) -> None:  # type: ignore[no-untyped-def]
    app, client = store
    headers = {**auth(keys, "01A"), "Content-Type": "text/csv"}
    body = CSV + "P81001,North\x00vale,2026-10,5,4,3,2,1,0\r\n"
    response = await client.post("/v1/fft-returns/uploads", content=body.encode(), headers=headers)
    refused(response, "(body)")
    assert response.json()["errors"][0]["line"] == 2
    named = await client.post(
        "/v1/fft-returns/uploads", params={"filename": "october\x00.csv"}, content=CSV.encode(), headers=headers
    )
    refused(named, "query.filename")
    assert await count(app, FftUpload) == 0


async def test_a_query_with_a_nul_is_refused(store, keys) -> None:  # type: ignore[no-untyped-def]
    _, client = store
    response = await client.get(
        "/v1/ingress/rejections", params={"client_reference": "ref\x00"}, headers=auth(keys, "01A")
    )
    refused(response, "query.client_reference")
