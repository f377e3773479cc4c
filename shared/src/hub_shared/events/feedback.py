"""Feedback events published by feedback-intake.

Readers are tolerant (unknown fields are ignored), so a version may gain optional
fields; removing or changing one needs a new version."""

from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class ServiceArea(StrEnum):
    GENERAL_PRACTICE = "general_practice"
    MUSCULOSKELETAL = "musculoskeletal"
    OPHTHALMOLOGY = "ophthalmology"
    DERMATOLOGY = "dermatology"
    MENTAL_HEALTH = "mental_health"
    MATERNITY = "maternity"
    URGENT_CARE = "urgent_care"
    COMMUNITY = "community"
    OTHER = "other"


class Channel(StrEnum):
    FFT_SMS = "fft_sms"
    FFT_ONLINE = "fft_online"
    FFT_PAPER = "fft_paper"
    FFT_TELEPHONE = "fft_telephone"
    ONLINE_COMMENT = "online_comment"
    PPG_MEETING = "ppg_meeting"
    COPRODUCTION_WORKSHOP = "coproduction_workshop"


class FftAnswer(StrEnum):
    """NHS England's six-point Friends and Family Test scale."""

    VERY_GOOD = "very_good"
    GOOD = "good"
    NEITHER = "neither_good_nor_poor"
    POOR = "poor"
    VERY_POOR = "very_poor"
    DONT_KNOW = "dont_know"


class AgeBand(StrEnum):
    UNDER_16 = "under_16"
    AGE_16_24 = "16_24"
    AGE_25_34 = "25_34"
    AGE_35_44 = "35_44"
    AGE_45_54 = "45_54"
    AGE_55_64 = "55_64"
    AGE_65_74 = "65_74"
    AGE_75_84 = "75_84"
    AGE_85_PLUS = "85_plus"
    PREFER_NOT_TO_SAY = "prefer_not_to_say"


class Sex(StrEnum):
    """The ONS 2021 Census sex question."""

    FEMALE = "female"
    MALE = "male"
    PREFER_NOT_TO_SAY = "prefer_not_to_say"


class EthnicGroup(StrEnum):
    """The 19 ethnic groups of the ONS 2021 Census harmonised standard for England, in its
    order (5 headings), and "prefer not to say" for a voluntary question. The values are
    what events carry and stores keep; ``label`` is what people read."""

    WHITE_BRITISH = "white_british"
    WHITE_IRISH = "white_irish"
    WHITE_GYPSY_OR_IRISH_TRAVELLER = "white_gypsy_or_irish_traveller"
    WHITE_ROMA = "white_roma"
    WHITE_OTHER = "white_other"
    MIXED_WHITE_AND_BLACK_CARIBBEAN = "mixed_white_and_black_caribbean"
    MIXED_WHITE_AND_BLACK_AFRICAN = "mixed_white_and_black_african"
    MIXED_WHITE_AND_ASIAN = "mixed_white_and_asian"
    MIXED_OTHER = "mixed_other"
    ASIAN_INDIAN = "asian_indian"
    ASIAN_PAKISTANI = "asian_pakistani"
    ASIAN_BANGLADESHI = "asian_bangladeshi"
    ASIAN_CHINESE = "asian_chinese"
    ASIAN_OTHER = "asian_other"
    BLACK_CARIBBEAN = "black_caribbean"
    BLACK_AFRICAN = "black_african"
    BLACK_OTHER = "black_other"
    OTHER_ARAB = "other_arab"
    OTHER_ANY = "other_any"
    PREFER_NOT_TO_SAY = "prefer_not_to_say"

    @property
    def label(self) -> str:
        return ETHNIC_GROUP_LABELS[self]


_WHITE = "White"
_MIXED = "Mixed or Multiple ethnic groups"
_ASIAN = "Asian or Asian British"
_BLACK = "Black, Black British, Caribbean or African"
_OTHER = "Other ethnic group"
# The standard's words exactly, heading then category ("Asian or Asian British: Bangladeshi").
ETHNIC_GROUP_LABELS: dict[EthnicGroup, str] = {
    EthnicGroup.WHITE_BRITISH: f"{_WHITE}: English, Welsh, Scottish, Northern Irish or British",
    EthnicGroup.WHITE_IRISH: f"{_WHITE}: Irish",
    EthnicGroup.WHITE_GYPSY_OR_IRISH_TRAVELLER: f"{_WHITE}: Gypsy or Irish Traveller",
    EthnicGroup.WHITE_ROMA: f"{_WHITE}: Roma",
    EthnicGroup.WHITE_OTHER: f"{_WHITE}: Any other White background",
    EthnicGroup.MIXED_WHITE_AND_BLACK_CARIBBEAN: f"{_MIXED}: White and Black Caribbean",
    EthnicGroup.MIXED_WHITE_AND_BLACK_AFRICAN: f"{_MIXED}: White and Black African",
    EthnicGroup.MIXED_WHITE_AND_ASIAN: f"{_MIXED}: White and Asian",
    EthnicGroup.MIXED_OTHER: f"{_MIXED}: Any other Mixed or Multiple ethnic background",
    EthnicGroup.ASIAN_INDIAN: f"{_ASIAN}: Indian",
    EthnicGroup.ASIAN_PAKISTANI: f"{_ASIAN}: Pakistani",
    EthnicGroup.ASIAN_BANGLADESHI: f"{_ASIAN}: Bangladeshi",
    EthnicGroup.ASIAN_CHINESE: f"{_ASIAN}: Chinese",
    EthnicGroup.ASIAN_OTHER: f"{_ASIAN}: Any other Asian background",
    EthnicGroup.BLACK_CARIBBEAN: f"{_BLACK}: Caribbean",
    EthnicGroup.BLACK_AFRICAN: f"{_BLACK}: African",
    EthnicGroup.BLACK_OTHER: f"{_BLACK}: Any other Black, Black British, or Caribbean background",
    EthnicGroup.OTHER_ARAB: f"{_OTHER}: Arab",
    EthnicGroup.OTHER_ANY: f"{_OTHER}: Any other ethnic group",
    EthnicGroup.PREFER_NOT_TO_SAY: "Prefer not to say",
}


