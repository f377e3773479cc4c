"""Request and response models of reporting's API: what each endpoint takes and returns, for
the OpenAPI document (and clients generated from it). A count is a whole number or "*"
(withheld); a percentage a whole number, "*" or null (no responses)."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Star = Literal["*"]
Count = int | Star
Percent = int | Star | None
MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"


class AuditSummary(BaseModel):
    starred_counts: int = Field(description="Starred counts the disclosure audit checked")
    recoverable: int = Field(description="Starred counts anyone could work out exactly (always 0 when published)")


class FftAnswers(BaseModel):
    very_good: Count
    good: Count
    neither_good_nor_poor: Count
    poor: Count
    very_poor: Count
    dont_know: Count


class FftModes(BaseModel):
    sms: Count
    online: Count
    paper: Count
    telephone: Count
    other: Count


class FftRowPublic(BaseModel):
    organisation_code: str
    name: str
    kind: str | None
    parent: str | None
    total: int = Field(description="Total Responses: always shown, as NHS England does")
    answers: FftAnswers
    modes: FftModes = Field(description="Collection modes (answers whose mode was not recorded are in none)")
    pct_positive: Percent
    pct_negative: Percent
    pct_positive_excl_dont_know: Percent
    pct_negative_excl_dont_know: Percent
    suppression: Literal["first-level", "second-level", "cascade"] | None = Field(
        description="Why NHS England's rules suppress this row, if they do"
    )
    extra_suppression: list[str] = Field(description="Cells starred beyond NHS England's rules by the disclosure audit")


class FftReportPublic(BaseModel):
    organisation_code: str
    month: str | None
    service_area: str | None
    rule_set: str = Field(description="The publication rule set applied: nhse-fft-v1")
    suppression: str
    formulae: dict[str, str]
    extra_suppression: list[str] = Field(description="row:column of every cell starred beyond NHS England's rules")
    audit: AuditSummary
    rows: list[FftRowPublic]


class TrendPointPublic(BaseModel):
    month: str
    total: int
    pct_positive: Percent
    suppressed: bool = Field(description="1 to 4 responses: the percentage is withheld (first level)")


class ThemePublic(BaseModel):
    theme: str
    mentions: Count
    mean_sentiment: float | Star | None


class ThemeReportPublic(BaseModel):
    organisation_code: str
    month: str | None
    taxonomy: str
    rule_set: str
    audit: AuditSummary
    themes: list[ThemePublic]
    trend: list[dict[str, int | str]] = Field(description="Per month: month, mentions, and each theme's mentions")


class CommentPublic(BaseModel):
    organisation_code: str
    month: str
    service_area: str
    text: str | None
    sentiment: float | None
    themes: list[str]


class YouSaidWeDid(BaseModel):
    model_config = ConfigDict(extra="allow")

    themes_raised: int
    themes_with_published_response: int
    share_of_themes_answered: float | None
    responses: int
    median_days_to_response: float | None
    median_days_to_change: float | None


class SurveyInvolvementPublic(BaseModel):
    """Involvement as patients report it in the GP Patient Survey."""

    source: str
    year: str
    question: str | None
    measure: str
    base: int = Field(description="How many answered the question, across the practices")
    practices_with_results: int
    practices_suppressed: int = Field(description="Practices whose result the survey suppressed (too few answers)")
    flag: str | None = Field(description="The survey's flag for a small base: suppressed below 10, caution below 100")
    share: float | None = Field(description="Weighted share answering 'yes, definitely' or 'yes, to some extent'")
    confidence_interval: list[float] | None = Field(description="The share's 95% confidence interval")
    practices: int
    weighting: str


class ScorecardPublic(BaseModel):
    """The involvement scorecard; measures from other services are added as they arrive."""

    model_config = ConfigDict(extra="allow")

    organisation_code: str
    rule_set: str
    audit: AuditSummary
    feedback_volume: Count
    individual_submissions: Count
    fft_return_responses: Count
    registered_patients: int = Field(description="The base of the rate: patients registered at its practices")
    registered_population_month: str | None = Field(
        description="The month of NHS England's 'Patients Registered at a GP Practice' the base is of (YYYY-MM)"
    )
    rate_per_1000_registered: float | Star | None
    involvement_reported_by_patients: "SurveyInvolvementPublic | None" = Field(
        description="The GP Patient Survey's involvement figure, once a survey year is imported"
    )
    channels: dict[str, Count]
    involvement_channels_used: list[str]
    you_said_we_did: YouSaidWeDid
    pending_measures: dict[str, str] = Field(default_factory=dict)


class SnapshotPublic(BaseModel):
    month: str
    published_at: datetime
    organisation_code: str
    rows: int
    rule_set: str


class FeedbackVolumePublic(BaseModel):
    organisation_code: str
    received: int | str
    organisations_included: list[str]


class SnapshotCreate(BaseModel):
    month: str = Field(pattern=MONTH, description="A closed month, YYYY-MM")


Shown = int | str  # a count, or "*" where disclosure control withholds it


class Outcomes(BaseModel):
    sent: Shown
    delivered: Shown
    failed: Shown
    unknown: Shown


class OpportunityOutcomes(Outcomes):
    opportunity_id: str


class ResponseReach(BaseModel):
    response_id: str
    reached: Shown


class NotificationMeasuresPublic(BaseModel):
    """Emails sent for an organisation and those under it, disclosure-controlled."""

    organisation_code: str
    invitations: Outcomes
    invitations_by_opportunity: list[OpportunityOutcomes]
    updates_reached_contributors: Shown
    updates_by_response: list[ResponseReach]
    definitions: dict[str, str]
