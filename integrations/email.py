"""Send an email over SMTP (STARTTLS when `SMTP_TLS`, login when a username is set)."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from sdb_agent.errors import ConfigError
from sdb_agent.settings import Settings

TIMEOUT_SECONDS = 30


def smtp_configured(settings: Settings) -> str | None:
    """None when email can be sent, else why not (for the log)."""
    missing = [name for name, value in (
        ("SMTP_HOST", settings.smtp_host), ("REPORT_EMAIL_FROM", settings.report_email_from),
        ("REPORT_EMAIL_TO", settings.report_recipients),
    ) if not value]
    return f"{', '.join(missing)} not set" if missing else None


def send_email(message: EmailMessage, *, settings: Settings) -> None:
    """Deliver the message; raises smtplib/OSError errors for the caller's retries."""
    if settings.smtp_host is None:
        raise ConfigError("SMTP_HOST is not set; no email can be sent")
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_SECONDS) as smtp:
        if settings.smtp_tls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_username:
            password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
            smtp.login(settings.smtp_username, password)
        smtp.send_message(message)
