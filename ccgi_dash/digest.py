"""The Friday digest: one e-mail per district leader and one per COE coordinator, after sync.

What it says: the data date, the week's changes of the headline rates (since the previous
drop, and against the same week last year), each rate's goal and whether the view is on pace
for it, and the follow-up counts with a link to the dashboard page that lists the students.
District leaders get a section per district of their record; coordinators (role ``coe``) get
the county and a table of the districts. Every number comes from ``export.metric_export``
(a district's numbers are its row of ``export --by district``), suppressed as everywhere.

No names and no SSIDs ever: mail is not a safe channel for student records. Only counts,
rates and district names are written; the lists stay behind the dashboard's sign-in.

``run(...)`` is what ``python -m ccgi_dash digest`` calls: ``--preview DIR`` writes each
message as ``.eml`` and ``.html`` for a person to check; ``--send`` puts every message in the
outbox (``ccgi_dash.mail.Outbox``), submits what is waiting, audits each attempt, and
reports failures with a non-zero exit; failed messages stay in the outbox for the next run.
A message already accepted for a recipient and drop is not sent again.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pandas as pd

from ccgi_dash import metrics
from ccgi_dash.accounts.actions import operator as current_operator
from ccgi_dash.accounts.audit import write_audit
from ccgi_dash.accounts.users import User
from ccgi_dash.brief import FollowUpCount, county_name_of, denominator, followup_counts, view_row
from ccgi_dash.export import metric_export
from ccgi_dash.mail import Outbox, SmtpConfig, send
from ccgi_dash.metrics import METRICS, Filters, Request
from ccgi_dash.pace import Pace, pace, projected_by
from ccgi_dash.privacy import format_count, format_rate, format_size
from ccgi_dash.scope import Scope
from ccgi_dash.settings import Settings
from ccgi_dash.store import DataDir, Warehouse

DIGEST_METRICS: tuple[str, ...] = ("aid_completed", "aid_submitted", "any_app_submitted",
                                   "account_registered")
"""The headline rates of every digest, in reading order (metrics with a goal are added)."""
KEY_METRIC = "aid_completed"


class DigestError(ValueError):
    """A digest that cannot be made (no data, no recipients); the message says why."""


@dataclass(frozen=True)
class Recipient:
    """Who gets a digest, and the scope their record grants (decided by ``accounts.signin``)."""

    username: str
    name: str
    email: str
    role: str
    districts: tuple[str, ...]

    @property
    def scope(self) -> Scope:
        if self.role == "coe":
            return Scope("coe", all_districts=True, student_level=False, user=self.username)
        return Scope("district", districts=self.districts, student_level=True,
                     user=self.username)


def recipients(users: Mapping[str, User]) -> tuple[list[Recipient], list[str]]:
    """District leaders and COE coordinators with an e-mail address, and a note for each
    enabled one without (set one with ``users set-email``)."""
    out, notes = [], []
    for u in sorted(users.values(), key=lambda u: u.username):
        if u.disabled or u.role not in ("coe", "district"):
            continue
        if u.role == "district" and not u.districts:
            continue
        if not u.email:
            notes.append(f"{u.username} ({u.role}) has no e-mail address: "
                         f"python -m ccgi_dash users set-email {u.username} ADDRESS")
            continue
        out.append(Recipient(u.username, u.name, u.email, u.role, tuple(u.districts)))
    return out, notes


@dataclass(frozen=True)
class Line:
    """One headline rate of a digest section: now, a week ago, last year, goal and pace."""

    metric_id: str
    title: str
    population: str
    numerator: int | None
    denominator: int | None
    """None where the population is another metric's hidden count (issue 14)."""
    rate: float | None
    suppressed: bool
    week_numerator: int | None
    week_rate: float | None
    last_year_rate: float | None
    pace: Pace | None

    @property
    def rate_text(self) -> str:
        return format_rate(self.rate, self.denominator, self.suppressed)

    @property
    def count_text(self) -> str:
        return "*" if self.suppressed else f"{format_count(self.numerator, False)} of " \
                                            f"{format_size(self.denominator)}"

    @staticmethod
    def _pts(now: float | None, then: float | None) -> str:
        if now is None or then is None:
            return "--"
        pts = round((now - then) * 100, 1)
        return "no change" if pts == 0 else f"{pts:+.1f} pts"

    @property
    def week_text(self) -> str:
        """The week's change: points and students."""
        pts = self._pts(self.rate, self.week_rate)
        if pts == "--" or self.numerator is None or self.week_numerator is None:
            return pts
        diff = self.numerator - self.week_numerator
        return f"{pts} ({diff:+,} students)"

    @property
    def year_text(self) -> str:
        return self._pts(self.rate, self.last_year_rate)

    @property
    def pace_text(self) -> str:
        p = self.pace
        if p is None or p.goal is None:
            if p and p.at_deadline and p.at_deadline.rate is not None and p.deadline:
                return f"projected {p.at_deadline.text} at {p.deadline:%b} {p.deadline.day}"
            return "--"
        if p.on_pace is None:
            return f"goal {p.goal.text}; no projection"
        word = "on pace" if p.on_pace else "NOT on pace"
        return f"goal {p.goal.text}: {word} (projected {p.at_deadline.text})" \
            if p.at_deadline else f"goal {p.goal.text}"


