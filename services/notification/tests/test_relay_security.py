"""The relay's transport security and credentials come from settings: STARTTLS or
implicit TLS, and a login; a refused login leaves everything waiting, nothing spent."""

import datetime as dt
import ssl
import uuid
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from hub_shared.events import MessageKind
from hub_shared.testing import SmtpSink
from notification.workers.delivery import Worker
from notification.workers.smtp import RelayUnavailable

from .conftest import card, contacts, deliver, drain, ledger


def server_context(tmp_path: Path) -> ssl.SSLContext:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    return context


def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"hub", b"s3cret-relay")
    return AuthResult(success=ok, handled=False)


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # implicit TLS: aiosmtpd cannot tell
@pytest.mark.parametrize("security", ["starttls", "tls"])
async def test_tls_and_login_as_configured(app: Any, settings: Any, tmp_path: Path, security: str) -> None:
    context = server_context(tmp_path)
    sink = SmtpSink()
    options: dict[str, Any] = {"authenticator": authenticator, "auth_required": True}
    if security == "starttls":
        options |= {"tls_context": context, "require_starttls": True}
    else:
        options |= {"ssl_context": context, "auth_require_tls": False}  # aiosmtpd only sees STARTTLS as TLS
    sink.start(**options)
    secure = settings.model_copy(
        update={
            "smtp_port": sink.port,
            "smtp_security": security,
            "smtp_username": "hub",
            "smtp_validate_certs": False,
        }
    )
    from pydantic import SecretStr

    wrong = Worker(secure.model_copy(update={"smtp_password": SecretStr("wrong")}), app.state.sessions, name="w1")
    right = Worker(
        secure.model_copy(update={"smtp_password": SecretStr("s3cret-relay")}), app.state.sessions, name="w2"
    )
    try:
        await deliver(app, contacts(card("secure@example.org", MessageKind.FRESH_LINK, member_id=uuid.uuid4())))
        with pytest.raises(RelayUnavailable):
            await wrong.run_once()
        assert [r.status for r in await ledger(app)] == ["created"]
        await drain(right)
        assert [m["To"] for m in sink.messages] == ["secure@example.org"]
        assert [r.status for r in await ledger(app)] == ["delivered"]
    finally:
        await wrong.relay.close()
        await right.relay.close()
        sink.stop()
