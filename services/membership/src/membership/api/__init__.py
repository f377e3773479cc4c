"""membership's JSON API under ``/v1``, one module a resource; each declares the prefix itself,
so a route's own template is its whole path (what the request metrics are labelled by). Public
routes (join, confirm, fresh link, hear back) are rate limited per client address; a member acts on themselves
only through a signed link; place and practice teams call with a bearer token and see no
contact details."""

from fastapi import APIRouter

from membership.api import contact_keys, groups, hear_back, joining, members, opportunities

router = APIRouter()
for resource in (joining, hear_back, members, groups, opportunities, contact_keys):
    router.include_router(resource.router)
