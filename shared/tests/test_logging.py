"""Logs are JSON for machines and readable for people, even through a supervisor's pipe."""

import json

import pytest
import structlog

from hub_shared.logging import configure_logging, get_logger


@pytest.fixture(autouse=True)
def _restore_logging():  # type: ignore[no-untyped-def]
    yield
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()


@pytest.mark.parametrize(("chosen", "readable"), [("json", False), ("console", True)])
def test_the_log_format_can_be_chosen_whatever_the_stream(monkeypatch, capsys, chosen, readable) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("HUB_LOG_FORMAT", chosen)
    monkeypatch.setenv("NO_COLOR", "1")
    configure_logging("feedback-intake")
    get_logger("t").info("feedback accepted", tenant="P81001")
    line = capsys.readouterr().err.strip().splitlines()[-1]
    if readable:
        assert "feedback accepted" in line and "tenant=P81001" in line and not line.startswith("{")
    else:
        assert json.loads(line)["event"] == "feedback accepted"
