"""Long lists in pages: the parameters of NHS.UK's pagination component.

Two kinds of list:

* an API's cursor pages (``{"items": [...], "next_cursor": "..."}``):
  ``CursorPages.of(request, page["next_cursor"])`` gives Previous and Next links. The
  cursors already passed travel in the link (``?cursor=...&before=c1,c2``) so Previous
  works without keeping anything in the session;
* a list the page holds whole (a report table): ``Paged.of(request, rows, per_page=50)``
  gives that page's rows and numbered links.

Each keeps the page's other query parameters (filters) in its links. In a template:
``{{ pagination(pages.params) }}`` when ``pages.params`` is set."""

from dataclasses import dataclass
from math import ceil
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

from fastapi import Request

T = TypeVar("T")
MAX_TRAIL = 50  # cursors kept for Previous (beyond that, Previous goes back to the start)


def _link(request: Request, **changes: str | int | None) -> str:
    query = {k: v for k, v in request.query_params.items() if k not in changes}
    query.update({k: str(v) for k, v in changes.items() if v not in (None, "")})
    encoded = urlencode(query)
    return f"{request.url.path}?{encoded}" if encoded else request.url.path


@dataclass(frozen=True)
class CursorPages:
    cursor: str | None
    previous_url: str | None
    next_url: str | None

    @classmethod
    def of(cls, request: Request, next_cursor: str | None) -> "CursorPages":
        cursor = request.query_params.get("cursor") or None
        before = [c for c in (request.query_params.get("before") or "").split(",") if c]
        previous_url = None
        if cursor is not None:
            back = before[-1] if before else None
            previous_url = _link(request, cursor=back, before=",".join(before[:-1]) or None)
        next_url = None
        if next_cursor:
            trail = [*before, cursor or ""][-MAX_TRAIL:] if cursor else before[-MAX_TRAIL:]
            next_url = _link(request, cursor=next_cursor, before=",".join(trail) or None)
        return cls(cursor=cursor, previous_url=previous_url, next_url=next_url)

    @property
    def params(self) -> dict[str, Any] | None:
        if not (self.previous_url or self.next_url):
            return None
        params: dict[str, Any] = {}
        if self.previous_url:
            params["previous"] = {"href": self.previous_url, "labelText": "Previous page"}
        if self.next_url:
            params["next"] = {"href": self.next_url, "labelText": "Next page"}
        return params


@dataclass(frozen=True)
class Paged(Generic[T]):
    rows: list[T]
    page: int
    pages: int
    total: int
    links: list[str]

    @classmethod
    def of(cls, request: Request, rows: list[T], *, per_page: int = 50) -> "Paged[T]":
        total = len(rows)
        pages = max(1, ceil(total / per_page))
        try:
            page = int(request.query_params.get("page", "1"))
        except ValueError:
            page = 1
        page = min(max(page, 1), pages)
        start = (page - 1) * per_page
        return cls(
            rows=rows[start : start + per_page],
            page=page,
            pages=pages,
            total=total,
            links=[_link(request, page=n) for n in range(1, pages + 1)],
        )

    @property
    def params(self) -> dict[str, Any] | None:
        if self.pages <= 1:
            return None
        items: list[dict[str, Any]] = []
        for number in range(1, self.pages + 1):
            near = abs(number - self.page) <= 1 or number in (1, self.pages)
            if near:
                items.append({"number": number, "href": self.links[number - 1], "current": number == self.page})
            elif items and not items[-1].get("ellipsis"):
                items.append({"ellipsis": True})
        params: dict[str, Any] = {"items": items}
        if self.page > 1:
            params["previous"] = {"href": self.links[self.page - 2]}
        if self.page < self.pages:
            params["next"] = {"href": self.links[self.page]}
        return params
