"""Sign-in settings from the environment: lockout and session limits, and their names.

Every module of :mod:`ccgi_dash.accounts` that reads the environment names its variable here,
so :data:`SETTINGS_ENV` is the complete list docs/security.md must document (a test checks)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

ENV_USERS_FILE = "CCGI_USERS_FILE"
ENV_COOKIE_KEY = "CCGI_COOKIE_KEY"
ENV_MAX_FAILURES = "CCGI_LOGIN_MAX_FAILURES"
ENV_FAILURE_WINDOW = "CCGI_LOGIN_WINDOW_MINUTES"
ENV_LOCK_MINUTES = "CCGI_LOGIN_LOCK_MINUTES"
ENV_FAILURE_DELAY = "CCGI_LOGIN_FAILURE_DELAY"
ENV_SESSION_IDLE = "CCGI_SESSION_IDLE_HOURS"
ENV_SESSION_DAYS = "CCGI_SESSION_DAYS"
SETTINGS_ENV = (ENV_USERS_FILE, ENV_COOKIE_KEY, ENV_MAX_FAILURES, ENV_FAILURE_WINDOW,
                ENV_LOCK_MINUTES, ENV_FAILURE_DELAY, ENV_SESSION_IDLE, ENV_SESSION_DAYS)
"""Every environment variable the accounts package reads (docs/security.md documents each)."""

FAILED_MESSAGE = ("Sign-in failed. Check your username and password; after repeated failures "
                  "an account is locked for 15 minutes.")
"""The one message for every refusal: unknown user, wrong password, disabled, locked (with
the default lock time; see :attr:`AuthSettings.failed_message`)."""


@dataclass(frozen=True)
class AuthSettings:
    """Lockout and session limits. Defaults follow the spec; each has an env override so an
    operator can tune them without a code change (see docs/security.md)."""

    max_failures: int = 5
    failure_window: float = 15 * 60.0
    lock_seconds: float = 15 * 60.0
    failure_delay: float = 0.5
    """Seconds added to a failed attempt's answer per recent failure of that name."""
    max_failure_delay: float = 3.0
    session_idle: float = 12 * 3600.0
    session_lifetime: float = 7 * 86400.0

    @property
    def failed_message(self) -> str:
        """:data:`FAILED_MESSAGE`, naming the lock time actually configured."""
        minutes = round(self.lock_seconds / 60)
        return FAILED_MESSAGE.replace("15 minutes", f"{minutes} minute{'s' * (minutes != 1)}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AuthSettings:
        """Read the overrides; a malformed one raises ValueError naming the variable, because
        a lockout silently falling back to another value is worse than refusing to start."""
        env = os.environ if environ is None else environ

        def number(name: str, default: float, scale: float, minimum: float) -> float:
            raw = env.get(name, "").strip()
            if not raw:
                return default
            try:
                value = float(raw) * scale
            except ValueError:
                raise ValueError(f"{name} must be a number, not {raw!r}") from None
            if not value >= minimum:
                raise ValueError(f"{name} must be at least {minimum / scale:g}")
            return value

        d = cls()
        return cls(
            max_failures=int(number(ENV_MAX_FAILURES, d.max_failures, 1, 1)),
            failure_window=number(ENV_FAILURE_WINDOW, d.failure_window, 60, 60),
            lock_seconds=number(ENV_LOCK_MINUTES, d.lock_seconds, 60, 60),
            failure_delay=number(ENV_FAILURE_DELAY, d.failure_delay, 1, 0),
            max_failure_delay=d.max_failure_delay,
            session_idle=number(ENV_SESSION_IDLE, d.session_idle, 3600, 60),
            session_lifetime=number(ENV_SESSION_DAYS, d.session_lifetime, 86400, 3600),
        )
