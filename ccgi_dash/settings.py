"""Settings of one data directory: thresholds, column maps, delivery.

Settings live in ``<data dir>/settings.toml`` (or the file named by ``--config`` /
``CCGI_CONFIG``) so that each data directory, the demo one included, carries its own county,
thresholds and column maps. Every key has a default, so a missing file is a valid setup.
Secrets (passwords, cookie keys) never live here: see ``docs/``/README for secrets.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
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
