"""Resources a service holds before its contract is fuzzed, made through its own API, so
that generated requests for `/{id}` paths also reach real resources (a random UUID only
ever finds 404). Returns the ids by path-parameter name. A service without a seed here is
fuzzed on an empty store."""

from collections.abc import Callable

import requests

from hub_shared.organisations import reference

Token = Callable[[str], str]  # organisation -> bearer token with every scope


def _post(base_url: str, path: str, token: str, content_type: str | None = None, **kwargs: object) -> dict:  # type: ignore[type-arg]
    headers = {"Authorization": f"Bearer {token}", **({"Content-Type": content_type} if content_type else {})}
    response = requests.post(f"{base_url}{path}", headers=headers, timeout=30, **kwargs)  # type: ignore[arg-type]
    assert response.status_code < 300, f"seeding {path}: {response.status_code} {response.text}"
    return response.json()  # type: ignore[no-any-return]


def feedback_intake(base_url: str, token: Token) -> dict[str, list[str]]:
    ids: dict[str, list[str]] = {"submission_id": [], "response_id": [], "upload_id": []}
    about_of: dict[str, str] = {}
    for org, about in (("P81001", "P81001"), ("01A", "P81002"), ("QZZ", "P82003")):
        for n, text in enumerate(("Kind staff, seen on time.", "I want to make a formal complaint about my care.")):
            item = _post(
                base_url,
                "/v1/feedback",
                token(org),
                json={
                    "organisation_code": about,
                    "service_area": "general_practice",
                    "channel": "online_comment",
                    "fft_answer": "good",
                    "text": text,
                    # Not UTC: every store must give back the same instant, in UTC.
                    "occurred_at": "2026-11-01T01:30:00+05:00",
                    "client_reference": f"seed-{org}-{n}",
                    "hear_back": {"contact_token": f"seed-token-{org}-{n}"},
                },
            )
            ids["submission_id"].append(item["id"])
            about_of[item["id"]] = about
        response = _post(
            base_url,
            "/v1/responses",
            token(org),
            json={
                "organisation_code": about,
                "submission_ids": ids["submission_id"][-2:],
                "you_said": "Waits were long.",
                "we_did": "Added a triage nurse.",
                "status": "in_progress",
            },
        )
        ids["response_id"].append(response["id"])
        upload = _post(
            base_url,
            "/v1/fft-returns/uploads",
            token(org),
            data=f"Practice Code,Period,Very Good,Good,Neither Good nor Poor,Poor,Very Poor,Don't Know\r\n"
            f"{about},2026-10,5,4,3,2,1,0\r\n".encode(),
            content_type="text/csv",
        )
        ids["upload_id"].append(upload["id"])
    # The submissions each role may respond to (a body's `submission_ids`).
    for role in ("QZZ", "01A", "P81001", "02B"):
        ids[f"submission_ids as {role}"] = [i for i, about in about_of.items() if reference().may_act_for(role, about)]
    return ids


SEEDS: dict[str, Callable[[str, Token], dict[str, list[str]]]] = {"feedback-intake": feedback_intake}
