"""What people and teams send, checked field by field: email (email-validator), UK
postcode, phone (libphonenumber), a practice of this ICS (reference data)."""

import re
import uuid
from datetime import date, datetime
from typing import Annotated, Any, Self

import phonenumbers
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    model_validator,
)

from hub_shared.events import (
    AgeBand,
    Answer,
    ConsentSource,
    EthnicGroup,
    FftAnswer,
    Frequency,
    GroupKind,
    GroupRole,
    OpportunityKind,
    ServiceArea,
    Sex,
    YesNoUnsaid,
)
from hub_shared.organisations import Kind, code_pattern, describe_code, describe_practice_code, reference
from hub_shared.text import ONE_LINE, OneLine, PlainText, one_line
from hub_shared.timestamps import Timestamp

# A UK postcode: the outward code (area and district) and the inward code (sector and unit), as
# published by the ONS, or the one non-geographic exception (GIR 0AA); in any case, spaces
# around and between the two codes. The OpenAPI document carries this very pattern (JSON Schema
# has no flags: both cases are spelt out), so a postcode the contract allows is one we take.
POSTCODE = (
    r"^ *(?:[Gg][Ii][Rr] *0[Aa][Aa]"
    r"|(?:[A-PR-UWYZa-pr-uwyz][0-9][0-9A-HJKPSTUWa-hjkpstuw]?"
    r"|[A-PR-UWYZa-pr-uwyz][A-HK-Ya-hk-y][0-9][0-9ABEHMNPRVWXYabehmnprvwxy]?)"
    r" *[0-9][ABD-HJLNP-UW-Zabd-hjlnp-uw-z]{2}) *$"
)
# A UK phone number: 0 or +44 (with "(0)" if you like), then the 9 or 10 digits after the
# trunk 0, the first not 0; a space, hyphen or bracket or two between the digits as people
# write them ("(020) 7946 0000"). Every such number is one libphonenumber takes as a possible UK number.
PHONE = r"^ *(?:\+ ?44 ?(?:\(0\) ?)?|\(?0)[ ()-]{0,2}[1-9](?:[ ()-]{0,2}[0-9]){8,9} *$"


def normalise_email(value: str) -> str:
    try:
        checked = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from exc
    return checked.normalized.lower()


def normalise_postcode(value: str) -> str:
    """LS1 4AP, however it was written (ls14ap, " LS1  4AP ")."""
    if not re.fullmatch(POSTCODE, value):
        raise ValueError("Enter a real UK postcode, like LS1 4AP")
    compact = value.replace(" ", "").upper()
    return f"{compact[:-3]} {compact[-3:]}"


def normalise_phone(value: str) -> str:
    """+447700900982 (E.164), however it was written (07700 900 982, +44 (0)7700-900982)."""
    if not re.fullmatch(PHONE, value):
        raise ValueError("Enter a UK phone number, like 07700 900 982")
    return phonenumbers.format_number(phonenumbers.parse(value, "GB"), phonenumbers.PhoneNumberFormat.E164)


def phone_as_written(value: str | None) -> str:
    """A stored (E.164) number as people write it: "07700 900539" for a UK number, the
    international form ("+33 1 23 45 67 89") for another country's."""
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, "GB")
    except phonenumbers.NumberParseException:
        return value
    uk = number.country_code == 44
    style = phonenumbers.PhoneNumberFormat.NATIONAL if uk else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    return phonenumbers.format_number(number, style)


def known_practice(value: str) -> str:
    code = value.upper()
    org = reference().get(code)
    if org is None or org.kind is not Kind.PRACTICE:
        raise ValueError("Choose your GP practice from the list")
    if org.successor:
        return reference().counts_for(code)
    return code


def known_organisation(value: str) -> str:
    code = value.upper()
    if reference().get(code) is None:
        raise ValueError(f"'{code}' is not an organisation of this ICS")
    return code


def consented(value: bool) -> bool:
    if not value:
        raise ValueError("Tick the box to agree to be contacted")
    return value


