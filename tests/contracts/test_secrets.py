"""No secret has a default: outside development mode a service without its secrets does not
start and names the variable; development mode makes one per machine; a secret may come
from a file; a rotated secret keeps verifying old links until its set time, then stops."""

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from feedback_intake.settings import IntakeSettings
from hub_shared.links import LinkProblem
from hub_shared.settings import development_secret, load
from membership.settings import MembershipSettings
from notification.settings import NotificationSettings

REPO = Path(__file__).resolve().parents[2]
OLD = "old-secret-0123456789-0123456789-0123456789"
NEW = "new-secret-0123456789-0123456789-0123456789"


SHARED = "shared-secret-0123456789-0123456789-0123456789"
SHARED_VARIABLES = (
    "MEMBERSHIP_CONTACT_KEYS_SECRET",
    "NOTIFICATION_CONTACT_KEYS_SECRET",
    "MEMBERSHIP_FEEDBACK_PAGE_SECRET",
    "INTAKE_FEEDBACK_PAGE_SECRET",
)


@pytest.fixture
def production(monkeypatch: pytest.MonkeyPatch) -> None:
    """Outside development mode, with no link secret (and the shared secrets given, unless a
    test takes one away)."""
    monkeypatch.delenv("HUB_DEVELOPMENT_MODE", raising=False)
    for name in list(os.environ):
        if "LINK_SECRET" in name or "CONTACT_KEYS_SECRET" in name or "FEEDBACK_PAGE_SECRET" in name:
            monkeypatch.delenv(name)
    for variable in SHARED_VARIABLES:
        monkeypatch.setenv(variable, SHARED)


@pytest.mark.parametrize(
    ("settings_type", "variable"),
    [
        (MembershipSettings, "MEMBERSHIP_CONTACT_KEYS_SECRET"),
        (NotificationSettings, "NOTIFICATION_CONTACT_KEYS_SECRET"),
    ],
)
def test_a_service_without_the_contact_keys_secret_refuses_to_start_and_names_it(
    production: None, monkeypatch: pytest.MonkeyPatch, settings_type: type, variable: str
) -> None:
    monkeypatch.delenv(variable)
    with pytest.raises(SystemExit, match=f"{variable} is not set"):
        load(lambda: settings_type(link_secret=NEW))


@pytest.mark.parametrize(
    ("settings_type", "variable"),
    [(MembershipSettings, "MEMBERSHIP_FEEDBACK_PAGE_SECRET"), (IntakeSettings, "INTAKE_FEEDBACK_PAGE_SECRET")],
)
def test_a_service_without_the_feedback_page_secret_refuses_to_start_and_names_it(
    production: None, monkeypatch: pytest.MonkeyPatch, settings_type: type, variable: str
) -> None:
    monkeypatch.delenv(variable)
    with pytest.raises(SystemExit, match=f"{variable} is not set"):
        load(lambda: settings_type(link_secret=NEW))


def test_development_mode_gives_membership_and_intake_one_feedback_page_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Membership's pages sign what they put on the ingress, intake checks it: the same on one machine."""
    monkeypatch.setenv("HUB_DEVELOPMENT_MODE", "1")
    for variable in ("MEMBERSHIP_FEEDBACK_PAGE_SECRET", "INTAKE_FEEDBACK_PAGE_SECRET"):
        monkeypatch.delenv(variable, raising=False)
    signs, checks = MembershipSettings().feedback_page_secret, IntakeSettings().feedback_page_secret
    assert checks is not None and signs is not None
    assert checks.get_secret_value() == signs.get_secret_value()


def test_development_mode_gives_membership_and_notification_one_contact_keys_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One signs requests for a person's key, the other checks them: the same on one machine."""
    monkeypatch.setenv("HUB_DEVELOPMENT_MODE", "1")
    for variable in ("MEMBERSHIP_CONTACT_KEYS_SECRET", "NOTIFICATION_CONTACT_KEYS_SECRET"):
        monkeypatch.delenv(variable, raising=False)
    checks, signs = MembershipSettings().contact_keys_secret, NotificationSettings().contact_keys_secret
    assert checks is not None and signs is not None
    assert checks.get_secret_value() == signs.get_secret_value()
    assert MembershipSettings().link_secret != NotificationSettings().link_secret


