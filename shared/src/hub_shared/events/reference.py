"""Reference data events: the organisations of an ICB as NHS ODS publishes them, imported by
an operator (``hub reference import``) and applied by every process of every service.

One event per ICB, keyed by the ICB's code on the compacted ``reference.organisations``
topic: the latest event of each ICB is the whole of that ICB (a snapshot, never a delta), so
applying it twice changes nothing and a process that starts reads the topic to its end."""

from datetime import date, datetime
from enum import StrEnum
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from hub_shared.events.feedback import AgeBand, Sex


class OrganisationKind(StrEnum):
    ICB = "icb"
    PLACE = "place"  # an ODS sub-ICB location (formerly a CCG)
    PRACTICE = "practice"


class OrganisationRecord(BaseModel):
    """One organisation of the hierarchy."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    code: str = Field(min_length=3, max_length=10, pattern=r"^[A-Z0-9]+$", description="ODS code")
    name: str = Field(min_length=1, max_length=200)
    kind: OrganisationKind
    parent: str | None = Field(None, description="The sub-ICB location of a practice, the ICB of a place")
    successor: str | None = Field(None, description="The organisation a merged one's figures now count for")
    opened_on: date | None = None
    closed_on: date | None = Field(None, description="Closed organisations stay, with their history")


class OrganisationsPublishedV1(BaseModel):
    """The whole hierarchy of one ICB: the ICB, its places (sub-ICB locations) and their
    practices, open and closed."""

    model_config = ConfigDict(extra="ignore")
    event_type: ClassVar[str] = "reference.organisations_published.v1"

    icb_code: str = Field(pattern=r"^[A-Z0-9]{3,10}$")
    organisations: list[OrganisationRecord] = Field(min_length=1)
    sources: list[str] = Field(default_factory=list, description="The published files it was read from")
    published_at: datetime


class RegisteredPatients(BaseModel):
    """Patients registered at one practice in one of the hub's age bands, by sex."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    practice_code: str = Field(pattern=r"^[A-Z0-9]{3,10}$")
    age_band: AgeBand
    sex: Sex
    patients: int = Field(ge=0)


class RegisteredPopulationPublishedV1(BaseModel):
    """One month's registered population of one ICB's practices, from NHS England's
    "Patients Registered at a GP Practice" (the month of its extract date); a snapshot of
    that ICB and month, replacing any earlier one."""

    model_config = ConfigDict(extra="ignore")
    event_type: ClassVar[str] = "reference.registered_population_published.v1"

    icb_code: str = Field(pattern=r"^[A-Z0-9]{3,10}$")
    month: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    counts: list[RegisteredPatients] = Field(min_length=1)
    sources: list[str] = Field(default_factory=list)
    published_at: datetime


class SurveyResult(BaseModel):
    """One practice's result for the question: the weighted share answering positively and
    its 95% confidence interval (proportions; none where the survey suppressed them), and
    how many answered."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    practice_code: str = Field(pattern=r"^[A-Z0-9]{3,10}$")
    base: int = Field(ge=0)
    share: float | None = Field(None, ge=0, le=1)
    lower: float | None = Field(None, ge=0, le=1)
    upper: float | None = Field(None, ge=0, le=1)


class GpPatientSurveyPublishedV1(BaseModel):
    """One year's GP Patient Survey results for one question, for one ICB's practices; a
    snapshot of that ICB and year, replacing any earlier one."""

    model_config = ConfigDict(extra="ignore")
    event_type: ClassVar[str] = "reference.gp_patient_survey_published.v1"

    icb_code: str = Field(pattern=r"^[A-Z0-9]{3,10}$")
    year: str = Field(pattern=r"^\d{4}$", description="The survey's year of publication")
    question: str = Field(min_length=1, max_length=20, description="The question's number in that year's survey")
    results: list[SurveyResult] = Field(min_length=1)
    sources: list[str] = Field(default_factory=list)
    published_at: datetime
