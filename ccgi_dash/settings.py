"""Settings of one data directory: thresholds, column maps, delivery.

Settings live in ``<data dir>/settings.toml`` (or the file named by ``--config`` /
``CCGI_CONFIG``) so that each data directory, the demo one included, carries its own county,
thresholds and column maps. Every key has a default, so a missing file is a valid setup.
Secrets (passwords, cookie keys) never live here: see ``docs/``/README for secrets.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, fields
from datetime import date
from pathlib import Path
from typing import Any

from ccgi_dash.datasets import DATASETS


class SettingsError(ValueError):
    """A settings file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class IngestSettings:
    """Thresholds of drop-format.md's "Rejection" section, all adjustable per COE."""

    max_reject_rate: float = 0.01
    """Above this share of rejected rows in any one file, the whole drop is rejected."""
    roster_check_min_students: int = 100
    """Districts smaller than this in the previous drop are not checked for roster swings."""
    roster_shrink_limit: float = 0.5
    """A checked district keeping less than this share of its roster is refused."""
    roster_growth_limit: float = 2.0
    """A checked district growing beyond this multiple of its roster is refused."""
    max_file_mb: float = 2048.0
    """A file larger than this is refused as oversized (seed 004)."""
    datasets_not_received: tuple[str, ...] = ()
    """Datasets this COE does not receive; they may be missing from a drop."""
    memory_limit: str = "1GB"
    """DuckDB's memory limit while loading, so a load never starves the app."""


@dataclass(frozen=True)
class PrivacySettings:
    suppression_threshold: int = 11
    """Groups of 1..threshold-1 students are shown as ``*`` (CDE's rule: 1 to 10)."""


@dataclass(frozen=True)
class SftpSettings:
    host: str = ""
    port: int = 22
    username: str = ""
    remote_dir: str = "."
    known_hosts: str = ""
    """Path of the known_hosts file the server's key must be in."""
    key_file: str = ""
    """Path of a private key; the password, if any, comes from secrets, never from here."""
    delete_remote: bool = False
    """Remote files are never deleted unless this is true."""
    timeout_seconds: float = 30.0
    retries: int = 3


@dataclass(frozen=True)
class GoalSetting:
    """One ``[goals.<metric>]`` table: a county-wide goal, optional per-district goals.

    ``deadline`` is a date or the name of a deadline of the school year (``"cal_grant"``,
    resolved per school year by ``ccgi_dash.goals``), so one setting serves every year."""

    metric: str
    rate: float
    """The goal as a share, 0 < rate <= 1 (0.65 for 65%)."""
    deadline: date | str = "cal_grant"
    districts: dict[str, float] = field(default_factory=dict)
    """7-digit district code -> that district's own goal (same deadline)."""


NAMED_DEADLINES = ("cal_grant",)
"""Deadlines a goal may name instead of a date (``ccgi_dash.goals.deadline_date``)."""


@dataclass(frozen=True)
class DigestSettings:
    """``[digest]``: the Friday e-mail. SMTP host, port and credentials are secrets
    (``ccgi_dash.mail.SmtpConfig``), never here."""

    app_base_url: str = ""
    """Where the dashboard is served (https://...), for the links in the e-mails."""
    sender: str = ""
    """The From address, e.g. "CCGI dashboard <ccgi-dashboard@fcoe.org>"."""
    subject: str = "College and career: the week of {date}"
    """The subject line; ``{date}`` becomes the data date."""


@dataclass(frozen=True)
class Settings:
    county_code: str = ""
    """Two-digit county code; empty means: taken from the first drop loaded."""
    county_name: str = ""
    stale_after_days: int = 8
    ingest: IngestSettings = field(default_factory=IngestSettings)
    privacy: PrivacySettings = field(default_factory=PrivacySettings)
    sftp: SftpSettings = field(default_factory=SftpSettings)
    column_map: dict[str, dict[str, str]] = field(default_factory=dict)
    """dataset -> canonical column -> the header the COE's file uses."""
    value_map: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)
    """dataset -> canonical column -> arriving value -> canonical value."""
    goals: dict[str, GoalSetting] = field(default_factory=dict)
    """metric id -> its goal (``[goals.<metric>]``)."""
    digest: DigestSettings = field(default_factory=DigestSettings)
    source: str = ""


