"""``python -m ccgi_dash users ...``: manage the accounts that can sign in.

The only writer of the users file (the web app only reads it). This module parses arguments,
calls one function of :mod:`ccgi_dash.accounts.actions` per action (which changes the record
under the file's lock, ends sessions where the action requires it and writes the audit line)
and prints what was done.

Actions::

    users add USERNAME --role admin|coe|district [--districts CODES] [--name N] [--email E]
    users list [--json]
    users set-role USERNAME ROLE [--districts CODES]
    users set-districts USERNAME CODES
    users set-email USERNAME EMAIL          # "" clears it; the Friday digest goes there
    users reset-password USERNAME          # ends the user's sessions
    users disable USERNAME | enable USERNAME   # disable ends the user's sessions
    users end-sessions USERNAME... | --all
    users unlock USERNAME                  # clear failed sign-ins and a lock

Passwords are asked twice on the terminal, or read as one line from standard input with
``--password-stdin`` (for scripts). They are never accepted as an argument: arguments end up
in shell history and in ``ps`` output.

Exit codes follow ``ccgi_dash.cli``: 0 done, 1 could not be done now (the file is busy),
2 the request itself is wrong (unknown user, bad role, short password, ...).
"""

from __future__ import annotations

import argparse
import functools
import getpass
import json
import os
import sqlite3
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from ccgi_dash.accounts import actions, lockout
from ccgi_dash.accounts.config import ENV_USERS_FILE
from ccgi_dash.accounts.errors import UsersBusy, UsersError
from ccgi_dash.accounts.registry import registry, registry_path
from ccgi_dash.accounts.users import ADMIN_ROLES, clean_districts, read_users_file
from ccgi_dash.store import DataDir, default_data_dir

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

Handler = Callable[[argparse.Namespace], int]


def _say(msg: str) -> None:
    print(msg, flush=True)


def _paths(args: argparse.Namespace) -> tuple[Path, DataDir]:
    """The users file and the data directory (whose logs/ hold sessions and the audit log).

    ``--users-file`` wins, then ``CCGI_USERS_FILE``, then ``<data dir>/users.yaml``: the same
    rule the app uses, so the command edits the file the app reads."""
    dd = DataDir(Path(args.data_dir) if getattr(args, "data_dir", None) else default_data_dir())
    if getattr(args, "users_file", None):
        return Path(args.users_file), dd
    env = os.environ.get(ENV_USERS_FILE, "").strip()
    return (Path(env) if env else dd.root / "users.yaml"), dd


def _where(args: argparse.Namespace) -> dict[str, Path | DataDir]:
    """The ``users_path``/``data_dir`` keywords every action takes."""
    path, dd = _paths(args)
    return {"users_path": path, "data_dir": dd}


def _districts(values: list[str] | None) -> tuple[str, ...]:
    """``--districts 1062166,1062174`` and repeated ``--districts`` both work."""
    codes = [c for v in values or [] for c in v.replace(" ", ",").split(",")]
    return clean_districts(codes)


def _read_password(args: argparse.Namespace, username: str) -> str:
    if args.password_stdin:
        line = sys.stdin.readline()
        if not line:
            raise UsersError("--password-stdin: standard input is empty")
        password = line.rstrip("\r\n")
    else:
        password = getpass.getpass(f"New password for {username}: ")
        if getpass.getpass("Type it again: ") != password:
            raise UsersError("the two passwords differ; nothing was changed")
    return password  # the password rules are checked by the action


def _report(outcome: actions.Outcome) -> None:
    if outcome.warning:
        print(f"warning: {outcome.warning}", file=sys.stderr)


def _scope_text(districts: tuple[str, ...]) -> str:
    return f" ({', '.join(districts)})" if districts else ""


