"""``python -m ccgi_dash``: a thin command line over the package.

Each command parses its arguments, calls one library function and prints what it returned.
Exit codes: 0 success, 1 something offered was rejected or failed, 2 usage errors (argparse's
own convention), so schedulers and scripts can act on them.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from ccgi_dash.locking import LockHeld
from ccgi_dash.priority import LOAD_NICE, lower_priority
from ccgi_dash.settings import Settings, SettingsError, load_settings
from ccgi_dash.store import DataDir, default_data_dir

if TYPE_CHECKING:
    from ccgi_dash.scope import Scope

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Arguments that parse but make no sense; reported with exit code 2."""


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-20") from exc


def _where(text: str) -> tuple[str, str]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"--where takes DIM=VALUE, not {text!r}")
    dim, value = text.split("=", 1)
    return dim.strip(), value.strip()


def _group(text: str) -> tuple[str, str]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"--group takes DIMENSION=VALUE (like "
                                         f"foster_youth=Y), not {text!r}")
    return _where(text)


def _nice(text: str) -> int:
    """``--nice``: 0-19, as ``nice`` takes them; an unprivileged process cannot go below 0."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 19:
        raise argparse.ArgumentTypeError(f"a nice value is a whole number from 0 to 19, got "
                                         f"{text!r}")
    return value


def _give_way(args: argparse.Namespace) -> None:
    """A load gives way to the app's users (see ``ccgi_dash.priority``), unless --nice 0."""
    if args.nice:
        lower_priority(args.nice)


def _say(msg: str) -> None:
    print(msg, flush=True)


def _context(args: argparse.Namespace) -> tuple[DataDir, Settings]:
    dd = DataDir(Path(args.data_dir) if args.data_dir else default_data_dir())
    config = Path(args.config) if getattr(args, "config", None) else None
    return dd, load_settings(dd.root, config)


def cmd_demo(args: argparse.Namespace) -> int:
    from ccgi_dash import demo
    from ccgi_dash.progress import DropProgress

    weeks = len(demo.drop_dates(args.through or date.today()))
    if args.load:
        dd, settings = _context(args)
        with DropProgress("Demo drops", quiet=args.quiet, total=weeks) as bar:
            summary, report = demo.generate_and_load(
                args.county, dd, settings, Path(args.out), seed=args.seed, scale=args.scale,
                through=args.through, watcher=bar, newest_first=args.newest_first,
                backfill_nice=demo.BACKFILL_NICE if args.newest_first else None)
        for line in summary.lines(loaded=True) + report.summary_lines():
            _say(line)
        return report.exit_code
    with DropProgress("Demo drops", quiet=args.quiet, total=weeks) as bar:
        summary = demo.generate(
            args.county, Path(args.out), seed=args.seed, scale=args.scale,
            through=args.through, newest_first=args.newest_first,
            on_drop=lambda when, _paths: bar.step(f"drop {when} written", str(when)))
    for line in summary.lines():
        _say(line)
    return EXIT_OK


def cmd_ingest(args: argparse.Namespace) -> int:
    from ccgi_dash import loader
    from ccgi_dash.progress import DropProgress

    dd, settings = _context(args)
    paths = [Path(p) for p in args.paths]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise UsageError(f"no such file or folder: {', '.join(missing)}")
    _give_way(args)
    with DropProgress("Loading", quiet=args.quiet) as bar:
        report = loader.ingest(dd, paths, settings, override_reason=args.override,
                               watcher=bar)
    for line in report.summary_lines():
        _say(line)
    return report.exit_code


def cmd_rebuild(args: argparse.Namespace) -> int:
    from ccgi_dash import loader
    from ccgi_dash.progress import DropProgress

    dd, settings = _context(args)
    _give_way(args)
    with DropProgress("Rebuilding", quiet=args.quiet) as bar:
        report = loader.rebuild(dd, settings, watcher=bar)
    for line in report.summary_lines():
        _say(line)
    return report.exit_code