@dataclass(frozen=True)
class Section:
    """The digest of one view: a district, or the county."""

    title: str
    district: str | None
    lines: list[Line]
    followups: list[FollowUpCount]
    link: str
    link_text: str


@dataclass(frozen=True)
class Digest:
    """One recipient's digest, as data (the text, HTML and tests read the same object)."""

    recipient: Recipient
    drop: date
    previous_drop: date | None
    last_year_drop: date | None
    sections: list[Section]
    districts: pd.DataFrame = field(default_factory=pd.DataFrame)
    """For coordinators: the key metric by district (name, seniors, rate text, week change,
    projection text)."""
    synthetic: bool = False


def _url(base: str, page: str, params: Mapping[str, Any] | None = None) -> str:
    base = base.rstrip("/")
    query = f"?{urlencode(params, doseq=True)}" if params else ""
    return f"{base}/{page}{query}" if base else f"/{page}{query}"


def _rate(row: pd.Series | None) -> float | None:
    if row is None or bool(row["suppressed"]) or not denominator(row):
        return None
    return int(row["numerator"]) / int(row["denominator"])


def _num(row: pd.Series | None) -> int | None:
    if row is None or bool(row["suppressed"]) or pd.isna(row["numerator"]):
        return None
    return int(row["numerator"])


def _lines(wh: Warehouse, request: Request, settings: Settings,
           row_of: tuple[str, str] | None, prev: date | None,
           last: date | None) -> list[Line]:
    """The headline lines of a view (``request`` at the digest's drop, no filters; the row
    ``row_of`` of its breakdown table, or the county)."""
    ids = [*DIGEST_METRICS, *(m for m in settings.goals if m not in DIGEST_METRICS)]
    out = []
    for metric_id in ids:
        now = view_row(wh, request, metric_id, row_of)
        week = view_row(wh, request.at(prev), metric_id, row_of) if prev else None
        then = view_row(wh, request.at(last), metric_id, row_of) if last else None
        out.append(Line(metric_id, METRICS[metric_id].title,
                        METRICS[metric_id].population_title, _num(now), denominator(now),
                        _rate(now), bool(now["suppressed"]), _num(week), _rate(week),
                        _rate(then), pace(wh, request, metric_id, settings, row_of)))
    return out


def _district_names(wh: Warehouse, request: Request) -> dict[str, str]:
    frame = metric_export(wh, request, "account_registered", ("district",))
    return dict(zip(frame["district"].astype(str), frame["district_name"].astype(str),
                    strict=True))


def _districts_table(wh: Warehouse, request: Request, settings: Settings,
                     prev: date | None) -> pd.DataFrame:
    """The key metric by district for coordinators: rate, week change, projection (the
    leaderboard's ``pace.projected_by``)."""
    now = metric_export(wh, request, KEY_METRIC, ("district",))
    before = (metric_export(wh, request.at(prev), KEY_METRIC, ("district",))
              .set_index("district") if prev else pd.DataFrame())
    from ccgi_dash.goals import goal_for

    board = projected_by(wh, request, KEY_METRIC, "district", settings)
    proj = board.frame.set_index("district")
    rows = []
    for _, r in now.iterrows():
        if denominator(r) == 0:
            continue
        code = str(r["district"])
        rate = _rate(r)
        prev_rate = _rate(before.loc[code]) if code in before.index else None
        p = proj.loc[code]["projected"] if code in proj.index else None
        on_pace = proj.loc[code]["on_pace"] if code in proj.index else None
        goal = goal_for(settings, KEY_METRIC, request.as_of, code)
        p_text = "--" if p is None or pd.isna(p) else f"{float(p) * 100:.1f}%"
        if on_pace is not None and p_text != "--":
            p_text += " (on pace)" if on_pace else " (not on pace)"
        rows.append({"district": code, "District": str(r["district_name"]),
                     "Seniors": format_size(r["denominator"]),
                     "Completed": format_rate(r["rate"], r["denominator"], r["suppressed"]),
                     "Students": format_count(r["numerator"], bool(r["suppressed"])),
                     "Week": Line._pts(rate, prev_rate),
                     board.column: p_text,
                     "Goal": goal.text if goal else "--"})
    frame = pd.DataFrame(rows)
    return frame.sort_values("District", kind="stable").reset_index(drop=True) if rows \
        else frame


