"""Membership events published by membership.

Two kinds of record, on two topics:

* ``membership.events`` carries ids and demographic bands only: never a name, email
  address, phone number or postcode. Every service may read it.
* ``membership.contacts`` (log-compacted, keyed by member id or hear-back contact token)
  carries ``member.contact.v2``: the contact card notification needs, with the message
  membership asks it to send (links included), sealed with the person's own key
  (``hub_shared.sealing``). Erasure destroys the key, so every card of the person on any
  topic, dead letter or copy is unreadable at once; the tombstone written for the key lets
  compaction remove them later. Only membership and notification read it.

Readers are tolerant (unknown fields are ignored); a breaking change is a new version."""

from datetime import date, datetime
from enum import StrEnum
from typing import ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from hub_shared.events.feedback import AgeBand, EthnicGroup, ServiceArea, Sex


class YesNoUnsaid(StrEnum):
    YES = "yes"
    NO = "no"
    PREFER_NOT_TO_SAY = "prefer_not_to_say"


class Frequency(StrEnum):
    AS_IT_HAPPENS = "as_it_happens"
    DAILY = "daily"
    WEEKLY = "weekly"
    NEVER = "never"


class ConsentSource(StrEnum):
    WEB_FORM = "web_form"
    API = "api"
    PAPER = "paper"
    CSV_IMPORT = "csv_import"


class GroupKind(StrEnum):
    PPG = "ppg"  # Patient Participation Group of one practice
    COPRODUCTION = "coproduction"  # a place's co-production group for one service area
    PATIENT_PARTNERS = "patient_partners"  # the ICS-wide Patient Partners scheme


class GroupRole(StrEnum):
    MEMBER = "member"
    CHAIR = "chair"
    CLINICIAN = "clinician"
    STAFF = "staff"


class OpportunityKind(StrEnum):
    WORKSHOP = "workshop"
    SEMINAR = "seminar"
    SURVEY = "survey"
    COPRODUCTION_SESSION = "coproduction_session"
    GROUP_VACANCY = "group_vacancy"


class Answer(StrEnum):
    YES = "yes"
    NO = "no"
    MAYBE = "maybe"


class Place(StrEnum):
    """Where a 'yes' stands: a place was free, or the person waits for one."""

    BOOKED = "booked"
    WAITING_LIST = "waiting_list"


class Bands(BaseModel):
    """Voluntary demographic bands, never anything that identifies a person."""

    model_config = ConfigDict(extra="ignore")

    age_band: AgeBand | None = None
    sex: Sex | None = None
    ethnic_group: EthnicGroup | None = None
    disability: YesNoUnsaid | None = None
    carer: YesNoUnsaid | None = None


