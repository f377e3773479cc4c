"""What the API takes and gives."""

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from hub_shared.text import OneLine, PlainText


class NotificationPublic(BaseModel):
    """One email in the ledger: never the address or the name."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    organisation_code: str
    kind: str
    reference: str | None
    member_id: uuid.UUID | None
    recipient_kind: str
    status: str
    reason: str | None
    attempts: int
    digest_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
    due_at: datetime
    sent_at: datetime | None


class NotificationPage(BaseModel):
    items: list[NotificationPublic]
    next_cursor: str | None = None


class Summary(BaseModel):
    organisation_code: str
    by_status: dict[str, int]
    by_kind: dict[str, dict[str, int]]
    unknown: int = Field(description="Emails whose outcome is unknown after a worker crash: check with the relay")


class BrandingUpdate(BaseModel):
    sign_off: PlainText = Field(min_length=1, max_length=500, examples=["With warm thanks,"])
    team_name: OneLine | None = Field(None, max_length=200, examples=["Northvale engagement team"])
    contact_email: EmailStr | None = None


class BrandingPublic(BrandingUpdate):
    organisation_code: str


class Preview(BaseModel):
    kind: str
    subject: str
    text: str
    html: str
