"""The errors of account management, shared by every module of :mod:`ccgi_dash.accounts`.

Kept apart so that the modules that raise them (users file, passwords, actions) need not
import each other for an exception class."""

from __future__ import annotations


class UsersError(ValueError):
    """An account action that cannot be done as asked (the CLI exits 2).

    A ValueError so that ``ccgi_dash.cli.main`` reports it as a usage error as well."""


class UsersFileError(UsersError):
    """The users file exists but cannot be read or does not validate."""


class UsersBusy(RuntimeError):
    """Another ``users`` command held the file's lock for longer than we wait."""
