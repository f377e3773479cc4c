"""The four services' APIs, called with the signed-in person's own access token: the API's
authority check is the only one. A page does

    api = hub_api(request)
    page = await api.get("intake", "/v1/feedback", params={"organisation_code": code})
    created = await api.post("membership", "/v1/opportunities", json=body)

and gets the decoded JSON (``ApiResult.data``), or an ``ApiProblem`` built from the API's
RFC 9457 problem document, whose ``errors`` ({field: message}) a form page passes to its
template for the NHS.UK error summary (``error_summary`` in ``base.html``) and the fields'
own messages. An ``ApiProblem`` a page does not catch is shown by the app's handler: 403 as
"you cannot see this", 404 as "not found", 503 and unreachable services as "try again".
A 401 from an API (the token expired or was revoked) sends the person to sign in again."""

from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import Request

from console.signin import SignInRequired, access_token
from hub_shared import correlation
from hub_shared.problems import MEDIA_TYPE

SERVICE_NAMES = {
    "intake": "feedback-intake",
    "membership": "membership",
    "notification": "notification",
    "reporting": "reporting",
}


@dataclass
class ApiProblem(Exception):
    """An API said no (RFC 9457 problem details), or could not be reached (status 503)."""

    status: int
    title: str
    detail: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    service: str = ""

    def __post_init__(self) -> None:
        super().__init__(f"{self.status} {self.title}: {self.detail}")

    @classmethod
    def from_response(cls, service: str, response: httpx.Response) -> "ApiProblem":
        body: dict[str, Any] = {}
        if response.headers.get("content-type", "").split(";")[0] in (MEDIA_TYPE, "application/json"):
            try:
                parsed = response.json()
                body = parsed if isinstance(parsed, dict) else {}
            except ValueError:
                body = {}
        errors: dict[str, str] = {}
        for error in body.get("errors") or []:
            if isinstance(error, dict) and error.get("field"):
                errors.setdefault(str(error["field"]), str(error.get("message") or "is not valid"))
        return cls(
            status=response.status_code,
            title=str(body.get("title") or response.reason_phrase or "Error"),
            detail=str(body.get("detail") or ""),
            errors=errors,
            service=service,
        )

    def summary(self, labels: dict[str, str] | None = None) -> list[dict[str, str]]:
        """Items for NHS.UK's error summary: each field's message linking to its input
        (``#field``, dots as in the API's path replaced by ``-``), or the detail alone."""
        labels = labels or {}
        if not self.errors:
            return [{"text": self.detail or self.title, "href": "#maincontent"}]
        return [
            {
                "text": f"{labels[name]}: {message}" if name in labels else message,
                "href": "#" + field_id(name),
            }
            for name, message in self.errors.items()
        ]


def field_id(api_field: str) -> str:
    """The id a form gives the input for an API field (``targeting.groups`` → ``targeting-groups``)."""
    return api_field.replace(".", "-")


@dataclass
class ApiResult:
    status: int
    data: Any
    headers: httpx.Headers


class HubApi:
    """One person's calls to the services. Built per request by ``hub_api(request)``."""

    def __init__(self, clients: dict[str, httpx.AsyncClient], request: Request) -> None:
        self._clients = clients
        self._request = request

    async def request(
        self,
        service: str,
        method: str,
        path: str,
        *,
        params: Any = None,
        json: Any = None,
        content: bytes | str | None = None,
        headers: dict[str, str] | None = None,
    ) -> ApiResult:
        client = self._clients[service]
        token = await access_token(self._request)
        sent_headers = {
            "Authorization": f"Bearer {token}",
            "Accept": f"application/json, {MEDIA_TYPE}, text/csv",
            correlation.HEADER: correlation.current(),
            **(headers or {}),
        }
        try:
            response = await client.request(
                method, path, params=params, json=json, content=content, headers=sent_headers
            )
        except httpx.HTTPError as exc:
            raise ApiProblem(
                503,
                "Service unavailable",
                f"The {SERVICE_NAMES.get(service, service)} service did not answer. Try again in a minute.",
                service=service,
            ) from exc
        if response.status_code == 401:
            raise SignInRequired
        if response.status_code >= 400:
            raise ApiProblem.from_response(service, response)
        data: Any = None
        content_type = response.headers.get("content-type", "")
        if response.content and "json" in content_type:
            data = response.json()
        elif response.content:
            data = response.text
        return ApiResult(status=response.status_code, data=data, headers=response.headers)

    async def get(self, service: str, path: str, *, params: Any = None) -> Any:
        return (await self.request(service, "GET", path, params=params)).data

    async def post(self, service: str, path: str, *, json: Any = None, **kwargs: Any) -> Any:
        return (await self.request(service, "POST", path, json=json, **kwargs)).data

    async def patch(self, service: str, path: str, *, json: Any = None, **kwargs: Any) -> Any:
        return (await self.request(service, "PATCH", path, json=json, **kwargs)).data

    async def put(self, service: str, path: str, *, json: Any = None, **kwargs: Any) -> Any:
        return (await self.request(service, "PUT", path, json=json, **kwargs)).data

    async def delete(self, service: str, path: str, **kwargs: Any) -> Any:
        return (await self.request(service, "DELETE", path, **kwargs)).data


def hub_api(request: Request) -> HubApi:
    return HubApi(request.app.state.api_clients, request)


def api_clients(
    urls: dict[str, str], timeout: float, transports: dict[str, httpx.AsyncBaseTransport] | None = None
) -> dict[str, httpx.AsyncClient]:
    """One pooled client per service (``transports`` lets a test serve a service in-process)."""
    transports = transports or {}
    return {
        name: httpx.AsyncClient(base_url=url, timeout=timeout, transport=transports.get(name))
        for name, url in urls.items()
    }