def nonblank(value: str) -> str:
    value = " ".join(value.split())
    if not value:
        raise ValueError("Enter your name")
    return value


def any_case(word: str) -> str:
    return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else re.escape(c) for c in word)


# An address at a special-use domain (RFC 6761: .test, .invalid, .localhost...) reaches nobody:
# email-validator refuses it, and the contract says so.
SPECIAL_USE = f"[.@](?:{'|'.join(any_case(name) for name in SPECIAL_USE_DOMAIN_NAMES)})$"
Email = Annotated[
    str,
    Field(max_length=320, json_schema_extra={"format": "email", "not": {"pattern": SPECIAL_USE}}),
    AfterValidator(normalise_email),
]
Postcode = Annotated[
    str, Field(max_length=10, json_schema_extra={"pattern": POSTCODE}), AfterValidator(normalise_postcode)
]
Phone = Annotated[str, Field(max_length=40, json_schema_extra={"pattern": PHONE}), AfterValidator(normalise_phone)]
Practice = Annotated[str, Field(json_schema_extra=describe_practice_code), AfterValidator(known_practice)]
OrgCode = Annotated[str, Field(json_schema_extra=describe_code), AfterValidator(known_organisation)]
Name = Annotated[
    str,
    Field(min_length=1, max_length=200, json_schema_extra={"pattern": ONE_LINE}),
    AfterValidator(one_line),
    AfterValidator(nonblank),
]


