"""The console's parts that need no browser: pagination links, problem documents turned into
error summaries, where sign-in may send a person next, the form check's refusals, and
sessions sealed with their own id."""

import httpx
import pytest
from starlette.requests import Request

from console.hub_api import ApiProblem
from console.pagination import CursorPages, Paged
from console.sessions import seal, unseal
from console.signin import safe_next


def request_for(url: str) -> Request:
    parsed = httpx.URL(url)
    return Request({"type": "http", "method": "GET", "path": parsed.path, "query_string": parsed.query, "headers": []})


def test_cursor_pages_go_forward_and_back_keeping_filters() -> None:
    first = CursorPages.of(request_for("http://c/feedback?status=open"), "c2")
    assert first.previous_url is None and first.next_url == "/feedback?status=open&cursor=c2"
    second = CursorPages.of(request_for("http://c" + first.next_url), "c3")
    assert second.previous_url == "/feedback?status=open"
    assert second.next_url == "/feedback?status=open&cursor=c3&before=c2"
    third = CursorPages.of(request_for("http://c" + second.next_url), None)
    assert third.next_url is None
    assert third.previous_url == "/feedback?status=open&cursor=c2"
    assert CursorPages.of(request_for("http://c/feedback"), None).params is None


def test_paged_rows_and_numbered_links() -> None:
    rows = list(range(120))
    paged = Paged.of(request_for("http://c/reports?month=2026-10&page=2"), rows, per_page=50)
    assert paged.rows == list(range(50, 100)) and paged.pages == 3
    assert paged.params is not None
    assert [i.get("number") for i in paged.params["items"]] == [1, 2, 3]
    assert paged.params["previous"]["href"] == "/reports?month=2026-10&page=1"
    assert Paged.of(request_for("http://c/r?page=99"), rows, per_page=50).page == 3
    assert Paged.of(request_for("http://c/r"), rows[:3]).params is None


def test_a_problem_document_becomes_an_error_summary() -> None:
    response = httpx.Response(
        422,
        headers={"content-type": "application/problem+json"},
        json={
            "title": "Invalid request",
            "status": 422,
            "detail": "2 fields failed validation",
            "errors": [
                {"field": "title", "message": "Field required", "type": "missing"},
                {"field": "targeting.groups", "message": "unknown group", "type": "value_error"},
            ],
        },
    )
    problem = ApiProblem.from_response("membership", response)
    assert problem.errors == {"title": "Field required", "targeting.groups": "unknown group"}
    assert problem.summary({"title": "Title"}) == [
        {"text": "Title: Field required", "href": "#title"},
        {"text": "unknown group", "href": "#targeting-groups"},
    ]
    refused = httpx.Response(403, json={"title": "Forbidden", "detail": "not yours"})
    bare = ApiProblem.from_response("reporting", refused)
    assert bare.summary() == [{"text": "not yours", "href": "#maincontent"}]


@pytest.mark.parametrize(
    ("target", "followed"),
    [
        ("/groups?x=1", "/groups?x=1"),
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        (None, "/"),
    ],
)
def test_after_sign_in_only_paths_on_the_console_are_followed(target: str | None, followed: str) -> None:
    assert safe_next(target) == followed


def test_a_session_is_sealed_with_its_own_id_and_opens_with_no_other() -> None:
    data = {"tokens": {"access_token": "eyJhbGciOiJSUzI1NiJ9.eyJvcmciOiJRWloifQ.sig"}, "user": {"subject": "a"}}
    sealed = seal("the-cookie-id", data)
    assert b"eyJ" not in sealed and b"subject" not in sealed
    assert unseal("the-cookie-id", sealed) == data
    assert unseal("another-id", sealed) is None
    assert unseal("the-cookie-id", sealed[:-1] + bytes([sealed[-1] ^ 1])) is None  # tampered
    assert seal("the-cookie-id", data) != sealed  # a fresh nonce each time
