"""Intake keeps its documented contract (found by property-based testing of the OpenAPI
document and an outside Kafka client reading the AsyncAPI one): field-level 422s, never a
500; times keep their instant on SQLite; every status it answers is documented; a reused
client_reference never returns someone else's item."""

import pytest

from .conftest import auth

GOOD = {
    "organisation_code": "P81001",
    "service_area": "general_practice",
    "channel": "fft_sms",
    "fft_answer": "very_good",
    "text": "Seen on time.",
    "occurred_at": "2026-11-01T01:30:00+05:00",
}


async def test_clearing_we_did_is_a_field_error_not_a_500(client, keys) -> None:  # type: ignore[no-untyped-def]
    created = await client.post("/v1/feedback", json=GOOD, headers=auth(keys, "01A"))
    response = await client.post(
        "/v1/responses",
        headers=auth(keys, "01A"),
        json={
            "organisation_code": "01A",
            "submission_ids": [created.json()["id"]],
            "you_said": "Open later.",
            "we_did": "Evening clinics.",
            "status": "planned",
        },
    )
    assert response.status_code == 201, response.text
    patched = await client.patch(
        f"/v1/responses/{response.json()['id']}",
        headers=auth(keys, "01A"),
        json={"status": "done", "changed_at": "2026-11-20", "we_did": None},
    )
    assert patched.status_code == 422, patched.text
    assert patched.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in patched.json()["errors"]] == ["we_did"]
    done = await client.patch(
        f"/v1/responses/{response.json()['id']}",
        headers=auth(keys, "01A"),
        json={"status": "done", "changed_at": "2026-11-20"},
    )
    assert done.status_code == 200 and done.json()["we_did"] == "Evening clinics."


async def test_times_keep_their_instant_and_zone_on_sqlite(client, keys) -> None:  # type: ignore[no-untyped-def]
    created = await client.post("/v1/feedback", json=GOOD, headers=auth(keys, "01A"))
    assert created.status_code == 201, created.text
    read = (await client.get(f"/v1/feedback/{created.json()['id']}", headers=auth(keys, "01A"))).json()
    assert read["occurred_at"] == "2026-10-31T20:30:00Z"  # the same instant, in UTC
    assert read["received_at"].endswith("Z")
    listed = (
        await client.get(
            "/v1/feedback",
            params={"occurred_from": "2026-10-31T20:30:00+00:00", "occurred_to": "2026-10-31T21:00:00+00:00"},
            headers=auth(keys, "01A"),
        )
    ).json()
    assert [i["id"] for i in listed["items"]] == [created.json()["id"]]


async def test_a_reused_client_reference_with_other_content_is_refused(client, keys) -> None:  # type: ignore[no-untyped-def]
    first = await client.post("/v1/feedback", json={**GOOD, "client_reference": "r-1"}, headers=auth(keys, "01A"))
    assert first.status_code == 201
    again = await client.post("/v1/feedback", json={**GOOD, "client_reference": "r-1"}, headers=auth(keys, "01A"))
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]  # a retry: the same item
    other_practice = {**GOOD, "organisation_code": "P81002", "client_reference": "r-1"}
    refused = await client.post("/v1/feedback", json=other_practice, headers=auth(keys, "01A"))
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["errors"][0] == {
        "field": "client_reference",
        "message": "'r-1' was already used for a different submission; use a new reference",
        "type": "conflict",
    }
    assert first.json()["id"] not in refused.text
    changed_text = await client.post(
        "/v1/feedback", json={**GOOD, "text": "Different.", "client_reference": "r-1"}, headers=auth(keys, "01A")
    )
    assert changed_text.status_code == 422
    batch = await client.post(
        "/v1/feedback/batch",
        json={"items": [{**other_practice}, {**GOOD, "client_reference": "r-1"}]},
        headers=auth(keys, "01A"),
    )
    items = batch.json()["items"]
    assert [i["status"] for i in items] == ["rejected", "duplicate"]
    assert items[0]["errors"][0]["type"] == "conflict" and items[0]["id"] is None


async def test_undocumented_methods_are_405_with_every_allowed_method(client, keys) -> None:  # type: ignore[no-untyped-def]
    batch = await client.get("/v1/feedback/batch", headers=auth(keys, "01A"))
    assert batch.status_code == 405 and batch.headers["allow"] == "POST"
    assert batch.headers["content-type"] == "application/problem+json"
    response = await client.delete("/v1/responses/00000000-0000-0000-0000-000000000000", headers=auth(keys, "01A"))
    assert response.status_code == 405 and response.headers["allow"] == "GET, PATCH"


async def test_every_answer_is_documented(client, keys) -> None:  # type: ignore[no-untyped-def]
    paths = (await client.get("/openapi.json")).json()["paths"]
    post = paths["/v1/feedback"]["post"]
    assert {"200", "201", "400", "413", "422"} <= set(post["responses"])
    key = next(p for p in post["parameters"] if p["name"] == "Idempotency-Key")
    assert key["schema"]["anyOf"][0]["maxLength"] == 200
    too_long = await client.post("/v1/feedback", json=GOOD, headers={**auth(keys, "01A"), "Idempotency-Key": "k" * 201})
    assert too_long.status_code == 422 and too_long.json()["errors"][0]["field"] == "header.Idempotency-Key"
    upload = paths["/v1/fft-returns/uploads"]["post"]
    assert {"202", "400", "413", "415", "422"} <= set(upload["responses"])
    for column in ("Practice Code", "Period", "Very Good", "Don't Know", "Total"):
        assert column in upload["description"]
    not_csv = await client.post(
        "/v1/fft-returns/uploads", content=b"{}", headers={**auth(keys, "01A"), "Content-Type": "application/json"}
    )
    assert not_csv.status_code == 415
    unreadable = await client.post(
        "/v1/feedback", content=b"\xff\xfe{", headers={**auth(keys, "01A"), "Content-Type": "application/json"}
    )
    assert str(unreadable.status_code) in post["responses"]


@pytest.mark.parametrize("subscriber", ["feedback-intake.ingress"])
async def test_the_asyncapi_document_tells_the_truth_about_the_ingress(client, subscriber) -> None:  # type: ignore[no-untyped-def]
    document = (await client.get("/asyncapi.json")).json()
    schemas = document["components"]["schemas"]
    envelope = schemas[f"{subscriber}:Message:Payload"]
    assert "client_reference" in envelope["properties"]["data"]["required"]
    message = document["components"]["messages"][f"{subscriber}:SubscribeMessage"]
    assert message["headers"]["required"] == ["authorization"]
    for message in document["components"]["messages"].values():
        assert message["correlationId"]["location"] == "$message.payload#/correlationid"
    received = document["components"]["messages"]["feedback.received.v1:Message"]["payload"]["$ref"]
    published = schemas[received.rsplit("/", 1)[-1]]
    assert published["properties"]["type"] == {"const": "feedback.received.v1"}
    assert "correlationid" in published["properties"] and "tenant" in published["required"]


@pytest.mark.parametrize("body", ["h\U000318e9\r\U00017dc6".encode(), b'"unterminated\r\nPractice Code', b"a\x00b"])
async def test_an_upload_that_is_not_csv_is_a_problem_not_a_500(client, keys, body) -> None:  # type: ignore[no-untyped-def]
    response = await client.post(
        "/v1/fft-returns/uploads", content=body, headers={**auth(keys, "01A"), "Content-Type": "text/csv"}
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
