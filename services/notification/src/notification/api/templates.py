"""The emails the hub sends, and each one previewed with sample data and the caller's
branding."""

from typing import Any

from fastapi import APIRouter, Request

from hub_shared.db import Session
from notification.api.deps import ERRORS, OrganisationFilter, Reader, authority
from notification.handlers.branding import preview_of
from notification.rules import kinds
from notification.schemas import Kind, Preview

router = APIRouter(prefix="/v1")


@router.get("/templates", tags=["templates"], summary="The emails the hub sends")
async def list_templates() -> list[dict[str, Any]]:
    return [
        {
            "kind": k,
            "transactional": k in kinds.TRANSACTIONAL,
            "digestible": k in kinds.DIGESTIBLE,
            "preview": f"/v1/templates/{k}/preview",
            "page": f"/templates/{k}",
        }
        for k in kinds.ALL
    ]


@router.get("/templates/{kind}/preview", responses=ERRORS, tags=["templates"], summary="A template with sample data")
async def preview(
    kind: Kind, request: Request, principal: Reader, session: Session, organisation_code: OrganisationFilter = None
) -> Preview:
    code = authority(principal, organisation_code)[0]
    return await preview_of(session, request.app.state.settings, kind, code)
