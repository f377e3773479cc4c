"""`hub token`: tokens only for organisations of the ICS, with a documented lifetime."""

from pathlib import Path

import jwt
from typer.testing import CliRunner

from hub_shared.cli import app

runner = CliRunner()


def test_a_token_for_an_unknown_organisation_is_refused(tmp_path: Path) -> None:
    result = runner.invoke(app, ["token", "--org", "ZZZ99", "--keys-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "'ZZZ99' is not an organisation of this ICS" in result.output
    assert "QZZ" in result.output  # names what would work


def test_an_unknown_scope_is_refused(tmp_path: Path) -> None:
    result = runner.invoke(app, ["token", "--org", "01A", "--scope", "everything", "--keys-dir", str(tmp_path)])
    assert result.exit_code == 2 and "unknown scope(s) everything" in result.output


def test_ttl_is_documented_and_sets_the_lifetime(tmp_path: Path) -> None:
    help_text = runner.invoke(app, ["token", "--help"], env={"COLUMNS": "200"}).output
    assert "--ttl" in help_text and "Lifetime in seconds" in help_text
    result = runner.invoke(app, ["token", "--org", "p81001", "--ttl", "120", "--keys-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    claims = jwt.decode(result.stdout.strip(), options={"verify_signature": False})
    assert claims["org"] == "P81001" and claims["exp"] - claims["iat"] == 120