def cmd_status(args: argparse.Namespace) -> int:
    from ccgi_dash import status

    dd, settings = _context(args)
    for line in status.status_lines(dd, settings):
        _say(line)
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    import duckdb

    from ccgi_dash import export
    from ccgi_dash.metrics import Filters, MetricError, RebuildNeeded, Request
    from ccgi_dash.scope import Scope
    from ccgi_dash.store import Warehouse

    dd, settings = _context(args)
    by = [b.strip() for b in args.by.split(",") if b.strip()] if args.by else []
    try:
        filters = Filters.parse(args.where or [])
    except MetricError as exc:
        raise UsageError(str(exc)) from exc
    wh = Warehouse(dd)
    try:
        if wh.empty:
            print(f"No data is loaded in {dd.root}. Load drops first: "
                  f"python -m ccgi_dash ingest PATH", file=sys.stderr)
            return EXIT_FAILED
        from ccgi_dash.metrics import outdated_drops

        if outdated_drops(wh):
            print(f"The drops in {dd.root} were loaded by an older version; rebuild them "
                  f"from their raw files first: python -m ccgi_dash rebuild --data-dir "
                  f"{dd.root}", file=sys.stderr)
            return EXIT_FAILED
        if args.as_of and wh.resolve(args.as_of) is None:
            print(f"No drop is loaded on or before {args.as_of}; the first is {wh.drops[0]}.",
                  file=sys.stderr)
            return EXIT_FAILED
        request = Request(Scope.county(), filters, args.as_of,
                          settings.privacy.suppression_threshold)
        try:
            frame = export.metric_export(wh, request, args.metric, by, raw=args.raw)
        except RebuildNeeded as exc:
            print(str(exc).replace("python -m ccgi_dash rebuild",
                                   f"python -m ccgi_dash rebuild --data-dir {dd.root}"),
                  file=sys.stderr)
            return EXIT_FAILED
        except MetricError as exc:
            raise UsageError(str(exc)) from exc
        except duckdb.Error as exc:
            print(f"The loaded data could not be read ({type(exc).__name__}). If the drops "
                  "were loaded by another version of this dashboard, rebuild them from their "
                  f"raw files: python -m ccgi_dash rebuild --data-dir {dd.root}",
                  file=sys.stderr)
            return EXIT_FAILED
    finally:
        wh.close()
    data = export.render(frame, args.format)
    if args.output:
        Path(args.output).write_bytes(data)
        _say(f"wrote {len(frame)} rows to {args.output}")
    else:
        sys.stdout.buffer.write(data.removeprefix("\ufeff".encode()))
        sys.stdout.flush()
    return EXIT_OK


def cmd_fetch(args: argparse.Namespace) -> int:
    from ccgi_dash.fetch import FetchConfigError, FetchError, FetchSecrets, fetch

    dd, settings = _context(args)
    dd.ensure()
    try:
        report = fetch(dd, settings.sftp, FetchSecrets.from_env(),
                       progress=None if args.quiet else _say)
    except FetchConfigError as exc:
        raise UsageError(str(exc)) from exc
    except FetchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    _say(report.summary())
    for err in report.errors:
        _say(f"  error: {err}")
    return EXIT_OK if report.ok else EXIT_FAILED


def cmd_sync(args: argparse.Namespace) -> int:
    from ccgi_dash.sync import sync

    dd, settings = _context(args)
    _give_way(args)
    report = sync(dd, settings, progress=None if args.quiet else _say)
    for line in report.lines():
        _say(line)
    return report.exit_code


def cmd_cleanup(args: argparse.Namespace) -> int:
    from ccgi_dash import quality
    from ccgi_dash.privacy import to_csv_bytes
    from ccgi_dash.scope import Scope
    from ccgi_dash.store import Warehouse

    dd, _ = _context(args)
    wh = Warehouse(dd)
    try:
        if wh.empty:
            print(f"No data is loaded in {dd.root}.", file=sys.stderr)
            return EXIT_FAILED
        scope = (Scope("admin", districts=tuple(args.district), student_level=True)
                 if args.district else Scope.county())
        findings = quality.cleanup_findings(wh, scope, args.as_of)
    finally:
        wh.close()
    if args.output:
        Path(args.output).write_bytes(to_csv_bytes(findings))
        _say(f"wrote {len(findings)} findings to {args.output}")
    summary = quality.cleanup_summary(findings)
    if summary.empty:
        _say("No findings: the districts' data passed every clean-up check.")
    else:
        _say(summary.to_string(index=False))
    return EXIT_OK