def _section(cls: type, raw: Any, where: str) -> Any:
    if raw is None:
        return cls()
    if not isinstance(raw, dict):
        raise SettingsError(f"{where} must be a table")
    known = {f.name: f for f in fields(cls)}
    unknown = set(raw) - set(known)
    if unknown:
        raise SettingsError(f"{where}: unknown setting(s) {', '.join(sorted(unknown))}; "
                            f"known: {', '.join(sorted(known))}")
    values: dict[str, Any] = {}
    for key, value in raw.items():
        default = getattr(cls(), key)
        if isinstance(default, tuple):
            if not isinstance(value, list):
                raise SettingsError(f"{where}.{key} must be a list")
            value = tuple(value)
        elif isinstance(default, bool):
            if not isinstance(value, bool):
                raise SettingsError(f"{where}.{key} must be true or false")
        elif isinstance(default, (int, float)):
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise SettingsError(f"{where}.{key} must be a number")
            value = type(default)(value)
        elif isinstance(default, str) and not isinstance(value, str):
            raise SettingsError(f"{where}.{key} must be text")
        values[key] = value
    return cls(**values)


def _maps(raw: Any, where: str, depth: int) -> dict:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise SettingsError(f"[{where}] must be a table")
    out: dict = {}
    for dataset, cols in raw.items():
        if dataset not in DATASETS:
            raise SettingsError(f"[{where}.{dataset}]: no such dataset; "
                                f"known: {', '.join(DATASETS)}")
        if not isinstance(cols, dict):
            raise SettingsError(f"[{where}.{dataset}] must be a table")
        names = DATASETS[dataset].names
        inner: dict = {}
        for col, value in cols.items():
            if col not in names:
                raise SettingsError(f"[{where}.{dataset}]: {col!r} is not a column of {dataset}; "
                                    f"columns: {', '.join(names)}")
            if depth == 1:
                if not isinstance(value, str):
                    raise SettingsError(f"[{where}.{dataset}] {col} must be a header name")
                inner[col] = value
            else:
                if not isinstance(value, dict) or not all(
                    isinstance(v, str) for v in value.values()
                ):
                    raise SettingsError(f"[{where}.{dataset}.{col}] must map values to values")
                inner[col] = {str(k): v for k, v in value.items()}
        out[dataset] = inner
    return out


def _goal_rate(value: Any, where: str) -> float:
    """A goal as a share: 0.65 or "65%". A bare 65 is refused rather than guessed at."""
    if isinstance(value, str):
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*%\s*", value)
        if not m:
            raise SettingsError(f"{where} must be a share like 0.65 or a percentage like "
                                f"\"65%\", not {value!r}")
        rate = float(m.group(1)) / 100
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        rate = float(value)
    else:
        raise SettingsError(f"{where} must be a share like 0.65 or a percentage like \"65%\"")
    if not 0 < rate <= 1:
        raise SettingsError(f"{where} = {value!r} is out of range: a goal is a share above 0 "
                            f"and at most 1 (0.65), or a percentage up to \"100%\"")
    return rate


