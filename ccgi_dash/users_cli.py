"""``python -m ccgi_dash users ...``: manage the accounts that can sign in.

The only writer of the users file (the web app only reads it). Each action calls one function
of :mod:`ccgi_dash.auth`, which locks and atomically replaces the file, so two operators or a
script running several commands at once cannot corrupt it or lose a change.

Actions::

    users add USERNAME --role admin|coe|district [--districts CODES] [--name N] [--email E]
    users list [--json]
    users set-role USERNAME ROLE [--districts CODES]
    users set-districts USERNAME CODES
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

from ccgi_dash import auth
from ccgi_dash.scope import Scope
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
    env = os.environ.get(auth.ENV_USERS_FILE, "").strip()
    return (Path(env) if env else dd.root / "users.yaml"), dd


def _districts(values: list[str] | None) -> tuple[str, ...]:
    """``--districts 1062166,1062174`` and repeated ``--districts`` both work."""
    codes = [c for v in values or [] for c in v.replace(" ", ",").split(",")]
    return auth.clean_districts(codes)


def _read_password(args: argparse.Namespace, username: str) -> str:
    if args.password_stdin:
        line = sys.stdin.readline()
        if not line:
            raise auth.UsersError("--password-stdin: standard input is empty")
        password = line.rstrip("\r\n")
    else:
        password = getpass.getpass(f"New password for {username}: ")
        if getpass.getpass("Type it again: ") != password:
            raise auth.UsersError("the two passwords differ; nothing was changed")
    problem = auth.password_problem(password, username)
    if problem:
        raise auth.UsersError(problem)
    return password


def _audit(dd: DataDir, action: str, what: str) -> None:
    """User management is recorded in the audit log too: who changed which account."""
    who = auth.operator()
    auth.audit(dd, user=who, role="admin", scope=Scope.county(user=who), action=action,
               what=what, rows=0)


def _end_sessions(dd: DataDir, username: str) -> int:
    """End a user's sessions in the registry. The epoch bump already made them invalid, so a
    registry that cannot be reached only loses bookkeeping, not security."""
    try:
        return auth.registry(dd).end_all_sessions(username)
    except sqlite3.Error as exc:
        print(f"warning: could not update {auth.registry_path(dd)} ({exc}); the sessions are "
              "refused anyway because the user's session epoch changed", file=sys.stderr)
        return 0


def _handled(func: Handler) -> Handler:
    """Map "cannot be done now" (a busy lock, an unreachable registry, a file that cannot
    be written) to exit 1;
    UsersError (a ValueError) is left to the caller, which reports it with exit 2
    (``cli.main`` and :func:`main` alike)."""

    @functools.wraps(func)
    def wrapper(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except auth.UsersBusy as exc:
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
    path, dd = _paths(args)
    username = auth.normalize_username(args.username)
    districts = _districts(args.districts)
    for problem in (auth.username_problem(username), auth.role_problem(args.role, districts),
                    auth.name_problem(args.name or username)):
        if problem:  # checked before asking for a password nobody will use
            raise auth.UsersError(problem)
    if username in auth.read_users_file(path):
        raise auth.UsersError(f"user {username!r} already exists")
    password_hash = auth.hash_password(_read_password(args, username))
    user = auth.add_user(path, username, name=args.name or username, role=args.role,
                         password_hash=password_hash, districts=districts,
                         email=args.email or "")
    where = f" ({', '.join(user.districts)})" if user.districts else ""
    _audit(dd, "users_add", f"user:{user.username} role:{user.role}{where}")
    _say(f"added {user.username}: {user.role}{where}, in {path}")
    return EXIT_OK


@_handled
def cmd_users_list(args: argparse.Namespace) -> int:
    path, dd = _paths(args)
    users = auth.read_users_file(path)
    reg = auth.registry(dd) if auth.registry_path(dd).exists() else None
    now = time.time()
    rows = []
    for user in sorted(users.values(), key=lambda u: u.username):
        rec = user.public()
        locked = reg.locked_until(auth.name_hash(user.username), now) if reg else None
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
    path, dd = _paths(args)
    current = auth.read_users_file(path).get(auth.normalize_username(args.username))
    if args.districts is not None:
        districts = _districts(args.districts)
    elif args.role == "district":
        districts = current.districts if current else ()
    else:
        districts = ()  # admin and coe see the whole county
    user = auth.update_user(path, args.username, role=args.role, districts=districts)
    where = f" ({', '.join(user.districts)})" if user.districts else ""
    _audit(dd, "users_set_role", f"user:{user.username} role:{user.role}{where}")
    _say(f"{user.username} is now {user.role}{where}; this applies at their next click")
    return EXIT_OK


@_handled
def cmd_users_set_districts(args: argparse.Namespace) -> int:
    path, dd = _paths(args)
    user = auth.update_user(path, args.username, districts=_districts(args.codes))
    _audit(dd, "users_set_districts", f"user:{user.username} districts:{','.join(user.districts)}")
    _say(f"{user.username} now sees {', '.join(user.districts)}; this applies at their next "
         "click")
    return EXIT_OK


@_handled
def cmd_users_reset_password(args: argparse.Namespace) -> int:
    path, dd = _paths(args)
    username = auth.normalize_username(args.username)
    if username not in auth.read_users_file(path):
        raise auth.UsersError(f"no user {username!r} (see `python -m ccgi_dash users list`)")
    password_hash = auth.hash_password(_read_password(args, username))
    user = auth.update_user(path, username, password_hash=password_hash, bump_epoch=True)
    ended = _end_sessions(dd, user.username)
    auth.registry(dd).clear_failures(auth.name_hash(user.username))
    _audit(dd, "users_reset_password", f"user:{user.username}")
    _say(f"new password set for {user.username}; {ended} session(s) ended, a lock (if any) "
         "cleared")
    return EXIT_OK


@_handled
def cmd_users_disable(args: argparse.Namespace) -> int:
    path, dd = _paths(args)
    user = auth.update_user(path, args.username, disabled=True, bump_epoch=True)
    ended = _end_sessions(dd, user.username)
    _audit(dd, "users_disable", f"user:{user.username}")
    _say(f"disabled {user.username}; {ended} session(s) ended")
    return EXIT_OK


@_handled
def cmd_users_enable(args: argparse.Namespace) -> int:
    path, dd = _paths(args)
    user = auth.update_user(path, args.username, disabled=False)
    _audit(dd, "users_enable", f"user:{user.username}")
    _say(f"enabled {user.username}")
    return EXIT_OK


@_handled
def cmd_users_end_sessions(args: argparse.Namespace) -> int:
    path, dd = _paths(args)
    users = auth.read_users_file(path)
    if args.all == bool(args.usernames):
        raise auth.UsersError("name the users whose sessions to end, or give --all")
    names = sorted(users) if args.all else [auth.normalize_username(u) for u in args.usernames]
    for name in names:
        auth.update_user(path, name, bump_epoch=True)
        ended = _end_sessions(dd, name)
        _audit(dd, "users_end_sessions", f"user:{name}")
        _say(f"{name}: {ended} session(s) ended")
    return EXIT_OK


@_handled
def cmd_users_unlock(args: argparse.Namespace) -> int:
    _path, dd = _paths(args)
    username = auth.normalize_username(args.username)
    auth.registry(dd).clear_failures(auth.name_hash(username))
    _audit(dd, "users_unlock", f"user:{username}")
    _say(f"cleared failed sign-ins and any lock of {username}")
    return EXIT_OK


def _role(text: str) -> str:
    if text not in auth.ADMIN_ROLES:
        raise argparse.ArgumentTypeError(f"role must be one of {', '.join(auth.ADMIN_ROLES)} "
                                         "(demo is the passwordless demo, not a user)")
    return text


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser
             ) -> argparse.ArgumentParser:
    """Add ``users`` and its actions to a CLI. ``common`` is the CLI's parent parser with
    ``--data-dir`` (it is attached to each action, so options go after the action)."""
    where = argparse.ArgumentParser(add_help=False)
    where.add_argument("--users-file", help=f"users file (default: ${auth.ENV_USERS_FILE} or "
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
    p.add_argument("--email", help="email address, for the administrator's records")
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