def _handled(func: Handler) -> Handler:
    """Map "cannot be done now" (a busy lock, an unreachable registry, a file that cannot
    be written) to exit 1;
    UsersError (a ValueError) is left to the caller, which reports it with exit 2
    (``cli.main`` and :func:`main` alike)."""

    @functools.wraps(func)
    def wrapper(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except UsersBusy as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_FAILED
        except sqlite3.Error as exc:
            print(f"error: the session registry could not be updated: {exc}", file=sys.stderr)
            return EXIT_FAILED
        except OSError as exc:
            print(f"error: {exc}; nothing was changed", file=sys.stderr)
            return EXIT_FAILED

    return wrapper


@_handled
def cmd_users_add(args: argparse.Namespace) -> int:
    where = _where(args)
    districts = _districts(args.districts)
    username = actions.check_new_user(args.username, role=args.role, districts=districts,
                                      name=args.name or "", email=args.email or "",
                                      users_path=where["users_path"])
    password = _read_password(args, username)  # asked only once the rest is known good
    user = actions.create_user(username, password, role=args.role, districts=districts,
                               name=args.name or username, email=args.email or "",
                               **where).user
    _say(f"added {user.username}: {user.role}{_scope_text(user.districts)}, in "
         f"{where['users_path']}")
    return EXIT_OK


@_handled
def cmd_users_list(args: argparse.Namespace) -> int:
    path, dd = _paths(args)
    users = read_users_file(path)
    reg = registry(dd) if registry_path(dd).exists() else None
    now = time.time()
    rows = []
    for user in sorted(users.values(), key=lambda u: u.username):
        rec = user.public()
        locked = lockout.locked_until(user.username, now, reg=reg) if reg else None
        rec["locked"] = locked is not None
        rows.append(rec)
    if args.json:
        _say(json.dumps(rows, indent=1))
        return EXIT_OK
    if not rows:
        _say(f"no users in {path}. Add the first administrator with:\n"
             f"  python -m ccgi_dash users add USERNAME --role admin --name \"Full Name\"")
        return EXIT_OK
    table = [("USERNAME", "ROLE", "STATUS", "DISTRICTS", "NAME", "EMAIL")]
    for r in rows:
        status = "disabled" if r["disabled"] else ("locked" if r["locked"] else "active")
        table.append((r["username"], r["role"], status, ",".join(r["districts"]) or "all",
                      r["name"], r["email"]))
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        _say("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return EXIT_OK


@_handled
def cmd_users_set_role(args: argparse.Namespace) -> int:
    districts = _districts(args.districts) if args.districts is not None else None
    user = actions.set_role(args.username, args.role, districts, **_where(args)).user
    _say(f"{user.username} is now {user.role}{_scope_text(user.districts)}; this applies at "
         "their next click")
    return EXIT_OK


@_handled
def cmd_users_set_districts(args: argparse.Namespace) -> int:
    user = actions.set_districts(args.username, _districts(args.codes), **_where(args)).user
    _say(f"{user.username} now sees {', '.join(user.districts)}; this applies at their next "
         "click")
    return EXIT_OK


@_handled
def cmd_users_set_email(args: argparse.Namespace) -> int:
    user = actions.set_email(args.username, args.email, **_where(args)).user
    if user.email:
        _say(f"{user.username}'s email is now {user.email}")
    else:
        _say(f"{user.username} has no email address now (no digest is sent to them)")
    return EXIT_OK


@_handled
def cmd_users_reset_password(args: argparse.Namespace) -> int:
    where = _where(args)
    user = actions.existing_user(args.username, where["users_path"])  # before the prompt
    outcome = actions.reset_password(user.username, _read_password(args, user.username),
                                     **where)
    _report(outcome)
    _say(f"new password set for {user.username}; {outcome.sessions_ended} session(s) ended, "
         "a lock (if any) cleared")
    return EXIT_OK


@_handled
def cmd_users_disable(args: argparse.Namespace) -> int:
    outcome = actions.disable_user(args.username, **_where(args))
    _report(outcome)
    _say(f"disabled {outcome.user.username}; {outcome.sessions_ended} session(s) ended")
    return EXIT_OK


@_handled
def cmd_users_enable(args: argparse.Namespace) -> int:
    user = actions.enable_user(args.username, **_where(args)).user
    _say(f"enabled {user.username}")
    return EXIT_OK


@_handled
def cmd_users_end_sessions(args: argparse.Namespace) -> int:
    where = _where(args)
    if args.all == bool(args.usernames):
        raise UsersError("name the users whose sessions to end, or give --all")
    names = sorted(read_users_file(where["users_path"])) if args.all else args.usernames
    for name in names:
        outcome = actions.end_user_sessions(name, **where)
        _report(outcome)
        _say(f"{outcome.user.username}: {outcome.sessions_ended} session(s) ended")
    return EXIT_OK


@_handled
def cmd_users_unlock(args: argparse.Namespace) -> int:
    _path, dd = _paths(args)
    username = actions.unlock_user(args.username, data_dir=dd)
    _say(f"cleared failed sign-ins and any lock of {username}")
    return EXIT_OK


def _role(text: str) -> str:
    if text not in ADMIN_ROLES:
        raise argparse.ArgumentTypeError(f"role must be one of {', '.join(ADMIN_ROLES)} "
                                         "(demo is the passwordless demo, not a user)")
    return text


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser
             ) -> argparse.ArgumentParser:
    """Add ``users`` and its actions to a CLI. ``common`` is the CLI's parent parser with
    ``--data-dir`` (it is attached to each action, so options go after the action)."""
    where = argparse.ArgumentParser(add_help=False)
    where.add_argument("--users-file", help=f"users file (default: ${ENV_USERS_FILE} or "
                       "<data dir>/users.yaml)")
    parents = [common, where]
    users = subparsers.add_parser(
        "users", help="manage who can sign in to the app",
        description="Add and change the accounts of the app. Passwords are stored as bcrypt "
                    "hashes; the app only reads the file. See docs/security.md.")
    sub = users.add_subparsers(dest="users_command", required=True, metavar="ACTION")

    def action(name: str, func: Handler, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, parents=parents, help=help_text, description=help_text)
        p.set_defaults(func=func)
        return p

    def password_option(p: argparse.ArgumentParser) -> None:
        p.add_argument("--password-stdin", action="store_true",
                       help="read the password as one line from standard input (for scripts)")

    codes_help = "district codes (7 digits), comma-separated, e.g. 1062166,1062174"
    p = action("add", cmd_users_add, "add an account (asks for its password twice)")
    p.add_argument("username")
    p.add_argument("--role", required=True, type=_role, help="admin, coe or district")
    p.add_argument("--districts", action="append", metavar="CODES", help=codes_help)
    p.add_argument("--name", help="display name (default: the username)")
    p.add_argument("--email", help="email address (the weekly digest is sent there)")
    password_option(p)

    p = action("list", cmd_users_list, "list the accounts (never their password hashes)")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = action("set-role", cmd_users_set_role, "change an account's role")
    p.add_argument("username")
    p.add_argument("role", type=_role)
    p.add_argument("--districts", action="append", metavar="CODES", help=codes_help)

    p = action("set-districts", cmd_users_set_districts, "change a district user's districts")
    p.add_argument("username")
    p.add_argument("codes", nargs="+", metavar="CODES", help=codes_help)

    p = action("set-email", cmd_users_set_email,
               "set the address the weekly digest is sent to (\"\" clears it)")
    p.add_argument("username")
    p.add_argument("email", help='an email address, or "" for none')

    p = action("reset-password", cmd_users_reset_password,
               "set a new password and end the account's sessions")
    p.add_argument("username")
    password_option(p)

    p = action("disable", cmd_users_disable, "stop an account from signing in; ends its sessions")
    p.add_argument("username")
    p = action("enable", cmd_users_enable, "let a disabled account sign in again")
    p.add_argument("username")

    p = action("end-sessions", cmd_users_end_sessions,
               "sign accounts out everywhere (every browser, every copied cookie)")
    p.add_argument("usernames", nargs="*", metavar="USERNAME")
    p.add_argument("--all", action="store_true", help="every account")

    p = action("unlock", cmd_users_unlock, "clear an account's failed sign-ins and lock")
    p.add_argument("username")
    return users


def build_parser() -> argparse.ArgumentParser:
    """A stand-alone parser (``main``) with the same common options as ``ccgi_dash.cli``."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", help="data directory (default: $CCGI_DATA_DIR or data/)")
    common.add_argument("--config", help=argparse.SUPPRESS)
    common.add_argument("-q", "--quiet", action="store_true", help=argparse.SUPPRESS)
    parser = argparse.ArgumentParser(prog="python -m ccgi_dash")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    register(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``users ...`` (argv starts with ``users``); the exit code, never SystemExit."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else EXIT_USAGE
    try:
        return int(args.func(args))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
