"""Sending email over SMTP: the relay, spoken to step by step (aiosmtplib) so that each
failure is classified by when it happened:

* the relay cannot be reached, or refuses our login: ``RelayUnavailable``; the email was
  never handed over and does not count an attempt (the worker waits, then resumes);
* a 4xx reply, or a timeout before the message itself was sent: ``temporary``;
* a 5xx reply to the recipient or the message: ``permanent`` (the address is suppressed);
* the connection lost or timed out *after* the message was handed over and before the
  relay's reply: ``unknown`` — it may have been accepted, so it is never resent blindly."""

import ssl
from dataclasses import dataclass
from email.message import EmailMessage

import aiosmtplib

from hub_shared.failures import DependencyUnavailable
from hub_shared.logging import get_logger
from notification.rules.reasons import without_addresses
from notification.settings import NotificationSettings

log = get_logger(__name__)


class RelayUnavailable(DependencyUnavailable):
    """The relay could not be reached or would not let us in: nothing was sent."""


@dataclass(frozen=True)
class Outcome:
    result: str  # delivered, temporary, permanent, unknown
    reply: str  # the relay's answer, without any address it echoed (rules/reasons.py)

    def __post_init__(self) -> None:
        object.__setattr__(self, "reply", without_addresses(self.reply) or "")


class SmtpRelay:
    def __init__(self, settings: NotificationSettings) -> None:
        self._settings = settings
        self._client: aiosmtplib.SMTP | None = None

    async def _connect(self) -> aiosmtplib.SMTP:
        s = self._settings
        context = ssl.create_default_context()
        if not s.smtp_validate_certs:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        client = aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            use_tls=s.smtp_security == "tls",
            start_tls=s.smtp_security == "starttls",
            timeout=s.smtp_timeout_seconds,
            tls_context=context if s.smtp_security != "none" else None,
        )
        try:
            await client.connect()
            if s.smtp_username:
                password = s.smtp_password.get_secret_value() if s.smtp_password else ""
                await client.login(s.smtp_username, password)
        except (aiosmtplib.SMTPException, OSError) as exc:
            client.close()
            raise RelayUnavailable(f"SMTP relay {s.smtp_host}:{s.smtp_port}: {exc}") from exc
        return client

    async def ensure_connected(self) -> None:
        """Connect (and log in) if not connected; raises RelayUnavailable."""
        if self._client is None or not self._client.is_connected:
            self._client = await self._connect()

    async def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError):
                client.close()

    def _drop(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    async def send(self, email: EmailMessage | bytes, *, sender: str, to: str) -> Outcome:
        await self.ensure_connected()
        client = self._client
        assert client is not None
        try:
            await client.mail(sender)
            await client.rcpt(to)
        except aiosmtplib.SMTPResponseException as exc:
            await self._reset()
            return Outcome("permanent" if 500 <= exc.code < 600 else "temporary", f"{exc.code} {exc.message}")
        except (aiosmtplib.SMTPException, OSError) as exc:
            self._drop()
            return Outcome("temporary", f"before the message was sent: {exc!r}")
        try:
            response = await client.data(email if isinstance(email, bytes) else email.as_bytes())
        except aiosmtplib.SMTPResponseException as exc:
            await self._reset()
            return Outcome("permanent" if 500 <= exc.code < 600 else "temporary", f"{exc.code} {exc.message}")
        except (aiosmtplib.SMTPException, OSError) as exc:
            self._drop()
            return Outcome("unknown", f"no answer after the message was handed over: {exc!r}")
        return Outcome("delivered", f"{response.code} {response.message}")

    async def _reset(self) -> None:
        try:
            await self._client.rset()  # type: ignore[union-attr]
        except (aiosmtplib.SMTPException, OSError):
            self._drop()
