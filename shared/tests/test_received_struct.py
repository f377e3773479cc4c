"""feedback.received.v1's msgspec struct (what intake builds and readers decode) and its
pydantic model (the published contract) are one event: the same fields and defaults, the
same values accepted and refused, the same JSON."""

import json
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest
from pydantic import ValidationError

from hub_shared.events import (
    AgeBand,
    Channel,
    Demographics,
    DemographicsStruct,
    EthnicGroup,
    FeedbackReceived,
    FeedbackReceivedV1,
    FftAnswer,
    InvalidEvent,
    ServiceArea,
    Sex,
    TriageFlag,
    decode,
    encode,
    new_envelope,
)
from hub_shared.events.received import received_from


def test_the_same_fields_required_and_defaults() -> None:
    for model, struct in [(FeedbackReceivedV1, FeedbackReceived), (Demographics, DemographicsStruct)]:
        info = msgspec.structs.fields(struct)
        assert {f.name for f in info} == set(model.model_fields)
        for field in info:
            pydantic_field = model.model_fields[field.name]
            assert field.required == pydantic_field.is_required(), field.name
            if not field.required:
                default = field.default_factory() if field.default is msgspec.NODEFAULT else field.default
                assert default == pydantic_field.get_default(call_default_factory=True), field.name


def varied(n: int) -> list[dict[str, Any]]:
    rng = random.Random(7)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    out = []
    for i in range(n):
        data: dict[str, Any] = {
            "submission_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "organisation_code": rng.choice(["P81001", "P82002", "01A"]),
            "service_area": rng.choice(list(ServiceArea)).value,
            "channel": rng.choice(list(Channel)).value,
            "occurred_at": (start + timedelta(minutes=rng.randint(0, 500_000))).isoformat(),
            "received_at": (start + timedelta(seconds=rng.randint(0, 10**8), microseconds=i)).isoformat(),
        }
        if rng.random() < 0.8:
            data["fft_answer"] = rng.choice(list(FftAnswer)).value
        if rng.random() < 0.5:
            data |= {
                "text": rng.choice(["Kind staff.", "Waited \u00e2ges \U0001f612", 'a "quoted" \\ text']),
                "sentiment": rng.uniform(-1, 1),
                "themes": rng.sample(["communication", "clinical_care", "medicines"], rng.randint(0, 3)),
                "themes_version": "themes-v1",
                "redactions": {"phone": rng.randint(0, 3)},
                "triage_flags": [f.value for f in TriageFlag if rng.random() < 0.2],
                "review_required": rng.random() < 0.2,
            }
        if rng.random() < 0.5:
            data["demographics"] = {
                "age_band": rng.choice([None, *[a.value for a in AgeBand]]),
                "sex": rng.choice([None, *[s.value for s in Sex]]),
                "ethnic_group": rng.choice([None, *[e.value for e in EthnicGroup]]),
                "postcode_district": rng.choice([None, "LS6", "M1", "SW1A"]),
            }
        for key in ("counts_for", "place_code", "submitted_by"):
            if rng.random() < 0.7:
                data[key] = rng.choice(["P81001", "01A", "QZZ"])
        out.append(data)
    return out


def test_both_read_the_same_values_and_write_the_same_json() -> None:
    for data in varied(500):
        model = FeedbackReceivedV1.model_validate(data)
        struct = received_from(data)
        assert json.loads(msgspec.json.encode(struct)) == model.model_dump(mode="json")
        assert FeedbackReceivedV1.model_validate_json(msgspec.json.encode(struct)) == model
        assert received_from(json.loads(model.model_dump_json())) == struct


BAD: list[tuple[str, Any]] = [
    ("channel", "pigeon"),
    ("service_area", None),
    ("submission_id", "not-a-uuid"),
    ("occurred_at", "yesterday"),
    ("sentiment", 1.5),
    ("sentiment", -1.01),
    ("themes", "communication"),
    ("triage_flags", ["gossip"]),
    ("redactions", {"phone": "many"}),
    ("demographics", {"postcode_district": "ls6"}),
    ("demographics", {"postcode_district": "LS6 1AA"}),
    ("demographics", {"shoe_size": "9"}),
    ("demographics", {"age_band": "ancient"}),
]


@pytest.mark.parametrize(("field", "value"), BAD)
def test_both_refuse_the_same_values(field: str, value: Any) -> None:
    data = {**varied(1)[0], field: value}
    with pytest.raises(ValidationError):
        FeedbackReceivedV1.model_validate(data)
    with pytest.raises(msgspec.ValidationError):
        received_from(data)
    missing = {k: v for k, v in varied(1)[0].items() if k != "organisation_code"}
    with pytest.raises(ValidationError):
        FeedbackReceivedV1.model_validate(missing)
    with pytest.raises(msgspec.ValidationError):
        received_from(missing)


def test_a_pydantic_event_decodes_to_the_struct_and_a_bad_one_is_refused() -> None:
    model = FeedbackReceivedV1.model_validate(varied(1)[0])
    envelope = new_envelope(model, source="test", subject="s", tenant="P81001", correlation_id="c")
    decoded = decode(encode(envelope).value)
    assert isinstance(decoded.data, FeedbackReceived)
    assert decoded.data == received_from(model.model_dump(mode="json"))
    body = json.loads(encode(envelope).value)
    body["data"]["sentiment"] = 3
    with pytest.raises(InvalidEvent, match=r"feedback\.received\.v1 data is invalid"):
        decode(json.dumps(body).encode())