def build(wh: Warehouse, settings: Settings, recipient: Recipient, as_of: date | None = None,
          *, synthetic: bool = False) -> Digest:
    """One recipient's digest at the as-of drop (default: the latest)."""
    drop = wh.resolve(as_of)
    if drop is None:
        raise DigestError("no drop is loaded; run sync first")
    prev = metrics.previous_drop(wh.drops, drop)
    last = metrics.same_week_last_year(wh.drops, drop)
    scope = recipient.scope
    base = settings.digest.app_base_url
    request = Request(scope, Filters(), drop, settings.privacy.suppression_threshold)
    sections = []
    table = pd.DataFrame()
    if recipient.role == "coe":
        county = settings.county_name or county_name_of(wh, drop)
        sections.append(Section(
            f"{county + ' County' if county else 'The county'}, all districts", None,
            _lines(wh, request, settings, None, prev, last),
            followup_counts(wh, request),
            _url(base, "overview"), "Open the county overview"))
        table = _districts_table(wh, request, settings, prev)
    else:
        names = _district_names(wh, request)
        for code in recipient.districts:
            if code not in names:
                continue
            sections.append(Section(
                names[code], code, _lines(wh, request, settings, ("district", code), prev,
                                          last),
                followup_counts(wh, replace(request, filters=Filters(districts=(code,)))),
                _url(base, "students", {"district": code}),
                f"Open the student lists of {names[code]}"))
    return Digest(recipient, drop, prev, last, sections, table, synthetic)


# --- the message -------------------------------------------------------------------------------

def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def subject(settings: Settings, d: Digest) -> str:
    when = f"{d.drop:%b} {d.drop.day}, {d.drop.year}"
    text = settings.digest.subject.replace("{date}", when)
    return ("[Synthetic data] " if d.synthetic else "") + text


def text_body(d: Digest) -> str:
    """The plain-text part (what a screen reader or a text-only client reads)."""
    out = [f"Hello {d.recipient.name},", "",
           f"CaliforniaColleges.edu data as of {d.drop:%B} {d.drop.day}, {d.drop.year}"
           + (f" (previous drop {d.previous_drop:%b} {d.previous_drop.day})"
              if d.previous_drop else "") + "."]
    if d.synthetic:
        out += ["", "SYNTHETIC DATA: made-up students in real schools."]
    for s in d.sections:
        out += ["", s.title.upper(), ""]
        for ln in s.lines:
            out.append(f"- {ln.title} ({ln.population.lower()}): {ln.rate_text} "
                       f"({ln.count_text}); this week {ln.week_text}; vs last year "
                       f"{ln.year_text}; {ln.pace_text}")
        out += ["", "Students to follow up (counts only):"]
        out += [f"- {f.title}: {f.text}" for f in s.followups]
        out += ["", f"{s.link_text}: {s.link}"]
    if not d.districts.empty:
        out += ["", "FAFSA/CADAA COMPLETED BY DISTRICT", ""]
        for _, r in d.districts.iterrows():
            cells = [f"{c}: {r[c]}" for c in d.districts.columns if c not in ("district",
                                                                                "District")]
            out.append(f"- {r['District']}: " + "; ".join(cells))
    out += ["", "Groups of 1 to 10 students are shown as *. Projections assume this year "
            "gains what last year gained from the same week. This e-mail holds counts only; "
            "names are in the dashboard, behind sign-in.", ""]
    return "\n".join(out)


_TD = ('style="padding:3px 8px;border-bottom:1px solid #D9E2EC;text-align:{a};'
       'vertical-align:top"')