class _Event(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _MemberFacts(_Event):
    member_id: UUID
    practice_code: str | None = None
    place_code: str | None = None
    bands: Bands = Field(default_factory=Bands)


class MemberJoinedV1(_MemberFacts):
    """Someone asked to join; they stay pending until they confirm their email."""

    event_type: ClassVar[str] = "member.joined.v1"

    interests: list[ServiceArea] = Field(default_factory=list)
    consent_source: ConsentSource
    consent_wording_version: str
    joined_at: datetime


class MemberConfirmedV1(_MemberFacts):
    """The member followed their confirmation link: they may be contacted now."""

    event_type: ClassVar[str] = "member.confirmed.v1"

    confirmed_at: datetime


class MemberPreferencesChangedV1(_MemberFacts):
    event_type: ClassVar[str] = "member.preferences_changed.v1"

    interests: list[ServiceArea] = Field(default_factory=list)
    frequency: Frequency
    changed_at: datetime


class MemberLeftV1(_MemberFacts):
    """All contact stopped; only anonymous statistics remain."""

    event_type: ClassVar[str] = "member.left.v1"

    left_at: datetime


class GroupMembershipChangedV1(_MemberFacts):
    """A member joined or left a group, or their role in it changed. ``left_on`` set = left."""

    event_type: ClassVar[str] = "member.group_membership_changed.v1"

    group_id: UUID
    group_kind: GroupKind
    group_organisation_code: str
    role: GroupRole
    joined_on: date
    left_on: date | None = None


class _OpportunityDetails(_Event):
    """An opportunity's details as they are when it is published or changed."""

    opportunity_id: UUID
    organisation_code: str
    place_code: str | None = None
    kind: OpportunityKind
    title: str
    starts_at: datetime
    closes_at: datetime
    online: bool
    location: str | None = Field(None, description="Where it is held, unless online")
    capacity: int | None = None


class OpportunityPublishedV1(_OpportunityDetails):
    event_type: ClassVar[str] = "opportunity.published.v1"

    invited: int
    published_at: datetime


class OpportunityChangedV1(_OpportunityDetails):
    """The publisher changed an opportunity's details: every detail as it is now, the
    fields that changed, and the opportunity's version (1 when published, one more for each
    change or the cancellation), so a reader keeps only the newest. Those who said yes are
    told by email (``opportunity_changed``); a smaller capacity moves the latest booked to
    the waiting list and a larger one books the longest waiting (``invitation.answered.v1``
    for each)."""

    event_type: ClassVar[str] = "opportunity.changed.v1"

    changed: list[str] = Field(
        description="What changed: title, description, starts_at, closes_at, location, online, capacity"
    )
    version: int
    changed_at: datetime


class OpportunityCancelledV1(_Event):
    """The publisher cancelled an opportunity: it takes no more replies, and those who said
    yes (booked or waiting) are told by email with the reason (``opportunity_cancelled``).
    Invitations and replies stay as they were, for the record."""

    event_type: ClassVar[str] = "opportunity.cancelled.v1"

    opportunity_id: UUID
    organisation_code: str
    reason: str = Field(description="Shown to those who had said yes")
    version: int
    cancelled_at: datetime


class InvitationIssuedV1(_MemberFacts):
    """One per person per opportunity, however many of its targets they match."""

    event_type: ClassVar[str] = "invitation.issued.v1"

    invitation_id: UUID
    opportunity_id: UUID
    organisation_code: str
    issued_at: datetime


class InvitationAnsweredV1(_MemberFacts):
    event_type: ClassVar[str] = "invitation.answered.v1"

    invitation_id: UUID
    opportunity_id: UUID
    organisation_code: str
    answer: Answer
    place: Place | None = None
    answered_at: datetime
    moved: bool = Field(
        False,
        description="True when the hub moved the place (a place given up, the capacity changed), not a new reply",
    )


class AttendanceRecordedV1(_MemberFacts):
    """The member attended; ``bands`` are theirs as they were at that time."""

    event_type: ClassVar[str] = "attendance.recorded.v1"

    invitation_id: UUID | None = None
    opportunity_id: UUID
    organisation_code: str
    attended_on: date
    recorded_at: datetime


class UpdateDueV1(_Event):
    """A published 'you said, we did' response that this person should hear about: one
    event per person (a member, or a hear-back contact token)."""

    event_type: ClassVar[str] = "member.update_due.v1"

    response_id: UUID
    organisation_code: str
    member_id: UUID | None = None
    contact_token: str | None = None
    reason: str = Field(description="contributor or group_interest")
    due_at: datetime


class MessageKind(StrEnum):
    CONFIRM_JOIN = "confirm_join"
    WELCOME_IMPORTED = "welcome_imported"
    ALREADY_MEMBER = "already_member"
    FRESH_LINK = "fresh_link"
    CONFIRM_HEAR_BACK = "confirm_hear_back"
    CONFIRM_NEW_EMAIL = "confirm_new_email"
    INVITATION = "invitation"
    PLACE_OFFERED = "place_offered"
    UPDATE_DUE = "update_due"
    LEFT = "left"
    OPPORTUNITY_CHANGED = "opportunity_changed"
    OPPORTUNITY_CANCELLED = "opportunity_cancelled"


class ContactMessage(BaseModel):
    """What membership asks notification to send, with every link the email needs."""

    model_config = ConfigDict(extra="ignore")

    kind: MessageKind
    to: str | None = Field(None, description="Send to this address instead of the card's (a new one to confirm)")
    reference: str | None = Field(None, description="The invitation, response or opportunity it is about")
    links: dict[str, str] = Field(default_factory=dict)


class ContactDetails(BaseModel):
    """What a contact card carries, sealed: whom to write to and what to send."""

    model_config = ConfigDict(extra="ignore")

    name: str | None = None
    email: str
    phone: str | None = None
    frequency: Frequency = Frequency.AS_IT_HAPPENS
    contactable: bool = True
    message: ContactMessage | None = None


class MemberContactV2(_Event):
    """Compacted ``membership.contacts`` topic only: the contact card of a member (or of a
    hear-back contact, keyed by its token), latest value wins; a null value is erasure.
    ``sealed`` is the card's ``ContactDetails`` sealed with the person's key, which only
    membership holds (and hands to notification): ids are all anyone else can read, and
    nobody, once the person is erased. v1 carried the details in clear."""

    event_type: ClassVar[str] = "member.contact.v2"

    member_id: UUID | None = None
    contact_token: str | None = None
    sealed: str = Field(description="ContactDetails as JSON, AES-256-GCM under the person's key (base64url)")
