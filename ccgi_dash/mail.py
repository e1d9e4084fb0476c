"""Sending mail: SMTP settings from secrets, an outbox that loses nothing, an audit of every send.

The SMTP server, port, TLS mode and credentials are secrets of the deployment, read like the
cookie key: environment variables first (``CCGI_SMTP_HOST``, ``CCGI_SMTP_PORT``,
``CCGI_SMTP_STARTTLS``, ``CCGI_SMTP_SSL``, ``CCGI_SMTP_USERNAME``, ``CCGI_SMTP_PASSWORD``),
else the ``[smtp]`` table of ``.streamlit/secrets.toml`` (the project's, then the one in the
home directory, as Streamlit reads them). Credentials are never sent over an unencrypted
connection to anything but the local machine.

Every message to be sent is first written to the **outbox** (``<data dir>/outbox/``, one
``.eml`` and one ``.json`` per message) and removed only once the server accepted it, so a
refused connection, a server that drops the line or a refused address leaves it there for
the next run, which retries it before anything new. Python's ``smtplib`` is the client: the
standard library's, well kept, and enough for one authenticated submission a week.
"""

from __future__ import annotations

import json
import os
import smtplib
import socket
import ssl
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from ccgi_dash.store import append_jsonl, atomic_write_text, now_iso, read_jsonl

ENV = {"host": "CCGI_SMTP_HOST", "port": "CCGI_SMTP_PORT", "starttls": "CCGI_SMTP_STARTTLS",
       "ssl": "CCGI_SMTP_SSL", "username": "CCGI_SMTP_USERNAME",
       "password": "CCGI_SMTP_PASSWORD"}
"""Secret -> the environment variable that sets it (wins over secrets.toml)."""
_LOCAL = {"localhost", "127.0.0.1", "::1"}


class MailConfigError(ValueError):
    """SMTP settings that cannot be used; the message says what to set."""


def secrets_files() -> list[Path]:
    """Where Streamlit reads secrets: the project's ``.streamlit/secrets.toml`` wins over the
    one in the home directory."""
    return [Path.cwd() / ".streamlit" / "secrets.toml",
            Path.home() / ".streamlit" / "secrets.toml"]


