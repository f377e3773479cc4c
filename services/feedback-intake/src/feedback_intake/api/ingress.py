"""The Kafka ingress, seen over HTTP: why records you signed were rejected."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from feedback_intake.api.errors import ERRORS
from feedback_intake.handlers import ingress
from feedback_intake.schemas import IngressRejectionPublic
from hub_shared.auth import Principal, require_scope
from hub_shared.db import Session
from hub_shared.text import OneLine

router = APIRouter(prefix="/v1")


@router.get(
    "/ingress/rejections",
    responses=ERRORS,
    tags=["kafka ingress"],
    summary="Why records you signed on the Kafka ingress were rejected, newest first",
    description="Only rejections of records signed with your organisation's own token are shown: a record that "
    "claimed another organisation's tenant is shown to its signer, never to the organisation it claimed (nor "
    "to a place or the ICB above the signer). Records without a valid token are attributed to no one.",
)
async def ingress_rejections(
    principal: Annotated[Principal, Depends(require_scope("feedback:write"))],
    session: Session,
    client_reference: Annotated[OneLine | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[IngressRejectionPublic]:
    rows = await ingress.list_rejections(
        session, sender=principal.organisation, client_reference=client_reference, limit=limit
    )
    return [IngressRejectionPublic.model_validate(r, from_attributes=True) for r in rows]