def whole_number(value: Any) -> Any:
    """JSON Schema's integer is any number without a fraction (30621.0 too); a boolean or a
    string is none (``false`` is not 0)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Capacity = Annotated[StrictInt, Field(ge=1, le=100_000), BeforeValidator(whole_number)]


class Demographics(BaseModel):
    """Voluntary; each has 'prefer not to say'."""

    model_config = ConfigDict(extra="forbid")

    age_band: AgeBand | None = None
    sex: Sex | None = None
    ethnic_group: EthnicGroup | None = None
    disability: YesNoUnsaid | None = None
    carer: YesNoUnsaid | None = None


class JoinRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    email: Email
    phone: Phone | None = None
    postcode: Postcode
    practice_code: Practice
    interests: list[ServiceArea] = Field(default_factory=list, max_length=20)
    group_ids: list[uuid.UUID] = Field(default_factory=list, max_length=20, description="Groups to join")
    demographics: Demographics = Field(default_factory=Demographics)
    # Booleans and counts in bodies are strict: JSON true, not 0 or "yes"; 3, not "3" or 3.0.
    consent_to_contact: Annotated[StrictBool, AfterValidator(consented)] = Field(
        description="Must be true: the person agreed to be contacted", json_schema_extra={"const": True}
    )
    consent_wording_version: OneLine | None = Field(None, max_length=40, description="Default: the current wording")


FEEDBACK_TEXT_LIMIT = 5000  # characters, as intake takes


class EmailOnly(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email


class HearBackRequest(BaseModel):
    """An address to hear back at, and the organisation the feedback is for: the caller's own
    when it sends its bearer token, else the practice or place named here (needed where the
    hub serves several ICBs)."""

    model_config = ConfigDict(extra="forbid")

    email: Email
    organisation_code: str | None = Field(default=None, min_length=3, max_length=10, pattern=r"^[A-Za-z0-9]+$")


class FeedbackPageForm(BaseModel):
    """What a feedback page sends (``pages/feedback.py``): the Friends and Family Test answer,
    why, optional demographics (each with "prefer not to say"), and an address to hear back
    at (kept here, in membership, never sent to intake). ``form_id`` is fresh in every page
    served: a second press of the button is the same submission."""

    model_config = ConfigDict(extra="forbid")

    form_id: uuid.UUID
    fft_answer: FftAnswer
    text: PlainText | None = Field(None, max_length=FEEDBACK_TEXT_LIMIT)
    age_band: AgeBand | None = None
    sex: Sex | None = None
    ethnic_group: EthnicGroup | None = None
    hear_back: bool = False
    email: Email | None = None

    @model_validator(mode="after")
    def _address_to_hear_back_at(self) -> Self:
        if self.hear_back and self.email is None:
            raise ValueError("email: Enter your email address to hear what changes, or untick the box")
        if not self.hear_back:
            self.email = None  # given without the box ticked: not wanted, not kept
        return self


class TokenBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=10, max_length=2000)


class PreferencesUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email | None = Field(None, description="A new address takes effect once confirmed from that address")
    name: Name | None = None
    phone: Phone | None = None
    postcode: Postcode | None = None
    interests: list[ServiceArea] | None = Field(None, max_length=20)
    group_ids: list[uuid.UUID] | None = Field(None, max_length=20)
    frequency: Frequency | None = None


class ReplyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=10, max_length=2000)
    answer: Answer


class MemberPreferences(BaseModel):
    """What the member sees of themselves through their signed link."""

    member_id: uuid.UUID
    status: str
    name: str | None
    email: str | None
    phone: str | None
    postcode: str | None
    practice_code: str
    interests: list[str]
    frequency: str
    groups: list[dict[str, Any]]


class MemberPublic(BaseModel):
    """What place teams see: no name, email, phone or postcode."""

    id: uuid.UUID
    status: str
    practice_code: str
    place_code: str | None
    interests: list[str]
    frequency: str
    age_band: str | None
    sex: str | None
    ethnic_group: str | None
    disability: str | None
    carer: str | None
    consent_source: str
    consent_wording_version: str
    joined_at: datetime
    confirmed_at: datetime | None
    groups: list[dict[str, Any]] = Field(default_factory=list)


def group_shapes(schema: dict[str, Any]) -> None:
    """The rules of GroupCreate._shape, in the contract (from the reference data, when the
    document is made): which kind of organisation holds which kind of group."""

    def shape(kind: GroupKind, holder: Kind, **more: Any) -> dict[str, Any]:
        properties = {"kind": {"const": kind.value}, "organisation_code": {"pattern": code_pattern(holder)}}
        return {"properties": {**properties, **more}}

    # anyOf, not oneOf: the kinds already exclude each other, and oneOf is slow to generate.
    schema["anyOf"] = [
        shape(GroupKind.PPG, Kind.PRACTICE),
        {
            **shape(GroupKind.COPRODUCTION, Kind.PLACE, service_area={"not": {"type": "null"}}),
            "required": ["service_area"],
        },
        shape(GroupKind.PATIENT_PARTNERS, Kind.ICB),
    ]


class GroupCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=group_shapes)

    kind: GroupKind
    name: OneLine = Field(min_length=1, max_length=200)
    organisation_code: OrgCode = Field(description="A practice for a PPG, a place for a co-production group")
    service_area: ServiceArea | None = None

    @model_validator(mode="after")
    def _shape(self) -> Self:
        org = reference().get(self.organisation_code)
        assert org is not None
        if self.kind is GroupKind.PPG and org.kind is not Kind.PRACTICE:
            raise ValueError("organisation_code: a PPG belongs to a practice")
        if self.kind is GroupKind.COPRODUCTION:
            if org.kind is not Kind.PLACE:
                raise ValueError("organisation_code: a co-production group belongs to a place")
            if self.service_area is None:
                raise ValueError("service_area: a co-production group is for one service area")
        if self.kind is GroupKind.PATIENT_PARTNERS and org.kind is not Kind.ICB:
            raise ValueError("organisation_code: the Patient Partners scheme belongs to the ICB")
        return self


class GroupMemberAdd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    member_id: uuid.UUID
    role: GroupRole = GroupRole.MEMBER
    joined_on: date | None = None


class GroupMemberUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: GroupRole | None = None
    left_on: date | None = None


def given(field: str, schema: dict[str, Any]) -> dict[str, Any]:
    """JSON Schema for "the body has ``field``, and it is ``schema``"."""
    return {"required": [field], "properties": {field: schema}}


class Targeting(BaseModel):
    """Whom an opportunity invites: anyone matching any target, once."""

    # The rule of _something, in the contract: at least one target.
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "anyOf": [
                *(
                    given(name, {"minItems": 1})
                    for name in ("group_ids", "interests", "organisation_codes", "age_bands", "sexes", "ethnic_groups")
                ),
                given("under_represented_ethnic_groups", {"const": True}),
            ]
        },
    )

    group_ids: list[uuid.UUID] = Field(default_factory=list)
    interests: list[ServiceArea] = Field(default_factory=list)
    organisation_codes: list[OrgCode] = Field(default_factory=list, description="Practices or places")
    age_bands: list[AgeBand] = Field(default_factory=list, description="e.g. 16_24: people aged 16-24")
    sexes: list[Sex] = Field(default_factory=list)
    ethnic_groups: list[EthnicGroup] = Field(default_factory=list)
    under_represented_ethnic_groups: StrictBool = Field(
        False, description="Ethnic groups with the fewest members in the publisher's area (below their mean share)"
    )

    @model_validator(mode="after")
    def _something(self) -> Self:
        if not any(
            (
                self.group_ids,
                self.interests,
                self.organisation_codes,
                self.age_bands,
                self.sexes,
                self.ethnic_groups,
                self.under_represented_ethnic_groups,
            )
        ):
            raise ValueError("targeting: name at least one target")
        return self


class OpportunityCreate(BaseModel):
    # The first rule of _coherent, in the contract (the second compares two times, which JSON
    # Schema cannot): somewhere to be, or online.
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "anyOf": [given("online", {"const": True}), given("location", {"type": "string", "minLength": 1})]
        },
    )

    organisation_code: OrgCode
    kind: OpportunityKind
    title: OneLine = Field(min_length=1, max_length=200)
    description: PlainText = Field(min_length=1, max_length=5000)
    starts_at: Timestamp
    location: OneLine | None = Field(None, max_length=300)
    online: StrictBool = False
    capacity: Capacity | None = None
    closes_at: Timestamp
    targeting: Targeting

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        if not self.online and not self.location:
            raise ValueError("location: say where it is, or that it is online")
        if self.closes_at > self.starts_at:
            raise ValueError("closes_at: replies must close before it starts")
        return self


class OpportunityChange(BaseModel):
    """What to change; what is left out stays as it is. The opportunity as changed is then
    checked exactly as a new one is (``OpportunityCreate``), so the same field errors come
    back. ``capacity: null`` means no limit; ``location: null`` with ``online: true`` moves it
    online."""

    # Something to change; title, description, times and online may be left out, not cleared
    # (typed without null, so a null is a field error naming it).
    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})

    title: str = Field(None, min_length=1, max_length=200)  # type: ignore[assignment]
    description: str = Field(None, min_length=1, max_length=5000)  # type: ignore[assignment]
    starts_at: Timestamp = None  # type: ignore[assignment]
    closes_at: Timestamp = Field(None, description="Replies close (reply by)")  # type: ignore[assignment]
    location: str | None = Field(None, max_length=300)
    online: StrictBool = None  # type: ignore[assignment]
    capacity: Capacity | None = Field(None, description="null: no limit")

    @model_validator(mode="after")
    def _something(self) -> Self:
        if not self.model_fields_set:
            raise ValueError("Say what to change")
        return self


class OpportunityCancel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(
        min_length=1, max_length=1000, description="Why: shown to everyone who said yes, in the email and on the page"
    )

    @model_validator(mode="after")
    def _said(self) -> Self:
        self.reason = self.reason.strip()
        if not self.reason:
            raise ValueError("reason: say why it is cancelled")
        return self


class AttendanceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    member_ids: list[uuid.UUID] = Field(min_length=1, max_length=5000)
    attended_on: date | None = None


CONSENT_SOURCES = {s.value for s in ConsentSource}
