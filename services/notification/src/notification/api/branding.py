"""How an organisation's emails sign off: read and set by its team."""

from fastapi import APIRouter

from hub_shared.db import Session, commit
from notification.api.deps import ERRORS, Manager, Organisation, Reader, authority
from notification.handlers.branding import branding, rebrand
from notification.schemas import BrandingPublic, BrandingUpdate

router = APIRouter(prefix="/v1")


@router.get("/branding/{organisation_code}", responses=ERRORS, tags=["templates"], summary="How your emails sign off")
async def get_branding(organisation_code: Organisation, principal: Reader, session: Session) -> BrandingPublic:
    authority(principal, organisation_code)
    brand = await branding(session, organisation_code.upper())
    return BrandingPublic(
        organisation_code=organisation_code.upper(),
        sign_off=brand["sign_off"],
        team_name=brand["team_name"],
        contact_email=brand["contact_email"],
    )


@router.put("/branding/{organisation_code}", responses=ERRORS, tags=["templates"], summary="Brand your sign-off")
async def put_branding(
    organisation_code: Organisation, body: BrandingUpdate, principal: Manager, session: Session
) -> BrandingPublic:
    authority(principal, organisation_code)
    code = organisation_code.upper()
    await rebrand(session, code, body)
    await commit(session)
    return BrandingPublic(organisation_code=code, **body.model_dump())