def html_body(d: Digest) -> str:
    """The HTML part: the same content as the text, in tables with headers."""
    left = _TD.format(a="left")
    right = _TD.format(a="right").replace('vertical-align:top"',
                                          'vertical-align:top;white-space:nowrap"')
    parts = [f"<p>Hello {_e(d.recipient.name)},</p>",
             f"<p>CaliforniaColleges.edu data as of <strong>{d.drop:%B} {d.drop.day}, "
             f"{d.drop.year}</strong>"
             + (f" (previous drop {d.previous_drop:%b} {d.previous_drop.day})"
                if d.previous_drop else "") + ".</p>"]
    if d.synthetic:
        parts.append('<p style="border:2px solid #D55E00;padding:4px 8px;color:#8A3B00">'
                     "<strong>Synthetic data:</strong> made-up students in real schools.</p>")
    for s in d.sections:
        rows = "".join(
            f"<tr><th scope=\"row\" {left}>{_e(ln.title)}<br><small>{_e(ln.population)}"
            f"</small></th><td {right}>{_e(ln.rate_text)}</td><td {right}>"
            f"{_e(ln.count_text)}</td><td {right}>{_e(ln.week_text)}</td><td {right}>"
            f"{_e(ln.year_text)}</td><td {left}>{_e(ln.pace_text)}</td></tr>"
            for ln in s.lines)
        follow = "".join(f"<tr><th scope=\"row\" {left}>{_e(f.title)}</th>"
                         f"<td {right}>{_e(f.text)}</td></tr>" for f in s.followups)
        parts.append(
            f"<h2 style=\"font-size:18px\">{_e(s.title)}</h2>"
            f"<table style=\"border-collapse:collapse\"><thead><tr>"
            f"<th scope=\"col\" {left}>Measure</th><th scope=\"col\" {right}>Rate</th>"
            f"<th scope=\"col\" {right}>Students</th><th scope=\"col\" {right}>This week</th>"
            f"<th scope=\"col\" {right}>Vs last year</th><th scope=\"col\" {left}>Goal and "
            f"pace</th></tr></thead><tbody>{rows}</tbody></table>"
            f"<h3 style=\"font-size:15px\">Students to follow up (counts only)</h3>"
            f"<table style=\"border-collapse:collapse\"><tbody>{follow}</tbody></table>"
            f"<p><a href=\"{_e(s.link)}\">{_e(s.link_text)}</a></p>")
    if not d.districts.empty:
        cols = [c for c in d.districts.columns if c != "district"]
        head = "".join(f"<th scope=\"col\" {left if c == 'District' else right}>{_e(c)}</th>"
                       for c in cols)
        body = "".join(
            "<tr>" + "".join(
                (f"<th scope=\"row\" {left}>{_e(r[c])}</th>" if c == "District" else
                 f"<td {right}>{_e(r[c])}</td>") for c in cols) + "</tr>"
            for _, r in d.districts.iterrows())
        parts.append("<h2 style=\"font-size:18px\">FAFSA/CADAA completed by district</h2>"
                     f"<table style=\"border-collapse:collapse\"><thead><tr>{head}</tr></thead>"
                     f"<tbody>{body}</tbody></table>")
    parts.append("<p style=\"color:#52606D;font-size:12px\">Groups of 1 to 10 students are "
                 "shown as *. Projections assume this year gains what last year gained from "
                 "the same week. This e-mail holds counts only; names are in the dashboard, "
                 "behind sign-in.</p>")
    return ("<!DOCTYPE html><html lang=\"en-US\"><head><meta charset=\"utf-8\">"
            "<title>College and career digest</title></head><body style=\"font-family:"
            "Arial,sans-serif;color:#1F2933\">" + "".join(parts) + "</body></html>")


def message(settings: Settings, d: Digest) -> EmailMessage:
    """The e-mail: plain text and HTML alternatives, addressed to the recipient."""
    msg = EmailMessage()
    msg["Subject"] = subject(settings, d)
    msg["From"] = settings.digest.sender or "CCGI dashboard <ccgi-dashboard@localhost>"
    msg["To"] = formataddr((d.recipient.name, d.recipient.email))
    sender_domain = msg["From"].addresses[0].domain or "localhost"
    msg["Message-ID"] = make_msgid("ccgi-digest", domain=sender_domain)
    msg["X-CCGI-Drop"] = d.drop.isoformat()
    msg.set_content(text_body(d))
    msg.add_alternative(html_body(d), subtype="html")
    return msg


