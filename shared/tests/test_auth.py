from pathlib import Path

import pytest

from hub_shared.auth import DevKeys, TokenVerifier
from hub_shared.problems import Problem

ISSUER, AUDIENCE = "https://idp.example", "ics-engagement-hub"


@pytest.fixture
def keys(tmp_path: Path) -> DevKeys:
    return DevKeys(tmp_path / "keys").ensure()


def verifier(keys: DevKeys) -> TokenVerifier:
    return TokenVerifier(issuer=ISSUER, audience=AUDIENCE, jwks_path=keys.jwks_path)


def test_a_valid_token_names_the_organisation_and_scopes(keys: DevKeys) -> None:
    token = keys.issue(organisation="01a", scopes=["feedback:write", "reports:read"], issuer=ISSUER, audience=AUDIENCE)
    principal = verifier(keys).verify(token)
    assert principal.organisation == "01A"
    assert principal.scopes == {"feedback:write", "reports:read"}


@pytest.mark.parametrize(
    ("issue_kwargs", "message"),
    [
        ({"ttl_seconds": -10}, "expired"),
        ({"audience": "someone-else"}, "Audience"),
        ({"issuer": "https://evil.example"}, "issuer"),
    ],
)
def test_tokens_failing_a_check_are_401(keys: DevKeys, issue_kwargs: dict, message: str) -> None:
    claims = {"organisation": "01A", "scopes": [], "issuer": ISSUER, "audience": AUDIENCE, **issue_kwargs}
    token = keys.issue(**claims)
    with pytest.raises(Problem) as caught:
        verifier(keys).verify(token)
    assert caught.value.status == 401
    assert message.lower() in (caught.value.detail or "").lower()


def test_a_token_signed_by_another_key_is_refused(keys: DevKeys, tmp_path: Path) -> None:
    stranger = DevKeys(tmp_path / "other").ensure()
    token = stranger.issue(organisation="01A", scopes=[], issuer=ISSUER, audience=AUDIENCE)
    with pytest.raises(Problem) as caught:
        verifier(keys).verify(token)
    assert caught.value.status == 401


def test_no_keys_configured_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="HUB_JWKS_PATH"):
        TokenVerifier(issuer=ISSUER, audience=AUDIENCE)


def test_a_verified_token_is_remembered_until_it_expires(keys: DevKeys, monkeypatch: pytest.MonkeyPatch) -> None:
    """Verification is cached per token (RSA is the costly part of a request), but a cached
    token stops working the moment it expires."""
    import time

    token = keys.issue(
        organisation="P81001", scopes=["feedback:write"], issuer=ISSUER, audience=AUDIENCE, ttl_seconds=60
    )
    checker = verifier(keys)
    first = checker.verify(token)
    assert checker.verify(token) is first  # served from the cache: the same object
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 120)
    with pytest.raises(Problem) as caught:
        checker.verify(token)
    assert caught.value.status == 401 and "expired" in str(caught.value.detail)
