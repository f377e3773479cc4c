"""Postcodes and phone numbers: the OpenAPI document states the very pattern the code checks,
so a value the contract allows is one membership takes (and stores in one form), and one it
refuses is refused with the field's own message."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from membership.schemas import (
    PHONE,
    POSTCODE,
    SPECIAL_USE,
    Capacity,
    Email,
    OpportunityChange,
    OpportunityCreate,
    Phone,
    Postcode,
)

POSTCODES = TypeAdapter(Postcode)
PHONES = TypeAdapter(Phone)


def allowed(pattern: str, max_length: int) -> st.SearchStrategy[str]:
    """What a client may send by the contract: the pattern, matched whole (as JSON Schema does),
    within the field's maximum length."""
    return st.from_regex(pattern, fullmatch=True).filter(lambda s: len(s) <= max_length)


@settings(max_examples=100, deadline=None)
@given(allowed(POSTCODE, 10))
def test_every_postcode_the_contract_allows_is_taken_in_one_form(value: str) -> None:
    stored = POSTCODES.validate_python(value)
    assert re.fullmatch(r"[A-Z0-9]{2,4} [0-9][A-Z]{2}", stored), (value, stored)
    assert stored.replace(" ", "") == value.replace(" ", "").upper()


@settings(max_examples=100, deadline=None)
@given(allowed(PHONE, 40))
def test_every_phone_number_the_contract_allows_is_taken_as_a_uk_number(value: str) -> None:
    stored = PHONES.validate_python(value)
    national = re.sub(r"[^0-9]", "", value.split("44", 1)[1] if "+" in value else value).removeprefix("0")
    assert stored == f"+44{national}", (value, stored)
    assert re.fullmatch(r"\+44[1-9][0-9]{8,9}", stored)


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        ("LS1 4AP", "LS1 4AP"),
        ("ls14ap", "LS1 4AP"),
        (" EC1A 1BB ", "EC1A 1BB"),
        ("W1A  0AX", "W1A 0AX"),
        ("gir0aa", "GIR 0AA"),
    ],
)
def test_a_postcode_is_taken_however_it_is_written(value: str, stored: str) -> None:
    assert re.fullmatch(POSTCODE, value)
    assert POSTCODES.validate_python(value) == stored


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        ("07700 900982", "+447700900982"),
        ("+44 (0)7700-900982", "+447700900982"),
        ("(020) 7946 0000", "+442079460000"),
        ("016977 4567", "+44169774567"),
    ],
)
def test_a_phone_number_is_taken_however_it_is_written(value: str, stored: str) -> None:
    assert re.fullmatch(PHONE, value)
    assert PHONES.validate_python(value) == stored


@pytest.mark.parametrize(
    ("adapter", "pattern", "value", "message"),
    [
        (POSTCODES, POSTCODE, "XX1", "Enter a real UK postcode"),
        (POSTCODES, POSTCODE, "LS1 4AP\n", "Enter a real UK postcode"),
        (POSTCODES, POSTCODE, "LS1\t4AP", "Enter a real UK postcode"),
        (POSTCODES, POSTCODE, "QS1 4AP", "Enter a real UK postcode"),
        (POSTCODES, POSTCODE, "\u0131s1 4ap", "Enter a real UK postcode"),  # a dotless i upper-cases to I
        (PHONES, PHONE, "1234", "Enter a UK phone number"),  # libphonenumber alone took it as +441234
        (PHONES, PHONE, "12", "Enter a UK phone number"),
        (PHONES, PHONE, "+33 1 23 45 67 89", "Enter a UK phone number"),
        (PHONES, PHONE, "0044 7700 900982", "Enter a UK phone number"),
        (PHONES, PHONE, "07700 900982 ext. 2", "Enter a UK phone number"),
        (PHONES, PHONE, "07700 900982\n", "Enter a UK phone number"),
    ],
)
def test_what_the_contract_refuses_is_refused_with_the_fields_message(
    adapter: TypeAdapter[str], pattern: str, value: str, message: str
) -> None:
    assert not re.fullmatch(pattern, value)
    with pytest.raises(ValidationError, match=message):
        adapter.validate_python(value)


async def test_the_openapi_document_states_the_patterns(client) -> None:  # type: ignore[no-untyped-def]
    document = (await client.get("/openapi.json")).json()
    schemas = document["components"]["schemas"]
    joining, update = schemas["JoinRequest"]["properties"], schemas["PreferencesUpdate"]["properties"]
    assert joining["postcode"]["pattern"] == POSTCODE
    assert [s.get("pattern") for s in update["postcode"]["anyOf"]] == [POSTCODE, None]
    for phone in (joining["phone"], update["phone"]):
        assert [s.get("pattern") for s in phone["anyOf"]] == [PHONE, None]


@pytest.mark.parametrize("address", ["ada@example.test", "ada@mail.LOCALHOST", "ada@x.invalid", "ada@host.onion"])
def test_an_address_at_a_special_use_domain_is_refused_as_the_contract_says(address: str) -> None:
    assert re.search(SPECIAL_USE, address)
    with pytest.raises(ValidationError, match="special-use or reserved name"):
        TypeAdapter(Email).validate_python(address)
    assert TypeAdapter(Email).validate_python("ada@example.org") == "ada@example.org"
    assert not re.search(SPECIAL_USE, "ada@testing.org")


def test_a_capacity_is_any_whole_number_json_schema_calls_an_integer_but_never_a_boolean() -> None:
    capacity = TypeAdapter(Capacity)
    assert capacity.validate_json("30621.0") == 30621 and capacity.validate_json("12") == 12
    for refused in ("false", "true", '"12"', "12.5", "0", "100001"):
        with pytest.raises(ValidationError):
            capacity.validate_json(refused)


def test_the_contract_states_the_capacity_it_takes() -> None:
    for model in (OpportunityCreate, OpportunityChange):
        stated = model.model_json_schema()["properties"]["capacity"]["anyOf"][0]
        assert stated == {"type": "integer", "minimum": 1, "maximum": 100_000}, model
