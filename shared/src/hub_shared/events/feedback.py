"""Feedback events published by feedback-intake."""

from datetime import datetime
from enum import StrEnum
from typing import ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict


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


class FeedbackReceivedV1(BaseModel):
    """A feedback submission was accepted and stored. Its free text is already scrubbed."""

    event_type: ClassVar[str] = "feedback.received.v1"
    model_config = ConfigDict(extra="forbid")

    submission_id: UUID
    organisation_code: str
    service_area: ServiceArea
    channel: Channel
    fft_answer: FftAnswer | None = None
    text: str | None = None
    occurred_at: datetime
    received_at: datetime
