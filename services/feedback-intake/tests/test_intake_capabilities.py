"""Every way in, on a real SQLite store: batches, safe retries, listing, review, responses,
FFT uploads, limits."""

import asyncio
import uuid

import pytest
from sqlalchemy import select

from feedback_intake.models import FftReturn, OutboxMessage
from hub_shared.events import decode

from .conftest import auth

ITEM = {
    "organisation_code": "P81001",
    "service_area": "general_practice",
    "channel": "fft_online",
    "fft_answer": "good",
    "occurred_at": "2026-10-01T09:00:00Z",
}


async def outbox_events(app, event_type: str):  # type: ignore[no-untyped-def]
    async with app.state.sessions() as session:
        rows = (await session.scalars(select(OutboxMessage).where(OutboxMessage.event_type == event_type))).all()
    return [decode(r.payload.encode()) for r in rows]


async def test_a_batch_reports_each_item_and_one_bad_row_sinks_nothing(client, app, keys) -> None:  # type: ignore[no-untyped-def]
    items = [
        {**ITEM, "client_reference": "row-1"},
        {**ITEM, "client_reference": "row-2", "fft_answer": "excellent"},
        {**ITEM, "client_reference": "row-3", "organisation_code": "P82001"},  # another place's practice
        {**ITEM, "client_reference": "row-1"},  # repeated within the batch
        {**ITEM},  # no client reference
        "not an object",
    ]
    response = await client.post("/v1/feedback/batch", json={"items": items}, headers=auth(keys, "01A"))
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["accepted"], result["duplicates"], result["rejected"]) == (1, 1, 4)
    statuses = [(i["client_reference"], i["status"]) for i in result["items"]]
    assert statuses == [
        ("row-1", "accepted"),
        ("row-2", "rejected"),
        ("row-3", "rejected"),
        ("row-1", "duplicate"),
        (None, "rejected"),
        (None, "rejected"),
    ]
    assert result["items"][3]["id"] == result["items"][0]["id"]
    assert result["items"][1]["errors"][0]["field"] == "fft_answer"
    assert result["items"][2]["errors"][0]["type"] == "forbidden"
    assert result["items"][4]["errors"][0]["field"] == "client_reference"
    assert len(await outbox_events(app, "feedback.received.v1")) == 1

    again = await client.post("/v1/feedback/batch", json={"items": items[:1]}, headers=auth(keys, "01A"))
    assert again.json()["items"][0]["status"] == "duplicate"


