"""Reference data events: the organisations of an ICB as NHS ODS publishes them, imported by
an operator (``hub reference import``) and applied by every process of every service.

One event per ICB, keyed by the ICB's code on the compacted ``reference.organisations``
topic: the latest event of each ICB is the whole of that ICB (a snapshot, never a delta), so
applying it twice changes nothing and a process that starts reads the topic to its end."""

from datetime import date, datetime
from enum import StrEnum
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field


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