@pytest.mark.parametrize(
    ("settings_type", "variable"),
    [(MembershipSettings, "MEMBERSHIP_LINK_SECRET"), (NotificationSettings, "NOTIFICATION_LINK_SECRET")],
)
def test_a_service_without_its_link_secret_refuses_to_start_and_names_it(
    production: None, settings_type: type, variable: str
) -> None:
    with pytest.raises(ValidationError, match=variable):
        settings_type()
    with pytest.raises(SystemExit, match=f"{variable} is not set"):
        load(settings_type)


@pytest.mark.parametrize("command", ["membership", "notification"])
def test_the_service_command_stops_with_the_variable_not_a_traceback(command: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "HUB_DEVELOPMENT_MODE" and "LINK_SECRET" not in k}
    done = subprocess.run(
        [str(Path(sys.executable).parent / command), "check"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode != 0
    assert f"{command.upper()}_LINK_SECRET is not set" in done.stderr
    assert "Traceback" not in done.stderr


def test_placeholders_and_short_secrets_are_refused(production: None) -> None:
    for weak in ("changeme", "secret", "x" * 31):
        with pytest.raises(ValidationError, match="at least 32 characters"):
            MembershipSettings(link_secret=weak)


def test_a_secret_is_read_from_the_file_its_FILE_variable_names(
    production: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "secret").write_text(NEW + "\n")
    monkeypatch.setenv("NOTIFICATION_LINK_SECRET_FILE", str(tmp_path / "secret"))
    settings = NotificationSettings()
    assert settings.link_secret is not None and settings.link_secret.get_secret_value() == NEW


def test_development_mode_makes_one_random_secret_per_machine_kept_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = development_secret("membership-link-secret", tmp_path)
    assert len(first) >= 32 and development_secret("membership-link-secret", tmp_path) == first
    assert development_secret("notification-link-secret", tmp_path) != first
    assert (tmp_path / "membership-link-secret").stat().st_mode & 0o077 == 0
    monkeypatch.setenv("HUB_DEVELOPMENT_MODE", "1")
    monkeypatch.delenv("MEMBERSHIP_LINK_SECRET", raising=False)
    secret = MembershipSettings().link_secret
    assert secret is not None and "dev-only" not in secret.get_secret_value()


def test_a_previous_secret_verifies_until_its_time_and_never_signs(production: None) -> None:
    before = MembershipSettings(link_secret=OLD).signed_links("link_secret", "http://m", "membership")
    token = before.token("preferences", {"m": "someone"})

    rotated = MembershipSettings(
        link_secret=NEW, link_secret_previous=OLD, link_secret_previous_until=datetime.now(UTC) + timedelta(days=30)
    ).signed_links("link_secret", "http://m", "membership")
    assert rotated.load("preferences", token, timedelta(days=1)) == {"m": "someone"}
    fresh = rotated.token("preferences", {"m": "someone"})
    with pytest.raises(LinkProblem):
        before.load("preferences", fresh, timedelta(days=1))  # signed with the new secret only

    lapsed = MembershipSettings(
        link_secret=NEW, link_secret_previous=OLD, link_secret_previous_until=datetime.now(UTC) - timedelta(seconds=1)
    ).signed_links("link_secret", "http://m", "membership")
    with pytest.raises(LinkProblem, match="invalid"):
        lapsed.load("preferences", token, timedelta(days=1))


def test_a_previous_secret_needs_a_time_with_a_zone(production: None) -> None:
    with pytest.raises(ValidationError, match="MEMBERSHIP_LINK_SECRET_PREVIOUS_UNTIL"):
        MembershipSettings(link_secret=NEW, link_secret_previous=OLD)
    with pytest.raises(ValidationError, match="time zone"):
        MembershipSettings(link_secret=NEW, link_secret_previous=OLD, link_secret_previous_until=datetime(2030, 1, 1))