class Demographics(BaseModel):
    """Voluntary, as the person gave them at the time."""

    model_config = ConfigDict(extra="forbid")

    age_band: AgeBand | None = None
    sex: Sex | None = None
    ethnic_group: EthnicGroup | None = None
    postcode_district: str | None = Field(None, pattern=r"^[A-Z]{1,2}[0-9][A-Z0-9]?$", description="e.g. LS6, M1, SW1A")


class TriageFlag(StrEnum):
    RISK_OF_HARM = "risk_of_harm"
    COMPLAINT = "complaint"


class ReviewDecision(StrEnum):
    CLEARED = "cleared"  # nothing to act on: the text may be shown
    SAFEGUARDING_REFERRAL = "safeguarding_referral"
    COMPLAINT_REFERRAL = "complaint_referral"
    WITHHELD = "withheld"  # acted on or not, the text must never be shown


class ResponseStatus(StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    NOT_POSSIBLE = "not_possible"


class _Event(BaseModel):
    model_config = ConfigDict(extra="ignore")


class FeedbackReceivedV1(_Event):
    """A feedback submission was accepted and stored. Its free text is already scrubbed;
    text flagged for review must stay out of free-text views until a review clears it."""

    event_type: ClassVar[str] = "feedback.received.v1"

    submission_id: UUID
    organisation_code: str
    service_area: ServiceArea
    channel: Channel
    fft_answer: FftAnswer | None = None
    text: str | None = None
    occurred_at: datetime
    received_at: datetime
    counts_for: str | None = Field(None, description="Where the figures belong: a merged practice's successor")
    place_code: str | None = None
    submitted_by: str | None = None
    demographics: Demographics | None = None
    redactions: dict[str, int] = Field(default_factory=dict, description="Personal data removed, by kind")
    triage_flags: list[TriageFlag] = Field(default_factory=list)
    review_required: bool = False
    sentiment: float | None = Field(None, ge=-1, le=1, description="VADER compound score of the text")
    themes: list[str] = Field(default_factory=list, description="Themes of the text, by themes_version")
    themes_version: str | None = Field(None, description="The taxonomy the themes come from, e.g. themes-v1")


class FeedbackReviewedV1(_Event):
    """A reviewer decided what happens to a flagged submission."""

    event_type: ClassVar[str] = "feedback.reviewed.v1"

    submission_id: UUID
    organisation_code: str
    decision: ReviewDecision
    reviewed_by: str
    reviewed_at: datetime


class FftMonthlyReturnV1(_Event):
    """A practice's monthly FFT return: counts, not individual submissions."""

    event_type: ClassVar[str] = "feedback.fft_return.v1"

    return_id: UUID
    organisation_code: str
    counts_for: str
    place_code: str | None = None
    period: str = Field(pattern=r"^\d{4}-\d{2}$")
    answers: dict[FftAnswer, int]
    modes: dict[str, int]
    received_at: datetime


class FeedbackRespondedV1(_Event):
    """A place published what it did about feedback ("you said, we did")."""

    event_type: ClassVar[str] = "feedback.responded.v1"

    response_id: UUID
    organisation_code: str
    theme: str | None = None
    submission_ids: list[UUID] = Field(default_factory=list)
    you_said: str
    we_did: str
    status: ResponseStatus
    status_reason: str | None = None
    evidence_url: str | None = None
    earliest_feedback_at: datetime | None = None
    responded_at: datetime
    change_due: date | None = None
    changed_at: date | None = None
    notify_member_ids: list[UUID] = Field(default_factory=list, description="Contributors who asked to hear back")
    notify_contact_tokens: list[str] = Field(default_factory=list)
    service_areas: list[ServiceArea] = Field(
        default_factory=list, description="Service areas of the feedback responded to (who else may want to hear)"
    )


class FeedbackRejectedV1(_Event):
    """A submission from the Kafka ingress failed validation: what and why."""

    event_type: ClassVar[str] = "feedback.rejected.v1"

    source_event_id: str | None = None
    submitted_by: str | None = None
    client_reference: str | None = None
    errors: list[dict[str, str]]
    rejected_at: datetime


class FeedbackSubmittedV1(_Event):
    """A raw submission a place's own system puts on the ingress topic; intake validates it."""

    event_type: ClassVar[str] = "feedback.submitted.v1"
    model_config = ConfigDict(extra="allow")  # validated field by field by intake


class MemberErasedV1(_Event):
    """membership: a patient partner asked to be forgotten; every service drops its links."""

    event_type: ClassVar[str] = "member.erased.v1"

    member_id: UUID
    erased_at: datetime


class ReportPublishedV1(_Event):
    """reporting: a closed month's figures for downstream consumers. Only disclosure-
    controlled figures: any count of 1 to 4 people, and whatever would reveal one, is "*"."""

    event_type: ClassVar[str] = "report.published.v1"

    month: str = Field(pattern=r"^\d{4}-\d{2}$")
    published_at: datetime
    formulae: dict[str, str]
    fft: list[dict[str, Any]]
    themes: list[dict[str, Any]]