def _brief_scope(args: argparse.Namespace, dd: DataDir) -> tuple[Scope, str]:
    """The scope a brief or digest is made for: ``--user`` names an account whose record
    decides it (a district leader briefs only their districts), else the operator's county.
    The demo data directory gives a demo scope, so its pages say "synthetic data"."""
    from ccgi_dash.accounts.actions import operator
    from ccgi_dash.accounts.config import ENV_USERS_FILE
    from ccgi_dash.accounts.signin import scope_for
    from ccgi_dash.accounts.users import load_users, normalize_username
    from ccgi_dash.scope import Scope
    from ccgi_dash.store import demo_data_dir

    demo = dd.root.resolve() == demo_data_dir().resolve()
    if getattr(args, "user", None):
        users_path = Path(os.environ.get(ENV_USERS_FILE, "").strip()
                          or dd.root / "users.yaml")
        user = load_users(users_path).get(normalize_username(args.user))
        if user is None or user.disabled:
            raise UsageError(f"no enabled user {args.user!r} in {users_path}")
        return scope_for(user), user.username
    who = operator()
    return Scope.county("demo" if demo else "live", user=who), who


def cmd_brief(args: argparse.Namespace) -> int:
    from ccgi_dash import brief
    from ccgi_dash.accounts.audit import write_audit
    from ccgi_dash.metrics import Filters, Request
    from ccgi_dash.store import Warehouse

    dd, settings = _context(args)
    scope, who = _brief_scope(args, dd)
    wh = Warehouse(dd)
    try:
        if wh.empty:
            print(f"No data is loaded in {dd.root}.", file=sys.stderr)
            return EXIT_FAILED
        try:
            narrow = brief.narrowing_filters(args.grade or (), args.group or ())
            view = Filters(districts=(args.district,) if args.district else (),
                           schools=(args.school,) if args.school else (),
                           grades=narrow.grades, groups=narrow.groups)
            request = Request(scope, view, args.as_of, settings.privacy.suppression_threshold)
            data = brief.brief_data(wh, request, settings,
                                    synthetic=True if args.synthetic else None)
        except brief.BriefScopeError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_FAILED
        except brief.BriefError as exc:
            raise UsageError(str(exc)) from exc
    finally:
        wh.close()
    pdf = brief.pdf_of(data)
    Path(args.out).write_bytes(pdf)
    write_audit(dd, user=who, role=scope.role, scope=scope, action="brief_export",
               what=brief.audit_text(data), rows=1)
    _say(f"wrote the brief of {data.scope_name} (data of {data.drop}) to {args.out}")
    return EXIT_OK