async def test_a_batch_over_1000_items_is_refused(client, keys) -> None:  # type: ignore[no-untyped-def]
    items = [{**ITEM, "client_reference": str(i)} for i in range(1001)]
    response = await client.post("/v1/feedback/batch", json={"items": items}, headers=auth(keys, "01A"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "items"


async def test_idempotency_key_replays_the_first_result_and_refuses_a_different_body(client, app, keys) -> None:  # type: ignore[no-untyped-def]
    headers = {**auth(keys, "01A"), "Idempotency-Key": "abc-123"}
    first = await client.post("/v1/feedback", json=ITEM, headers=headers)
    retry = await client.post("/v1/feedback", json=ITEM, headers=headers)
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert len(await outbox_events(app, "feedback.received.v1")) == 1

    changed = await client.post("/v1/feedback", json={**ITEM, "fft_answer": "poor"}, headers=headers)
    assert changed.status_code == 422 and changed.json()["title"] == "Idempotency-Key reused"
    # Keys belong to an organisation: another one may use the same key.
    other = await client.post(
        "/v1/feedback",
        json={**ITEM, "organisation_code": "P82001"},
        headers={**auth(keys, "02B"), "Idempotency-Key": "abc-123"},
    )
    assert other.status_code == 201


async def test_listing_filters_and_pages_within_authority(client, keys) -> None:  # type: ignore[no-untyped-def]
    for org, area in [
        ("P81001", "general_practice"),
        ("P81002", "dermatology"),
        ("P81003", "dermatology"),
        ("P82001", "dermatology"),
    ]:
        token = auth(keys, org)
        assert (
            await client.post(
                "/v1/feedback", json={**ITEM, "organisation_code": org, "service_area": area}, headers=token
            )
        ).status_code == 201

    seen, cursor = [], None
    while True:
        params = {"service_area": "dermatology", "limit": 1, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/v1/feedback", params=params, headers=auth(keys, "01A"))).json()
        seen += [i["organisation_code"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == ["P81002", "P81003"]  # 02B's practice is not 01A's to see

    practice = (await client.get("/v1/feedback", headers=auth(keys, "P81001"))).json()
    assert [i["organisation_code"] for i in practice["items"]] == ["P81001"]
    icb = (await client.get("/v1/feedback", params={"organisation_code": "02B"}, headers=auth(keys, "QZZ"))).json()
    assert [i["organisation_code"] for i in icb["items"]] == ["P82001"]
    forbidden = await client.get("/v1/feedback", params={"organisation_code": "02B"}, headers=auth(keys, "01A"))
    assert forbidden.status_code == 403
    bad_cursor = await client.get("/v1/feedback", params={"cursor": "nonsense"}, headers=auth(keys, "01A"))
    assert bad_cursor.status_code == 422 and bad_cursor.json()["errors"][0]["field"] == "cursor"


async def test_text_is_scrubbed_before_storage_and_flagged_text_waits_for_review(client, app, keys) -> None:  # type: ignore[no-untyped-def]
    body = {**ITEM, "text": "I want to make a formal complaint. My NHS number is 943 476 5919, call 07912 345678."}
    created = (await client.post("/v1/feedback", json=body, headers=auth(keys, "P81001"))).json()
    assert "943" not in created["text"] and "07912" not in created["text"]
    assert created["redactions"] == {"nhs_number": 1, "phone": 1}
    assert created["triage_flags"] == ["complaint"] and created["review_status"] == "pending"
    [event] = await outbox_events(app, "feedback.received.v1")
    assert event.data.review_required is True and "[NHS number]" in event.data.text

    queue = (await client.get("/v1/reviews", headers=auth(keys, "01A"))).json()
    assert [q["id"] for q in queue] == [created["id"]]
    assert (await client.get("/v1/reviews", headers=auth(keys, "02B"))).json() == []
    not_yours = await client.post(
        f"/v1/reviews/{created['id']}", json={"decision": "cleared"}, headers=auth(keys, "02B")
    )
    assert not_yours.status_code == 404
    no_scope = await client.post(
        f"/v1/reviews/{created['id']}", json={"decision": "cleared"}, headers=auth(keys, "01A", ("feedback:read",))
    )
    assert no_scope.status_code == 403

    decided = await client.post(
        f"/v1/reviews/{created['id']}", json={"decision": "complaint_referral"}, headers=auth(keys, "01A")
    )
    assert decided.status_code == 200 and decided.json()["review_status"] == "complaint_referral"
    [review] = await outbox_events(app, "feedback.reviewed.v1")
    assert review.data.decision == "complaint_referral" and review.data.reviewed_by == "01A"
    twice = await client.post(f"/v1/reviews/{created['id']}", json={"decision": "cleared"}, headers=auth(keys, "01A"))
    assert twice.status_code == 409
    assert (await client.get("/v1/reviews", headers=auth(keys, "01A"))).json() == []


async def test_merged_practice_feedback_counts_for_its_successor(client, keys) -> None:  # type: ignore[no-untyped-def]
    created = await client.post("/v1/feedback", json={**ITEM, "organisation_code": "P81009"}, headers=auth(keys, "01A"))
    assert created.json()["counts_for"] == "P81002"


async def test_demographics_and_hear_back_are_validated(client, keys) -> None:  # type: ignore[no-untyped-def]
    body = {
        **ITEM,
        "demographics": {"age_band": "35_44", "ethnic_group": "martian", "postcode_district": "LS6 2AB"},
        "hear_back": {"member_id": str(uuid.uuid4()), "contact_token": "abcdefgh"},
    }
    response = await client.post("/v1/feedback", json=body, headers=auth(keys, "01A"))
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"demographics.ethnic_group", "demographics.postcode_district", "hear_back"}

    good = {
        **ITEM,
        "demographics": {
            "age_band": "65_74",
            "sex": "female",
            "ethnic_group": "black_caribbean",
            "postcode_district": "LS6",
        },
        "hear_back": {"contact_token": "tok_12345678"},
    }
    created = (await client.post("/v1/feedback", json=good, headers=auth(keys, "01A"))).json()
    assert created["demographics"]["ethnic_group"] == "black_caribbean" and created["hears_back"] is True


async def test_you_said_we_did_responses(client, app, keys) -> None:  # type: ignore[no-untyped-def]
    member = str(uuid.uuid4())
    heard = (
        await client.post(
            "/v1/feedback", json={**ITEM, "hear_back": {"member_id": member}}, headers=auth(keys, "P81001")
        )
    ).json()
    silent = (await client.post("/v1/feedback", json=ITEM, headers=auth(keys, "P81001"))).json()
    body = {
        "organisation_code": "01A",
        "theme": "appointments and booking",
        "submission_ids": [heard["id"], silent["id"]],
        "you_said": "It is hard to get through on the phone at 8am.",
        "we_did": "We added online booking and two more phone lines.",
        "status": "in_progress",
        "change_due": "2027-01-31",
        "evidence_url": "https://northvale.example/you-said-we-did",
    }
    created = await client.post("/v1/responses", json=body, headers=auth(keys, "01A"))
    assert created.status_code == 201, created.text
    [event] = await outbox_events(app, "feedback.responded.v1")
    assert event.data.notify_member_ids == [uuid.UUID(member)]
    assert event.data.earliest_feedback_at is not None and event.data.status == "in_progress"

    not_possible = await client.patch(
        f"/v1/responses/{created.json()['id']}", json={"status": "not_possible"}, headers=auth(keys, "01A")
    )
    assert not_possible.status_code == 422 and not_possible.json()["errors"][0]["field"] == "status_reason"
    done = await client.patch(
        f"/v1/responses/{created.json()['id']}",
        json={"status": "done", "changed_at": "2026-12-01"},
        headers=auth(keys, "01A"),
    )
    assert done.status_code == 200 and done.json()["status"] == "done"
    assert len(await outbox_events(app, "feedback.responded.v1")) == 2

    other_place = await client.post(
        "/v1/responses", json={**body, "organisation_code": "02B"}, headers=auth(keys, "02B")
    )
    assert other_place.status_code == 422 and other_place.json()["title"] == "Unknown submissions"
    incoherent = await client.post(
        "/v1/responses", json={**body, "theme": None, "submission_ids": []}, headers=auth(keys, "01A")
    )
    assert incoherent.status_code == 422


CSV = (
    "Practice Code,Practice Name,Period,Very Good,Good,Neither Good nor Poor,Poor,Very Poor,Don't Know,Total\n"
    "P81001,Church Street Surgery,Oct-26,120,40,5,3,2,1,171\n"
    "P81002,High Street,2026-10,10,5,0,0,0,0,15\n"
    "P82001,Not ours,2026-10,1,1,1,1,1,1,6\n"
    "P81003,Bad total,2026-10,1,1,1,1,1,1,99\n"
    "P81001,Church Street Surgery,Nov-26,1,0,0,0,0,0,1\n"
)


async def test_fft_upload_is_processed_in_the_background_with_a_report(client, app, keys) -> None:  # type: ignore[no-untyped-def]
    response = await client.post(
        "/v1/fft-returns/uploads?filename=oct.csv",
        content=CSV.encode(),
        headers={**auth(keys, "01A"), "Content-Type": "text/csv"},
    )
    assert response.status_code == 202, response.text
    location = response.headers["Location"]
    for _ in range(100):
        status = (await client.get(location, headers=auth(keys, "01A"))).json()
        if status["status"] == "done":
            break
        await asyncio.sleep(0.05)
    assert status["total_rows"] == status["processed_rows"] == 5
    assert (status["accepted"], status["rejected"]) == (3, 2)
    assert [e["row"] for e in status["errors"]] == [4, 5]
    async with app.state.sessions() as session:
        returns = (await session.scalars(select(FftReturn))).all()
    assert {(r.organisation_code, r.period) for r in returns} == {
        ("P81001", "2026-10"),
        ("P81002", "2026-10"),
        ("P81001", "2026-11"),
    }
    events = await outbox_events(app, "feedback.fft_return.v1")
    assert len(events) == 3 and all(e.data.answers for e in events)
    assert (await client.get(location, headers=auth(keys, "02B"))).status_code == 404


async def test_fft_upload_refuses_a_wrong_file_at_once(client, keys) -> None:  # type: ignore[no-untyped-def]
    wrong = await client.post(
        "/v1/fft-returns/uploads", content=b"a,b\n1,2\n", headers={**auth(keys, "01A"), "Content-Type": "text/csv"}
    )
    assert wrong.status_code == 422 and wrong.json()["title"] == "Missing columns"
    not_csv = await client.post("/v1/fft-returns/uploads", json={"a": 1}, headers=auth(keys, "01A"))
    assert not_csv.status_code == 415


async def test_bodies_over_the_limit_are_413(client, keys) -> None:  # type: ignore[no-untyped-def]
    huge = {**ITEM, "text": "x" * 70_000}
    response = await client.post("/v1/feedback", json=huge, headers=auth(keys, "01A"))
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("settings_overrides", [{"rate_limit": "3/minute"}])
async def test_past_the_rate_an_organisation_gets_429_with_retry_after(client, keys) -> None:  # type: ignore[no-untyped-def]
    answers = [await client.post("/v1/feedback", json=ITEM, headers=auth(keys, "01A")) for _ in range(4)]
    assert [a.status_code for a in answers] == [201, 201, 201, 429]
    # The refusal itself says when to come back (a fifth request could fall in the next minute).
    assert 1 <= int(answers[3].headers["Retry-After"]) <= 61
    other = await client.post("/v1/feedback", json={**ITEM, "organisation_code": "P82001"}, headers=auth(keys, "02B"))
    assert other.status_code == 201  # the limit is per organisation
