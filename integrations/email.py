"""Send an email over SMTP (STARTTLS when `SMTP_TLS`, login when a username is set)."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from base.errors import ConfigError, SdbAgentError
from base.settings import Settings

TIMEOUT_SECONDS = 30


class EmailError(SdbAgentError):
    """The mail server refused or could not be reached. `permanent` for a 5xx answer, which a
    retry cannot fix (wrong password, refused sender)."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


def _smtp_error(exc: smtplib.SMTPException | OSError) -> EmailError:
    """Our error for the library's, with the server's reply (masked: servers echo logins)."""
    code = getattr(exc, "smtp_code", None)
    reply = getattr(exc, "smtp_error", b"")
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    if isinstance(code, int):
        return EmailError(f"SMTP server answered {code}: {text.strip()[:200]}",
                          permanent=500 <= code < 600)
    return EmailError(f"SMTP server unreachable or failed: {type(exc).__name__}",
                      permanent=False)


def smtp_configured(settings: Settings) -> str | None:
    """None when email can be sent, else why not (for the log)."""
    missing = [name for name, value in (
        ("SMTP_HOST", settings.smtp_host), ("REPORT_EMAIL_FROM", settings.report_email_from),
        ("REPORT_EMAIL_TO", settings.report_recipients),
    ) if not value]
    return f"{', '.join(missing)} not set" if missing else None


def send_email(message: EmailMessage, *, settings: Settings,
               timeout: float = TIMEOUT_SECONDS) -> None:
    """Deliver the message; EmailError (permanent or not) when the server does not take it.
    `timeout` bounds the connection and each reply (shorter on an LLM call's path)."""
    if settings.smtp_host is None:
        raise ConfigError("SMTP_HOST is not set; no email can be sent")
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port,
                          timeout=timeout) as smtp:
            if settings.smtp_tls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_username:
                password = (settings.smtp_password.get_secret_value()
                            if settings.smtp_password else "")
                smtp.login(settings.smtp_username, password)
            smtp.send_message(message)
    except (smtplib.SMTPException, OSError) as exc:
        raise _smtp_error(exc) from None
