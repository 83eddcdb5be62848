"""Sending mail over SMTP with the standard library.

The server comes from the settings' ``smtp`` section (``crm_tui.settings.SmtpConfig``),
passed in by the caller; this module never reads the config file::

    {"smtp": {"host": "smtp.example.com", "port": 587, "tls": "starttls",
              "user": "crm@example.com", "password": "...", "from": "crm@example.com"}}

``tls`` is ``starttls`` (default on port 587), ``ssl`` (default on port 465) or ``none``.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

from crm_tui.errors import CRMError
from crm_tui.settings import SmtpConfig


class MailError(CRMError):
    """Mail could not be sent; the message says why in one line."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    tls: str = "starttls"
    user: str | None = None
    password: str | None = None
    sender: str = "crm@localhost"
    timeout: float = 15.0

    @classmethod
    def from_settings(cls, smtp: SmtpConfig) -> "SmtpSettings":
        """The connection to make from the settings' smtp section; MailError when no server is set."""
        if not smtp.host:
            raise MailError('no SMTP server configured: add "smtp": {"host": ..., "port": ..., "tls": ..., '
                            '"user": ..., "password": ..., "from": ...} to the config file (or set CRM_SMTP__HOST)')
        tls = smtp.tls
        port = smtp.port or (465 if tls == "ssl" else 587 if tls == "starttls" else 25)
        user = smtp.user or None
        return cls(host=smtp.host, port=port, tls=tls, user=user, password=smtp.password or None,
                   sender=smtp.sender or user or "crm@localhost")


def build_message(*, sender: str, to: str, subject: str, text: str, html: str | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1] if "@" in sender else "localhost")
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    return msg


def send(settings: SmtpSettings, messages: list[EmailMessage]) -> int:
    """Send ``messages`` over one connection. Returns how many were accepted."""
    try:
        if settings.tls == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout,
                                                   context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        with client:
            client.ehlo()
            if settings.tls == "starttls":
                client.starttls(context=ssl.create_default_context())
                client.ehlo()
            if settings.user:
                client.login(settings.user, settings.password or "")
            for msg in messages:
                client.send_message(msg)
    except smtplib.SMTPAuthenticationError as exc:
        raise MailError(f"SMTP login to {settings.host}:{settings.port} refused: {_reason(exc)}") from None
    except smtplib.SMTPNotSupportedError as exc:
        raise MailError(f"SMTP server {settings.host}:{settings.port} does not support that: {exc} "
                        f'(try "tls": "none" or "ssl")') from None
    except smtplib.SMTPException as exc:
        raise MailError(f"SMTP error from {settings.host}:{settings.port}: {_reason(exc)}") from None
    except (OSError, ssl.SSLError) as exc:
        raise MailError(f"cannot reach SMTP server {settings.host}:{settings.port}: {exc}") from None
    return len(messages)


def _reason(exc: smtplib.SMTPException) -> str:
    detail = getattr(exc, "smtp_error", None)
    if isinstance(detail, bytes):
        return detail.decode("utf-8", "replace")
    return str(exc)