def key(d: Digest) -> str:
    """The outbox key: one message per recipient and drop."""
    return f"{d.drop:%Y%m%d}-{d.recipient.username}"


# --- the run -----------------------------------------------------------------------------------

@dataclass
class DigestReport:
    """What a run did; ``exit_code`` 1 when anything failed (and was kept in the outbox)."""

    lines: list[str] = field(default_factory=list)
    failed: int = 0
    sent: int = 0

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


def _audit(dd: DataDir, operator: str, action: str, what: str, rows: int) -> None:
    write_audit(dd, user=operator, role="admin", scope=Scope.county(user=operator),
               action=action, what=what, rows=rows)


def run(dd: DataDir, settings: Settings, users: Mapping[str, User], *,
        preview: Path | None = None, smtp: SmtpConfig | None = None,
        as_of: date | None = None, synthetic: bool = False,
        progress: Callable[[str], None] | None = None) -> DigestReport:
    """Preview (``preview`` set) or send (``smtp`` set) this week's digests."""
    say = progress or (lambda _m: None)
    report = DigestReport()
    who = current_operator()
    people, notes = recipients(users)
    for note in notes:
        report.lines.append(f"note: {note}")
    if not settings.digest.app_base_url:
        report.lines.append("note: [digest] app_base_url is not set in settings.toml, so the "
                            "links in the e-mails are relative and will not open")
    wh = Warehouse(dd)
    try:
        if wh.empty:
            raise DigestError(f"no data is loaded in {dd.root}; run sync first")
        digests = [build(wh, settings, r, as_of, synthetic=synthetic) for r in people]
    finally:
        wh.close()
    if preview is not None:
        preview.mkdir(parents=True, exist_ok=True)
        for d in digests:
            msg = message(settings, d)
            (preview / f"{d.recipient.username}.eml").write_bytes(bytes(msg))
            (preview / f"{d.recipient.username}.html").write_text(html_body(d), encoding="utf-8")
            _audit(dd, who, "digest_preview", f"digest user:{d.recipient.username} "
                   f"drop:{d.drop}", len(d.sections))
        report.lines.append(f"wrote {len(digests)} digest(s) to {preview} (.eml and .html)")
        return report
    assert smtp is not None, "send needs SMTP settings"
    outbox = Outbox(dd.root / "outbox")
    sent_before = outbox.sent_keys()
    for d in digests:
        k = key(d)
        if k in sent_before:
            report.lines.append(f"{d.recipient.username}: the digest of {d.drop} was sent "
                                "before; not sent again")
            continue
        outbox.put(k, message(settings, d), {"username": d.recipient.username,
                                             "drop": d.drop.isoformat()})
    current = {r.username: r for r in people}
    batch = []
    for item in outbox.pending():
        person = current.get(item.username)
        if person is None:
            report.failed += 1
            report.lines.append(f"FAILED {item.key}: user {item.username!r} no longer gets "
                                "digests (removed, disabled or without an address); the "
                                "message was taken out of the outbox")
            _audit(dd, who, "digest_dropped", f"digest {item.key} user:{item.username}", 0)
            outbox.drop(item)
            continue
        msg = item.message()
        if msg["To"].addresses[0].addr_spec != person.email:  # the address was corrected
            del msg["To"]
            msg["To"] = formataddr((person.name, person.email))
        batch.append((item, msg))
    say(f"sending {len(batch)} message(s) through {smtp.host}:{smtp.port}")
    for (item, _msg), result in zip(batch, send(smtp, batch), strict=True):
        if result.ok:
            outbox.done(item, current[item.username].email)
            report.sent += 1
            report.lines.append(f"sent {item.key} to {item.username}")
            _audit(dd, who, "digest_sent", f"digest {item.key} user:{item.username}", 1)
        else:
            outbox.failed(item, result.error)
            report.failed += 1
            report.lines.append(f"FAILED {item.key} to {item.username}: {result.error}; kept "
                                f"in {outbox.root} for the next run")
            _audit(dd, who, "digest_failed", f"digest {item.key} user:{item.username} "
                   f"error:{result.error.split(' (')[0]}", 0)
    report.lines.append(f"{report.sent} sent, {report.failed} failed"
                        + (f" (in {outbox.root})" if report.failed else ""))
    return report
