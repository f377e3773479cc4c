"""What callers send and get back over HTTP."""

from datetime import UTC, datetime
from typing import Self
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from hub_shared.events import Channel, FftAnswer, ServiceArea


class FeedbackCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "organisation_code": "P81001",
                    "service_area": "general_practice",
                    "channel": "fft_sms",
                    "fft_answer": "very_good",
                    "text": "Reception were kind and I was seen the same day.",
                    "occurred_at": "2026-11-20T09:30:00Z",
                }
            ]
        },
    )

    organisation_code: str = Field(
        pattern=r"^[A-Za-z0-9]{3,6}$", description="ODS code of the place or practice the feedback is about"
    )
    service_area: ServiceArea
    channel: Channel
    fft_answer: FftAnswer | None = Field(None, description="Friends and Family Test answer, if one was given")
    text: str | None = Field(None, min_length=1, max_length=5000, description="Free text, if any")
    occurred_at: AwareDatetime = Field(description="When the experience or meeting happened (with a UTC offset)")

    @model_validator(mode="after")
    def _has_content(self) -> Self:
        if self.fft_answer is None and self.text is None:
            raise ValueError("give an fft_answer, a text, or both")
        if self.occurred_at > datetime.now(UTC):
            raise ValueError("occurred_at is in the future")
        self.organisation_code = self.organisation_code.upper()
        return self


class FeedbackPublic(BaseModel):
    id: UUID
    organisation_code: str
    service_area: ServiceArea
    channel: Channel
    fft_answer: FftAnswer | None
    text: str | None
    occurred_at: datetime
    received_at: datetime