def _bool(value: object, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise MailConfigError(f"{name} must be true or false, not {value!r}")


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to submit mail. ``starttls`` upgrades a plain connection (port 587);
    ``ssl`` is TLS from the first byte (port 465)."""

    host: str
    port: int = 587
    starttls: bool = True
    ssl: bool = False
    username: str = ""
    password: str = field(default="", repr=False)
    timeout: float = 30.0

    @classmethod
    def from_secrets(cls, environ: Mapping[str, str] | None = None,
                     files: Iterable[Path] | None = None) -> SmtpConfig:
        """Read the settings: environment variables, else ``[smtp]`` in secrets.toml."""
        environ = os.environ if environ is None else environ
        table: dict[str, Any] = {}
        for path in reversed(list(secrets_files() if files is None else files)):
            if path.is_file():
                try:
                    raw = tomllib.loads(path.read_text(encoding="utf-8"))
                except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                    raise MailConfigError(f"{path}: not valid TOML ({exc})") from None
                smtp = raw.get("smtp", {})
                if not isinstance(smtp, dict):
                    raise MailConfigError(f"{path}: [smtp] must be a table")
                unknown = set(smtp) - set(ENV)
                if unknown:
                    raise MailConfigError(f"{path}: unknown [smtp] key(s) "
                                          f"{', '.join(sorted(unknown))}; known: "
                                          f"{', '.join(ENV)}")
                table.update(smtp)
        for key, var in ENV.items():
            if environ.get(var, "").strip():
                table[key] = environ[var].strip()
        host = str(table.get("host", "")).strip()
        if not host:
            raise MailConfigError("no SMTP server is configured: set CCGI_SMTP_HOST (and "
                                  "CCGI_SMTP_PORT, CCGI_SMTP_USERNAME, CCGI_SMTP_PASSWORD) or "
                                  "an [smtp] table in .streamlit/secrets.toml")
        use_ssl = _bool(table.get("ssl", False), "smtp ssl")
        try:
            port = int(table.get("port", 465 if use_ssl else 587))
        except (TypeError, ValueError):
            raise MailConfigError(f"smtp port must be a number, not {table.get('port')!r}"
                                  ) from None
        config = cls(host=host, port=port,
                     starttls=_bool(table.get("starttls", not use_ssl), "smtp starttls"),
                     ssl=use_ssl, username=str(table.get("username", "")),
                     password=str(table.get("password", "")))
        problem = config.problem()
        if problem:
            raise MailConfigError(problem)
        return config

    def problem(self) -> str | None:
        """Why these settings must not be used, or None."""
        if not 0 < self.port < 65536:
            return f"smtp port {self.port} is out of range"
        if self.ssl and self.starttls:
            return "choose one of smtp ssl (port 465) and starttls (port 587), not both"
        if self.username and not (self.ssl or self.starttls) and self.host not in _LOCAL:
            return ("SMTP credentials would cross the network unencrypted: turn on "
                    "CCGI_SMTP_STARTTLS (port 587) or CCGI_SMTP_SSL (port 465)")
        return None

    def connect(self) -> smtplib.SMTP:
        """An open, authenticated connection (raises OSError or SMTPException)."""
        context = ssl.create_default_context()
        if self.ssl:
            client: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                                    context=context)
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            client.ehlo()
            if self.starttls and not self.ssl:
                client.starttls(context=context)
                client.ehlo()
            if self.username:
                client.login(self.username, self.password)
        except BaseException:
            client.close()
            raise
        return client


@dataclass
class OutboxItem:
    """One message waiting in the outbox, and what is known about it."""

    key: str
    eml: Path
    meta: dict[str, Any]

    @property
    def username(self) -> str:
        return str(self.meta.get("username", ""))

    def message(self) -> EmailMessage:
        with open(self.eml, "rb") as fh:
            msg = BytesParser(policy=policy.default).parse(fh)
        assert isinstance(msg, EmailMessage)
        return msg


class Outbox:
    """``<data dir>/outbox``: messages not yet accepted by the server (``KEY.eml`` with its
    ``KEY.json``), and ``sent.jsonl``, the record of what was accepted."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @property
    def sent_log(self) -> Path:
        return self.root / "sent.jsonl"

    def put(self, key: str, message: EmailMessage, meta: Mapping[str, Any]) -> OutboxItem:
        """Keep a message (replacing one with the same key) before any attempt to send it."""
        self.root.mkdir(parents=True, exist_ok=True)
        eml = self.root / f"{key}.eml"
        atomic_write_text(eml, message.as_string(policy=policy.SMTP))
        info = {"created": now_iso(), "attempts": 0, "last_error": "", **meta}
        atomic_write_text(self.root / f"{key}.json", json.dumps(info, indent=1) + "\n")
        return OutboxItem(key, eml, info)

    def pending(self) -> list[OutboxItem]:
        """Every message still waiting, oldest key first."""
        if not self.root.is_dir():
            return []
        items = []
        for eml in sorted(self.root.glob("*.eml")):
            meta_path = eml.with_suffix(".json")
            try:
                meta = json.loads(meta_path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                meta = {}
            items.append(OutboxItem(eml.stem, eml, meta))
        return items

    def failed(self, item: OutboxItem, error: str) -> None:
        item.meta["attempts"] = int(item.meta.get("attempts", 0)) + 1
        item.meta["last_error"] = error
        item.meta["last_attempt"] = now_iso()
        atomic_write_text(item.eml.with_suffix(".json"), json.dumps(item.meta, indent=1) + "\n")

    def done(self, item: OutboxItem, address: str) -> None:
        """Record the accepted message in ``sent.jsonl`` and take it out of the outbox."""
        append_jsonl(self.sent_log, {"ts": now_iso(), "key": item.key,
                                     "username": item.username,
                                     "drop": item.meta.get("drop", ""), "to": address})
        item.eml.unlink(missing_ok=True)
        item.eml.with_suffix(".json").unlink(missing_ok=True)

    def drop(self, item: OutboxItem) -> None:
        """Remove a message that can no longer be delivered to anyone (its user is gone)."""
        item.eml.unlink(missing_ok=True)
        item.eml.with_suffix(".json").unlink(missing_ok=True)

    def sent_keys(self) -> set[str]:
        """The keys of every message the server accepted (so a rerun does not send twice)."""
        return {str(r.get("key")) for r in read_jsonl(self.sent_log)}


@dataclass(frozen=True)
class SendResult:
    key: str
    username: str
    ok: bool
    error: str = ""


def send(config: SmtpConfig, items: list[tuple[OutboxItem, EmailMessage]]) -> list[SendResult]:
    """Submit each message over one connection; a message the server refuses (a bounced
    address) fails alone, a connection that cannot be made or is lost fails the rest. Never
    raises for a delivery problem: every message gets a result."""
    results: list[SendResult] = []
    if not items:
        return results
    try:
        client = config.connect()
    except (OSError, smtplib.SMTPException) as exc:
        why = _reason(exc, config)
        return [SendResult(i.key, i.username, False, why) for i, _ in items]
    try:
        for n, (item, msg) in enumerate(items):
            try:
                refused = client.send_message(msg)
            except smtplib.SMTPRecipientsRefused as exc:
                codes = "; ".join(f"{addr}: {code} {err.decode(errors='replace')}"
                                  for addr, (code, err) in exc.recipients.items())
                results.append(SendResult(item.key, item.username, False,
                                          f"address refused ({codes})"))
                continue
            except (smtplib.SMTPServerDisconnected, OSError) as exc:
                why = _reason(exc, config)
                results += [SendResult(i.key, i.username, False, why) for i, _ in items[n:]]
                return results
            except smtplib.SMTPException as exc:
                results.append(SendResult(item.key, item.username, False, _reason(exc, config)))
                continue
            if refused:
                codes = "; ".join(f"{a}: {c}" for a, (c, _e) in refused.items())
                results.append(SendResult(item.key, item.username, False,
                                          f"address refused ({codes})"))
            else:
                results.append(SendResult(item.key, item.username, True))
    finally:
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            client.close()
    return results


def _reason(exc: BaseException, config: SmtpConfig) -> str:
    where = f"{config.host}:{config.port}"
    if isinstance(exc, ConnectionRefusedError):
        return f"connection to {where} refused"
    if isinstance(exc, socket.timeout | TimeoutError):
        return f"no answer from {where} (timed out)"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"{where} refused the username or password"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{where} answered {exc.smtp_code} {exc.smtp_error.decode(errors='replace')}"
    return f"{where}: {exc.__class__.__name__}: {exc}"
