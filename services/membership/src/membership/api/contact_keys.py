"""The key that opens a person's contact cards (hub_shared.sealing), for notification only:
asked with a request token signed by the secret the two share, bound to the one key and
valid for a minute. A person erased (or who left) has no key any more: 404."""

import base64
from typing import Annotated

from fastapi import APIRouter, Header, Path, Request
from pydantic import BaseModel, Field

from hub_shared.db import Session
from hub_shared.links import LinkProblem
from hub_shared.problems import Problem
from hub_shared.sealing import check_request
from membership.api.deps import PROBLEM
from membership.handlers import members

router = APIRouter(prefix="/v1")


class ContactKeyPublic(BaseModel):
    key: str = Field(description="AES-256-GCM key, base64url: opens this person's cards on membership.contacts")


CardKey = Annotated[
    str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$", description="Member id or contact token")
]


@router.get(
    "/contact-keys/{card_key}",
    response_model=ContactKeyPublic,
    responses={401: PROBLEM, 404: PROBLEM, 422: PROBLEM},
    tags=["contact keys"],
    summary="A person's contact key (notification only)",
)
async def contact_key(
    card_key: CardKey,
    request: Request,
    session: Session,
    # Without it, the request is refused as any unauthenticated one is (401), not as a bad field.
    authorization: Annotated[
        str | None, Header(description="Bearer <request token signed with the contact keys secret>")
    ] = None,
) -> ContactKeyPublic:
    scheme, _, token = (authorization or "").partition(" ")
    try:
        if scheme.lower() != "bearer" or not token:
            raise LinkProblem("invalid")
        check_request(request.app.state.contact_key_links, token, card_key)
    except LinkProblem as exc:
        raise Problem(
            401,
            "Not a contact key request",
            "Only notification may ask, with a request signed by the contact keys secret for this key.",
            headers={"WWW-Authenticate": "Bearer"},
        ) from exc
    key = await members.contact_key(session, card_key)
    if key is None:
        raise Problem(404, "No such person", "Nobody has this key: erased, left, or never here.")
    return ContactKeyPublic(key=base64.urlsafe_b64encode(key).decode())