def _goals(raw: Any, county_code: str) -> dict[str, GoalSetting]:
    """``[goals.<metric>]`` tables, checked against the metric catalogue."""
    from ccgi_dash.metrics import METRICS  # the catalogue: one list of metric ids

    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise SettingsError("[goals] must be a table of [goals.<metric id>] tables")
    out: dict[str, GoalSetting] = {}
    for metric, spec in raw.items():
        where = f"[goals.{metric}]"
        if metric not in METRICS:
            raise SettingsError(f"{where}: unknown metric {metric!r}; known: "
                                f"{', '.join(METRICS)}")
        if not isinstance(spec, dict):
            raise SettingsError(f"{where} must be a table with goal = 0.65")
        unknown = set(spec) - {"goal", "deadline", "districts"}
        if unknown:
            raise SettingsError(f"{where}: unknown setting(s) {', '.join(sorted(unknown))}; "
                                "known: deadline, districts, goal")
        if "goal" not in spec:
            raise SettingsError(f"{where}: goal is missing (goal = 0.65 or goal = \"65%\")")
        deadline = spec.get("deadline", "cal_grant")
        if isinstance(deadline, str) and deadline not in NAMED_DEADLINES:
            try:
                deadline = date.fromisoformat(deadline)
            except ValueError:
                raise SettingsError(
                    f"{where} deadline must be a date (2027-03-02) or one of "
                    f"{', '.join(repr(n) for n in NAMED_DEADLINES)}, not {deadline!r}") from None
        elif not isinstance(deadline, str) and (not isinstance(deadline, date)
                                                or hasattr(deadline, "hour")):
            raise SettingsError(f"{where} deadline must be a date (2027-03-02) or "
                                f"{', '.join(repr(n) for n in NAMED_DEADLINES)}")
        districts_raw = spec.get("districts", {})
        if not isinstance(districts_raw, dict):
            raise SettingsError(f"{where} districts must be a table: districts = "
                                "{ \"1062166\" = 0.70 }")
        districts: dict[str, float] = {}
        for code, value in districts_raw.items():
            code = str(code)
            if not (len(code) == 7 and code.isdigit()):
                raise SettingsError(f"{where} districts: {code!r} is not a district code "
                                    "(7 digits: county + district, like \"1062166\")")
            if county_code and not code.startswith(county_code):
                raise SettingsError(f"{where} districts: {code} is not in county "
                                    f"{county_code} (its code starts with {code[:2]})")
            districts[code] = _goal_rate(value, f"{where} districts.{code}")
        out[metric] = GoalSetting(metric, _goal_rate(spec["goal"], f"{where} goal"), deadline,
                                  districts)
    return out


def _sourced(parse: Any, source: str, *args: Any) -> Any:
    """Run a section parser, naming the settings file in its error."""
    try:
        return parse(*args)
    except SettingsError as exc:
        raise SettingsError(f"{source}: {exc}" if source else str(exc)) from None


def parse_settings(raw: dict[str, Any], source: str = "") -> Settings:
    """Build Settings from a parsed TOML document, refusing unknown keys by name."""
    top = {f.name for f in fields(Settings)} - {"source"}
    unknown = set(raw) - top
    if unknown:
        raise SettingsError(f"{source or 'settings'}: unknown setting(s) "
                            f"{', '.join(sorted(unknown))}; known: {', '.join(sorted(top))}")
    county = str(raw.get("county_code", ""))
    if county and not (len(county) == 2 and county.isdigit()):
        raise SettingsError(f"{source}: county_code must be two digits, like \"10\" for Fresno")
    ingest = _section(IngestSettings, raw.get("ingest"), "[ingest]")
    unknown_ds = set(ingest.datasets_not_received) - set(DATASETS)
    if unknown_ds:
        raise SettingsError(f"[ingest] datasets_not_received names unknown dataset(s) "
                            f"{', '.join(sorted(unknown_ds))}")
    if "students" in ingest.datasets_not_received:
        raise SettingsError("[ingest] datasets_not_received cannot list students: "
                            "the roster is the denominator of every rate")
    return Settings(
        county_code=county,
        county_name=str(raw.get("county_name", "")),
        stale_after_days=int(raw.get("stale_after_days", 8)),
        ingest=ingest,
        privacy=_section(PrivacySettings, raw.get("privacy"), "[privacy]"),
        sftp=_section(SftpSettings, raw.get("sftp"), "[sftp]"),
        column_map=_maps(raw.get("column_map"), "column_map", 1),
        value_map=_maps(raw.get("value_map"), "value_map", 2),
        goals=_sourced(_goals, source, raw.get("goals"), county),
        digest=_section(DigestSettings, raw.get("digest"), "[digest]"),
        source=source,
    )


def settings_path(data_dir: Path) -> Path:
    """The settings file in force: ``CCGI_CONFIG`` if set, else ``<data dir>/settings.toml``."""
    env = os.environ.get("CCGI_CONFIG")
    return Path(env) if env else Path(data_dir) / "settings.toml"


def load_settings(data_dir: Path, path: Path | None = None) -> Settings:
    """Read the settings of a data directory; a missing file means all defaults."""
    path = Path(path) if path else settings_path(data_dir)
    if not path.exists():
        return Settings(source="")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path}: not valid TOML ({exc})") from exc
    return parse_settings(raw, str(path))
