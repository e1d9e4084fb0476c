"""The audit log: one JSON line per export, download, student-level view, sign-in/out and
account action in ``<data dir>/logs/audit.jsonl``, scrubbed of anything that looks like
student PII, and read back from its end for the admins' page."""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ccgi_dash.scope import Scope
from ccgi_dash.store import DataDir, append_jsonl, now_iso

if TYPE_CHECKING:  # pandas is imported where a frame is built: every CLI command imports
    import pandas as pd  # the accounts package, and pandas would add a fifth of a second.

_LONG_NUMBER = re.compile(r"\d{10,}")
"""SSIDs are 10 digits: any run of 10 or more digits is PII unless it is a school code where
a school code belongs (see :func:`_is_code`)."""
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
_PII_KEY = re.compile(r"ssid|name|email|birth|dob|address|phone|cadaa|student_id|local_id",
                      re.IGNORECASE)
_CODE_FIELD = re.compile(r"^(?:(?P<school>school|cds)|(?P<district>district))(?:_?codes?|s)?$",
                         re.IGNORECASE)
"""Filter and scope fields whose values are CDS codes: ``school``/``schools``/``cds``/
``school_code`` hold 14-digit school codes, ``district``/``districts`` 7-digit ones."""
_FIELD_BEFORE = re.compile(r"(?P<field>[A-Za-z][A-Za-z_]*)\s*[=:]\s*(?:\d+\s*,\s*)*$")
"""In text such as ``school=10621661234567`` (how ``ui/audit`` writes the filters): the field
a number is the value of, when it directly follows ``field=`` (or a comma-separated list)."""
ACTION_RE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
REDACTED = "[redacted]"


def _is_code(field: str, digits: str) -> bool:
    """True when ``digits`` is a CDS code as the value of a field that holds one: 14 digits
    for a school field, 7 for a district field. A 10-digit SSID is never either, so it is
    redacted wherever it stands; so is a 14-digit number under any other field."""
    m = _CODE_FIELD.match(field)
    if m is None:
        return False
    return len(digits) == (14 if m.group("school") else 7)


def _scrub_text(text: str, key: str = "") -> tuple[str, int]:
    """``text`` (cut to 300 characters) with long numbers and email addresses redacted, and
    how many. ``key`` is the field the text is the value of, if any."""
    text = text[:300]
    kept_as_code = 0

    def number(m: re.Match[str]) -> str:
        nonlocal kept_as_code
        field = key
        if not _CODE_FIELD.match(field):  # "school=..." inside the text names its own field
            before = _FIELD_BEFORE.search(text, 0, m.start())
            field = before.group("field") if before else ""
        if _is_code(field, m.group(0)):
            kept_as_code += 1
            return m.group(0)
        return REDACTED

    out, n1 = _LONG_NUMBER.subn(number, text)
    out, n2 = _EMAIL.subn(REDACTED, out)
    return out, n1 - kept_as_code + n2


def scrub(value: Any, key: str = "") -> tuple[Any, int]:
    """A copy of ``value`` with PII-like content replaced, and how many were replaced.

    Deliberately blunt: the audit log should say what was looked at (page, metric, filter
    codes), never which student, and an over-redacted line is harmless. The one exception is
    a school or district code as the value of a school or district field: a filtered
    download must keep saying which school it was."""
    if key and _PII_KEY.search(key):
        return REDACTED, 1
    if isinstance(value, bool) or value is None:
        return value, 0
    if isinstance(value, int | float):
        text = str(value)
        if _LONG_NUMBER.search(text) and not _is_code(key, text):
            return REDACTED, 1
        return value, 0
    if isinstance(value, str):
        return _scrub_text(value, key)
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        total = 0
        for k, v in list(value.items())[:50]:
            clean_key, nk = _scrub_text(str(k))
            out[clean_key], nv = scrub(v, str(k))
            total += nk + nv
        return out, total
    if isinstance(value, list | tuple | set | frozenset):
        items = [scrub(v, key) for v in list(value)[:100]]
        return [v for v, _ in items], sum(n for _, n in items)
    return _scrub_text(str(value), key)


def write_audit(data_dir: DataDir, *, user: str, role: str, scope: Scope, action: str,
                what: str, rows: int, detail: Mapping[str, Any] | None = None
                ) -> dict[str, Any]:
    """Record an export, a download, a student-level view, a sign-in or an account action:
    who, when, which scope, what and how many rows. Returns the record as written.

    Anything in ``what`` or ``detail`` that looks like student PII (a 10+ digit number such
    as an SSID, an email address, a key naming a name/birthdate/SSID field) is replaced by
    ``[redacted]`` and counted in ``redacted`` rather than refused: losing the audit line of
    an export would be worse than losing a detail. Callers should pass codes only."""
    if not ACTION_RE.match(action):
        raise ValueError(f"audit action must be a short identifier, not {action!r}")
    clean_what, n_what = _scrub_text(str(what))
    clean_detail, n_detail = scrub(dict(detail or {}))
    record: dict[str, Any] = {
        "ts": now_iso(),
        "user": _scrub_text(str(user))[0][:80],
        "role": str(role),
        "dataset": scope.dataset,
        "districts": "all" if scope.all_districts else list(scope.districts),
        "student_level": scope.student_level,
        "action": action,
        "what": clean_what,
        "rows": int(rows),
    }
    if clean_detail:
        record["detail"] = clean_detail
    if n_what + n_detail:
        record["redacted"] = n_what + n_detail
        print(f"ccgi_dash.accounts.audit: audit({action}) dropped {n_what + n_detail} "
              "PII-like value(s); pass codes only", file=sys.stderr)
    append_jsonl(data_dir.audit_log, record)
    return record


TAIL_STEP = 65536
"""Bytes read per step from the end of the log."""


def read_audit(data_dir: DataDir, limit: int = 500) -> list[dict[str, Any]]:
    """The newest ``limit`` audit records, newest first. Reads the file from its end, so a
    years-long log costs no more than its tail; a line that is not JSON is skipped."""
    lines: list[bytes] = []
    try:
        with open(data_dir.audit_log, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            pos = fh.tell()
            buf = b""
            while pos > 0 and len(lines) <= limit:
                step = min(TAIL_STEP, pos)
                pos -= step
                fh.seek(pos)
                buf = fh.read(step) + buf
                parts = buf.split(b"\n")
                buf = parts[0]
                lines = parts[1:] + lines
            if pos == 0 and buf:
                lines = [buf, *lines]
    except FileNotFoundError:
        return []
    out: list[dict[str, Any]] = []
    for raw in reversed(lines):
        if len(out) >= limit:
            break
        if raw.strip():
            with contextlib.suppress(ValueError):
                out.append(json.loads(raw))
    return out


AUDIT_COLUMNS = {"ts": "When", "user": "User", "role": "Role", "dataset": "Data",
                 "districts": "Districts", "action": "Action", "what": "What", "rows": "Rows"}
"""The audit page's columns: record field -> heading."""


def audit_frame(data_dir: DataDir, limit: int = 2000) -> pd.DataFrame:
    """The newest audit records as a table for the admins' audit page, newest first."""
    import pandas as pd

    records = read_audit(data_dir, limit)
    frame = pd.DataFrame(records)
    for c in AUDIT_COLUMNS:
        if c not in frame:
            frame[c] = None
    frame["districts"] = [", ".join(d) if isinstance(d, list) else d for d in frame["districts"]]
    return frame[list(AUDIT_COLUMNS)].rename(columns=AUDIT_COLUMNS)
