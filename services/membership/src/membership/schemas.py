"""What people and teams send, checked field by field: email (email-validator), UK
postcode, phone (libphonenumber), a practice of this ICS (reference data)."""

import re
import uuid
from datetime import date, datetime
from typing import Annotated, Any, Self

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, model_validator

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
from hub_shared.organisations import Kind, reference
from hub_shared.text import ONE_LINE, OneLine, PlainText, one_line

# The outward code (area and district) and inward code (sector and unit) of a UK postcode,
# as published by the ONS, plus the one non-geographic exception (GIR 0AA).
POSTCODE = re.compile(
    r"^(GIR ?0AA|[A-PR-UWYZ][0-9][0-9A-HJKPSTUW]?|[A-PR-UWYZ][A-HK-Y][0-9][0-9ABEHMNPRVWXY]?)"
    r" ?([0-9][ABD-HJLNP-UW-Z]{2})$"
)


def normalise_email(value: str) -> str:
    try:
        checked = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from exc
    return checked.normalized.lower()


def normalise_postcode(value: str) -> str:
    compact = re.sub(r"\s+", "", value.upper())
    if not POSTCODE.match(compact):
        raise ValueError("Enter a real UK postcode, like LS1 4AP")
    return f"{compact[:-3]} {compact[-3:]}"


def normalise_phone(value: str) -> str:
    try:
        number = phonenumbers.parse(value, "GB")
    except phonenumbers.NumberParseException as exc:
        raise ValueError("Enter a UK phone number, like 07700 900 982") from exc
    if not phonenumbers.is_possible_number(number):
        raise ValueError("Enter a UK phone number, like 07700 900 982")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


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
    code = value.strip().upper()
    org = reference().get(code)
    if org is None or org.kind is not Kind.PRACTICE:
        raise ValueError("Choose your GP practice from the list")
    if org.successor:
        return reference().counts_for(code)
    return code


def known_organisation(value: str) -> str:
    code = value.strip().upper()
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


Email = Annotated[str, Field(max_length=320), AfterValidator(normalise_email)]
Postcode = Annotated[str, Field(max_length=10), AfterValidator(normalise_postcode)]
Phone = Annotated[str, Field(max_length=40), AfterValidator(normalise_phone)]
Practice = Annotated[str, Field(max_length=10), AfterValidator(known_practice)]
OrgCode = Annotated[str, Field(max_length=10), AfterValidator(known_organisation)]
Name = Annotated[
    str,
    Field(min_length=1, max_length=200, json_schema_extra={"pattern": ONE_LINE}),
    AfterValidator(one_line),
    AfterValidator(nonblank),
]


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
    consent_to_contact: Annotated[bool, AfterValidator(consented)] = Field(
        description="Must be true: the person agreed to be contacted"
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


class GroupCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

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


class Targeting(BaseModel):
    """Whom an opportunity invites: anyone matching any target, once."""

    model_config = ConfigDict(extra="forbid")

    group_ids: list[uuid.UUID] = Field(default_factory=list)
    interests: list[ServiceArea] = Field(default_factory=list)
    organisation_codes: list[OrgCode] = Field(default_factory=list, description="Practices or places")
    age_bands: list[AgeBand] = Field(default_factory=list, description="e.g. 16_24: people aged 16-24")
    sexes: list[Sex] = Field(default_factory=list)
    ethnic_groups: list[EthnicGroup] = Field(default_factory=list)
    under_represented_ethnic_groups: bool = Field(
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
    model_config = ConfigDict(extra="forbid")

    organisation_code: OrgCode
    kind: OpportunityKind
    title: OneLine = Field(min_length=1, max_length=200)
    description: PlainText = Field(min_length=1, max_length=5000)
    starts_at: AwareDatetime
    location: OneLine | None = Field(None, max_length=300)
    online: bool = False
    capacity: int | None = Field(None, ge=1, le=100_000)
    closes_at: AwareDatetime
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

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, min_length=1, max_length=5000)
    starts_at: AwareDatetime | None = None
    closes_at: AwareDatetime | None = Field(None, description="Replies close (reply by)")
    location: str | None = Field(None, max_length=300)
    online: bool | None = None
    capacity: int | None = Field(None, ge=1, le=100_000, description="null: no limit")

    @model_validator(mode="after")
    def _something(self) -> Self:
        if not self.model_fields_set:
            raise ValueError("Say what to change")
        for name in ("title", "description", "starts_at", "closes_at", "online"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name}: cannot be empty")
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