def cmd_digest(args: argparse.Namespace) -> int:
    from ccgi_dash import digest
    from ccgi_dash.accounts.config import ENV_USERS_FILE
    from ccgi_dash.accounts.users import load_users
    from ccgi_dash.mail import MailConfigError, SmtpConfig
    from ccgi_dash.store import demo_data_dir

    dd, settings = _context(args)
    users_path = Path(os.environ.get(ENV_USERS_FILE, "").strip() or dd.root / "users.yaml")
    users = load_users(users_path)
    smtp = None
    if args.send:
        try:
            smtp = SmtpConfig.from_secrets()
        except MailConfigError as exc:
            raise UsageError(str(exc)) from exc
    synthetic = args.synthetic or dd.root.resolve() == demo_data_dir().resolve()
    try:
        report = digest.run(dd, settings, users, preview=Path(args.preview) if args.preview
                            else None, smtp=smtp, as_of=args.as_of, synthetic=synthetic,
                            progress=None if args.quiet else _say)
    except digest.DigestError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    for line in report.lines:
        (_say if not line.startswith("FAILED") else
         (lambda m: print(m, file=sys.stderr, flush=True)))(line)
    return report.exit_code


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", help="data directory (default: $CCGI_DATA_DIR or data/)")
    common.add_argument("--config", help="settings file (default: $CCGI_CONFIG or "
                        "<data dir>/settings.toml)")
    common.add_argument("-q", "--quiet", action="store_true", help="print only the summary")
    loads = argparse.ArgumentParser(add_help=False)
    loads.add_argument("--nice", type=_nice, default=LOAD_NICE, metavar="N",
                       help=f"run at this nice value, 0-19 (default {LOAD_NICE}): on a machine "
                            "shared with the app, its users get the cores first; on an idle "
                            "one the load runs as fast; 0 keeps the priority it started with")

    parser = argparse.ArgumentParser(
        prog="python -m ccgi_dash",
        description="Load CCGI weekly drops into DuckDB, report on them, and serve the "
                    "dashboards' numbers.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("demo", parents=[common], help="write synthetic weekly drops for a county",
                       description="Write realistic, plainly synthetic weekly drops for any "
                                   "California county: the whole previous school year and "
                                   "the current one up to --through.")
    p.add_argument("--county", default="Fresno", help="county name, e.g. \"Fresno\" (default)")
    p.add_argument("--out", required=True, help="folder to write the drops into")
    p.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    p.add_argument("--scale", type=float, default=1.0, help="roster size multiplier (default 1)")
    p.add_argument("--through", type=_date, default=None,
                   help="last drop date, YYYY-MM-DD (default: today)")
    p.add_argument("--load", action="store_true",
                   help="load each drop into the data directory as soon as it is written, "
                        "then remove its CSV files from --out (the loader keeps them "
                        "compressed in raw/)")
    p.add_argument("--newest-first", action="store_true",
                   help="write (and with --load, load) the current week first, then the "
                        "earlier weeks newest to oldest (the app can open as soon as the "
                        "first is loaded; <data dir>/backfill.json tracks the rest)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("ingest", parents=[common, loads],
                       help="load drops (folders, files or zips)",
                       description="Validate and load every complete drop found in the "
                                   "given folders, files or zips. Exit 0 when everything "
                                   "offered was loaded, 1 when something was rejected.")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--override", metavar="REASON",
                   help="load a drop despite a district roster swing; the reason is logged")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("rebuild", parents=[common, loads],
                       help="rebuild the database from raw files",
                       description="Re-validate every drop kept in <data dir>/raw and publish "
                                   "a freshly built warehouse in one step.")
    p.set_defaults(func=cmd_rebuild)

    p = sub.add_parser("status", parents=[common], help="what is loaded",
                       description="Drops loaded, rows per dataset, rejects, and recent loads.")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("export", parents=[common], help="export a metric as CSV or JSON",
                       description="One row per group: the breakdown columns, then metric, "
                                   "numerator, denominator, rate, suppressed. Small groups "
                                   "are suppressed unless --raw.")
    p.add_argument("--metric", required=True, help="metric id, e.g. aid_submitted")
    p.add_argument("--by", default="", help="one or two dimensions, e.g. district,gender")
    p.add_argument("--where", type=_where, action="append", metavar="DIM=VALUE",
                   help="filter (repeatable), e.g. --where grade_level=12")
    p.add_argument("--as-of", type=_date, help="use the drop in force on this date")
    p.add_argument("--format", choices=("csv", "json"), default="csv")
    p.add_argument("--raw", action="store_true", help="do not suppress small groups")
    p.add_argument("--output", "-o", help="write to this file instead of standard output")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("fetch", parents=[common], help="pull new drop files from CCGI's sFTP",
                       description="Download the drop files not fetched before from the sFTP "
                                   "folder in settings.toml [sftp] into <data dir>/inbox. "
                                   "Secrets come from CCGI_SFTP_PASSWORD / "
                                   "CCGI_SFTP_KEY_PASSPHRASE.")
    p.set_defaults(func=cmd_fetch)

    p = sub.add_parser("sync", parents=[common, loads],
                       help="fetch, then load every complete new drop",
                       description="Fetch from sFTP, then load the complete drops in the inbox. "
                                   "Safe from cron: two syncs never overlap. Exit 0 OK, 1 a "
                                   "drop was rejected or a file failed, 2 settings, 3 another "
                                   "sync is running.")
    p.set_defaults(func=cmd_sync)

    p = sub.add_parser("cleanup", parents=[common], help="the data clean-up report",
                       description="What to correct in the districts' student information "
                                   "systems: malformed or duplicated SSIDs, grades that do "
                                   "not fit the school, unknown or closed schools, "
                                   "contradicting statuses, student groups never reported.")
    p.add_argument("--district", action="append", metavar="CODE",
                   help="7-digit district code (repeatable); default: every district")
    p.add_argument("--as-of", type=_date, help="use the drop in force on this date")
    p.add_argument("--output", "-o", help="write every finding to this CSV file")
    p.set_defaults(func=cmd_cleanup)

    p = sub.add_parser("brief", parents=[common], help="the one-page PDF brief of a district",
                       description="One Letter page for a board meeting: the headline rates "
                                   "with last year, goal and pace, charts, follow-up counts. "
                                   "A tagged, accessible PDF; numbers as export gives them.")
    p.add_argument("--district", metavar="CODE", help="7-digit district code (default: the "
                   "county, or the one district of --user)")
    p.add_argument("--school", metavar="CDS", help="14-digit school code, within the district")
    p.add_argument("--grade", type=int, action="append", metavar="N",
                   help="only students of this grade, 6-12 (repeatable), as export's "
                        "--where grade_level=N")
    p.add_argument("--group", type=_group, action="append", metavar="DIMENSION=VALUE",
                   help="only this student group (repeatable; values of one dimension are "
                        "alternatives), e.g. --group foster_youth=Y, as export's --where")
    p.add_argument("--as-of", type=_date, help="use the drop in force on this date")
    p.add_argument("--out", required=True, metavar="FILE.pdf", help="where to write the PDF")
    p.add_argument("--user", metavar="USERNAME", help="make it as this account (its districts "
                   "only); default: the operator, county-wide")
    p.add_argument("--synthetic", action="store_true", help="mark the page as synthetic data "
                   "(automatic for the demo data directory)")
    p.set_defaults(func=cmd_brief)

    p = sub.add_parser("digest", parents=[common], help="the Friday e-mail to district "
                       "leaders and coordinators",
                       description="Run after sync: one e-mail per district leader (their "
                                   "districts) and per COE coordinator (the county) with the "
                                   "week's changes, goals and pace, and follow-up counts. No "
                                   "names or SSIDs. --send submits through the SMTP server in "
                                   "secrets (CCGI_SMTP_*); a failed message stays in <data "
                                   "dir>/outbox, is retried next run, and exits 1.")
    how = p.add_mutually_exclusive_group(required=True)
    how.add_argument("--preview", metavar="DIR", help="write each message as .eml and .html "
                     "into DIR for a person to check; send nothing")
    how.add_argument("--send", action="store_true", help="send (and retry the outbox)")
    p.add_argument("--as-of", type=_date, help="use the drop in force on this date")
    p.add_argument("--synthetic", action="store_true", help="mark the messages as synthetic "
                   "data (automatic for the demo data directory)")
    p.set_defaults(func=cmd_digest)

    from ccgi_dash import users_cli

    users_cli.register(sub, common)
    return parser


def _error_logs(args: argparse.Namespace) -> Path:
    """Where an unexpected error's traceback goes: the data directory's ``logs/``."""
    root = getattr(args, "data_dir", None) or default_data_dir()
    return DataDir(Path(root)).logs


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _run(args)
    except BrokenPipeError:  # the reader went away (`... | head`): stop quietly
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED
    except Exception as exc:  # a bug: one line here, the traceback in the log
        from ccgi_dash.store import log_error

        log = log_error(_error_logs(args), exc, f"python -m ccgi_dash {args.command}")
        print(f"error: {args.command} failed unexpectedly ({type(exc).__name__}: "
              f"{str(exc).strip().splitlines()[0] if str(exc).strip() else 'no message'}); "
              f"the traceback is in {log}. Data already loaded is unchanged.",
              file=sys.stderr)
        return EXIT_FAILED


def _run(args: argparse.Namespace) -> int:
    try:
        return int(args.func(args))
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (SettingsError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except LockHeld as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("interrupted; data already loaded is unchanged", file=sys.stderr)
        return EXIT_FAILED
