"""Intake's HTTP contract on a real SQLite store: what is accepted is stored together with
its outbox event; what is not gets a problem document naming each field."""

import pytest
from sqlalchemy import select

from feedback_intake.models import FeedbackSubmission, OutboxMessage
from hub_shared.events import FeedbackReceived, decode

from .conftest import auth

GOOD = {
    "organisation_code": "P81001",
    "service_area": "musculoskeletal",
    "channel": "coproduction_workshop",
    "text": "Patients asked for physiotherapy self-referral.",
    "occurred_at": "2026-10-01T14:00:00+01:00",
}


async def test_accepted_feedback_is_stored_with_its_event_in_the_outbox(client, app, keys) -> None:  # type: ignore[no-untyped-def]
    response = await client.post("/v1/feedback", json=GOOD, headers=auth(keys, "01A"))
    assert response.status_code == 201, response.text
    body = response.json()
    async with app.state.sessions() as session:
        stored = (await session.scalars(select(FeedbackSubmission))).one()
        outbox = (await session.scalars(select(OutboxMessage))).one()
    assert str(stored.id) == body["id"] and stored.submitted_by == "01A"
    event = decode(outbox.payload.encode())
    assert event.type == "feedback.received.v1"
    assert event.subject == body["id"] and outbox.key == body["id"]
    assert event.tenant == "P81001"
    assert isinstance(event.data, FeedbackReceived) and event.data.text == GOOD["text"]
    assert outbox.published_at is None  # the relay's job, not the request's


async def test_every_bad_field_is_named_in_one_problem(client, keys) -> None:  # type: ignore[no-untyped-def]
    bad = {**GOOD, "service_area": "podiatry", "channel": "carrier pigeon", "occurred_at": "yesterday", "extra": 1}
    response = await client.post("/v1/feedback", json=bad, headers=auth(keys, "01A"))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"service_area", "channel", "occurred_at", "extra"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"text": None}, "give an fft_answer, a text, or both"),
        ({"occurred_at": "2099-01-01T00:00:00Z"}, "in the future"),
        ({"fft_answer": "brilliant"}, "Input should be"),
        ({"occurred_at": "2026-10-01T14:00:00"}, "timezone"),
    ],
)
async def test_rules_of_a_submission(client, keys, change, message) -> None:  # type: ignore[no-untyped-def]
    body = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    response = await client.post("/v1/feedback", json=body, headers=auth(keys, "01A"))
    assert response.status_code == 422
    assert message in str(response.json()["errors"])


async def test_malformed_json_is_a_problem_not_a_500(client, keys) -> None:  # type: ignore[no-untyped-def]
    response = await client.post(
        "/v1/feedback", content=b"{not json", headers={**auth(keys, "01A"), "Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["title"] == "Invalid request"


async def test_authority(client, keys) -> None:  # type: ignore[no-untyped-def]
    unknown = await client.post("/v1/feedback", json={**GOOD, "organisation_code": "Y99999"}, headers=auth(keys, "QZZ"))
    assert unknown.status_code == 422 and unknown.json()["title"] == "Unknown organisation"
    other_place = await client.post("/v1/feedback", json=GOOD, headers=auth(keys, "02B"))
    assert other_place.status_code == 403
    sibling_practice = await client.post("/v1/feedback", json=GOOD, headers=auth(keys, "P81002"))
    assert sibling_practice.status_code == 403
    read_only = await client.post("/v1/feedback", json=GOOD, headers=auth(keys, "P81001", ("feedback:read",)))
    assert read_only.status_code == 403 and "feedback:write" in read_only.json()["detail"]
    anonymous = await client.post("/v1/feedback", json=GOOD)
    assert anonymous.status_code == 401 and anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    forged = await client.post("/v1/feedback", json=GOOD, headers={"Authorization": "Bearer not.a.jwt"})
    assert forged.status_code == 401


async def test_reading_is_scoped_to_the_callers_organisations(client, keys) -> None:  # type: ignore[no-untyped-def]
    created = (await client.post("/v1/feedback", json=GOOD, headers=auth(keys, "P81001"))).json()
    path = f"/v1/feedback/{created['id']}"
    assert (await client.get(path, headers=auth(keys, "P81001"))).status_code == 200
    assert (await client.get(path, headers=auth(keys, "01A"))).status_code == 200
    assert (await client.get(path, headers=auth(keys, "QZZ"))).status_code == 200
    assert (await client.get(path, headers=auth(keys, "02B"))).status_code == 404
    assert (await client.get(path, headers=auth(keys, "P81002"))).status_code == 404


async def test_openapi_and_asyncapi_documents_are_served(client) -> None:  # type: ignore[no-untyped-def]
    openapi = (await client.get("/openapi.json")).json()
    assert "/v1/feedback" in openapi["paths"]
    assert "bearer" in str(openapi["components"]["securitySchemes"]).lower()
    asyncapi = (await client.get("/asyncapi.json")).json()
    assert asyncapi["asyncapi"].startswith("3.")
    assert "feedback.events" in str(asyncapi["channels"])
    assert "FeedbackReceivedV1" in str(asyncapi["components"])
    ingress = asyncapi["components"]["schemas"]["feedback-intake.ingress:Message:Payload"]
    assert ingress["properties"]["type"] == {"const": "feedback.submitted.v1"}
    assert "client_reference" in ingress["properties"]["data"]["properties"]
    assert "feedback.rejected.v1" in asyncapi["channels"]


async def test_health_and_metrics(client) -> None:  # type: ignore[no-untyped-def]
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    await client.get("/v1/feedback/00000000-0000-0000-0000-000000000000")
    metrics = (await client.get("/metrics")).text
    assert 'hub_http_requests_total{method="GET",route="/v1/feedback/{submission_id}",status="401"}' in metrics
