"""The Friday digest against a real SMTP server on loopback (aiosmtpd).

Recipients come from a users file written through ``accounts.users``; the counts in each message are
checked against ``export``; no message may hold a student's name or SSID; a refused
connection and a refused address are reported with exit 1, kept in the outbox, and sent on
the next run.
"""

from __future__ import annotations

import contextlib
import re
import socket
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from ccgi_dash.accounts import audit as account_audit
from ccgi_dash.accounts import passwords, users
from ccgi_dash.cli import main
from ccgi_dash.mail import MailConfigError, SmtpConfig
from ccgi_dash.store import DataDir, Warehouse
from tests.conftest import FRESNO_UNIFIED, PASSWORD, export_rows

CLOVIS = "1062117"
BASE = "https://dash.example.org"
PEOPLE = {"cole": "cole@fcoe.example", "dora": "dora@fresno.example",
          "lena": "lena@clovis.example"}


class Inbox:
    """An aiosmtpd handler that keeps what it accepts and refuses the addresses listed."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((list(envelope.rcpt_tos), bytes(envelope.original_content)))
        return "250 Message accepted for delivery"

    def by_address(self) -> dict[str, object]:
        out = {}
        for rcpts, raw in self.messages:
            for r in rcpts:
                out[r] = BytesParser(policy=policy.default).parsebytes(raw)
        return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(monkeypatch):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    monkeypatch.setenv("CCGI_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("CCGI_SMTP_PORT", str(controller.port))
    monkeypatch.setenv("CCGI_SMTP_STARTTLS", "false")
    for var in ("CCGI_SMTP_SSL", "CCGI_SMTP_USERNAME", "CCGI_SMTP_PASSWORD"):
        monkeypatch.delenv(var, raising=False)
    try:
        yield inbox, controller.port
    finally:
        controller.stop()


@pytest.fixture
def people(live_env) -> DataDir:
    """A coordinator, two district leaders, one without an address and one disabled."""
    (live_env.root / "settings.toml").write_text(
        "[digest]\n"
        f'app_base_url = "{BASE}"\n'
        'sender = "CCGI dashboard <dashboard@fcoe.example>"\n'
        "[goals.aid_completed]\n"
        'goal = "65%"\n', encoding="utf-8")
    path = users.users_file_path()
    h = passwords.hash_password(PASSWORD)
    users.add_user(path, "cole", name="Cole Coordinator", role="coe", password_hash=h,
                  email=PEOPLE["cole"])
    users.add_user(path, "dora", name="Dora Diaz", role="district", password_hash=h,
                  districts=(FRESNO_UNIFIED,), email=PEOPLE["dora"])
    users.add_user(path, "lena", name="Lena Li", role="district", password_hash=h,
                  districts=(CLOVIS,), email=PEOPLE["lena"])
    users.add_user(path, "nomail", name="No Mail", role="district", password_hash=h,
                  districts=(CLOVIS,))
    users.add_user(path, "gone", name="Gone", role="district", password_hash=h,
                  districts=(CLOVIS,), email="gone@clovis.example")
    users.update_user(path, "gone", disabled=True)
    return live_env


def digest(dd: DataDir, *args: str) -> int:
    return main(["digest", "--data-dir", str(dd.root), *args])


def bodies(msg) -> str:
    return (msg.get_body(("plain",)).get_content() + "\n"
            + msg.get_body(("html",)).get_content())


def pct(row: dict) -> str:
    return f"{row['numerator'] / row['denominator'] * 100:.1f}%"


def roster(dd: DataDir) -> tuple[set[str], set[str], list[str]]:
    """The SSIDs, local ids and full names of the latest drop's roster."""
    with contextlib.closing(Warehouse(dd)) as wh, wh.query() as cur:
        rows = cur.execute(f"SELECT ssid, local_student_id, first_name, last_name FROM "
                           f"{wh.table(wh.latest, 'students')}").fetchall()
    names = [f"{r[2]} {r[3]}" for r in rows if r[2] and r[3]]
    names += [f"{r[3]}, {r[2]}" for r in rows if r[2] and r[3]]
    return {r[0] for r in rows}, {r[1] for r in rows if r[1]}, names


def audit_actions(dd: DataDir) -> list[str]:
    return [r["action"] for r in account_audit.read_audit(dd, 200)]


def test_one_message_per_leader_and_coordinator_with_the_numbers_of_export(people, smtp,
                                                                          capsys):
    inbox, _ = smtp
    assert digest(people, "--send") == 0
    out = capsys.readouterr().out
    assert "nomail (district) has no e-mail address" in out
    got = inbox.by_address()
    assert set(got) == set(PEOPLE.values())  # not the disabled user, not the one without
    dora, cole, lena = got[PEOPLE["dora"]], got[PEOPLE["cole"]], got[PEOPLE["lena"]]
    assert dora["X-CCGI-Drop"] == "2026-11-20"
    text = re.sub(r"\s+", " ", bodies(dora))
    for metric in ("aid_completed", "aid_submitted", "any_app_submitted",
                   "account_registered"):
        row = next(r for r in export_rows(people, "--metric", metric, "--by", "district")
                   if r["district"] == FRESNO_UNIFIED)
        assert f"{pct(row)} ({row['numerator']:,} of {row['denominator']:,})" in text, metric
    where = ["--where", f"district={FRESNO_UNIFIED}"]
    sub = export_rows(people, "--metric", "aid_submitted", *where)[0]
    opted = export_rows(people, "--metric", "aid_opted_out", *where)[0]
    no_aid = sub["denominator"] - sub["numerator"] - opted["numerator"]
    assert f"Seniors with no FAFSA/CADAA and no opt-out: {no_aid:,}" in text
    assert f"{BASE}/students?district={FRESNO_UNIFIED}" in text
    assert "goal 65% by Mar 2" in text
    assert "Clovis" not in text  # a leader's digest holds only their districts
    county = re.sub(r"\s+", " ", bodies(cole))
    row = export_rows(people, "--metric", "aid_completed")[0]
    assert f"{pct(row)} ({row['numerator']:,} of {row['denominator']:,})" in county
    assert "Fresno Unified" in county and "Clovis Unified" in county  # the district table
    assert "Fresno Unified" not in bodies(lena)
    assert audit_actions(people).count("digest_sent") == 3
    # run again for the same drop: nothing is sent twice
    assert digest(people, "--send") == 0
    assert len(inbox.messages) == 3
    assert "was sent before; not sent again" in capsys.readouterr().out


def test_no_name_and_no_ssid_in_any_message(people, smtp):
    inbox, _ = smtp
    assert digest(people, "--send") == 0
    ssids, local_ids, names = roster(people)
    assert len(ssids) > 1000 and len(names) > 1000
    for _rcpts, raw in inbox.messages:
        msg = BytesParser(policy=policy.default).parsebytes(raw)
        text = bodies(msg)
        content = text + raw.decode("utf-8", errors="replace")
        assert not re.search(r"(?<!\d)\d{10}(?!\d)", text)  # no SSID-like number at all
        assert not [i for i in ssids if i in content]
        words = set(re.findall(r"[\w-]+", text))
        assert not local_ids & words
        assert not [n for n in names if n in content]


def test_a_refused_connection_is_reported_kept_and_sent_next_run(people, smtp, monkeypatch,
                                                                 capsys):
    inbox, port = smtp
    monkeypatch.setenv("CCGI_SMTP_PORT", str(free_port()))  # nothing listens there
    assert digest(people, "--send") == 1
    err = capsys.readouterr().err
    assert err.count("FAILED") == 3 and "refused" in err
    outbox = Path(people.root) / "outbox"
    assert len(list(outbox.glob("*.eml"))) == 3
    assert audit_actions(people).count("digest_failed") == 3
    assert inbox.messages == []
    monkeypatch.setenv("CCGI_SMTP_PORT", str(port))
    assert digest(people, "--send") == 0
    assert set(inbox.by_address()) == set(PEOPLE.values())
    assert list(outbox.glob("*.eml")) == []


def test_a_refused_address_is_kept_until_it_is_corrected(people, smtp, capsys):
    inbox, _ = smtp
    inbox.refuse = {PEOPLE["lena"]}
    assert digest(people, "--send") == 1
    err = capsys.readouterr().err
    assert "FAILED" in err and "lena" in err and "address refused" in err
    assert set(inbox.by_address()) == {PEOPLE["cole"], PEOPLE["dora"]}
    kept = list((Path(people.root) / "outbox").glob("*.eml"))
    assert [p.stem.split("-", 1)[1] for p in kept] == ["lena"]
    # still refused: reported again, still kept
    assert digest(people, "--send") == 1
    assert len(list((Path(people.root) / "outbox").glob("*.eml"))) == 1
    # the address is corrected: the kept message goes to the new one
    users.update_user(users.users_file_path(), "lena", email="lena.li@clovis.example")
    assert digest(people, "--send") == 0
    assert "lena.li@clovis.example" in inbox.by_address()
    assert list((Path(people.root) / "outbox").glob("*.eml")) == []
    assert len(inbox.messages) == 3


def test_preview_writes_eml_and_html_per_recipient_and_sends_nothing(people, smtp, tmp_path):
    inbox, _ = smtp
    out = tmp_path / "preview"
    assert digest(people, "--preview", str(out)) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "cole.eml", "cole.html", "dora.eml", "dora.html", "lena.eml", "lena.html"]
    msg = BytesParser(policy=policy.default).parsebytes((out / "dora.eml").read_bytes())
    assert msg["To"].addresses[0].addr_spec == PEOPLE["dora"]
    assert "<html lang=\"en-US\">" in (out / "dora.html").read_text(encoding="utf-8")
    assert inbox.messages == []
    assert not (Path(people.root) / "outbox").exists()


def test_smtp_settings_come_from_secrets_and_refuse_plaintext_credentials(tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[smtp]\nhost = "smtp.example.org"\nport = 587\nusername = "u"\n'
                       'password = "s3cret-pw"\n', encoding="utf-8")
    config = SmtpConfig.from_secrets({}, [secrets])
    assert (config.host, config.port, config.starttls, config.username) == (
        "smtp.example.org", 587, True, "u")
    assert "s3cret-pw" not in repr(config) and config.password == "s3cret-pw"
    env = SmtpConfig.from_secrets({"CCGI_SMTP_PORT": "2525"}, [secrets])
    assert env.port == 2525  # the environment wins
    with pytest.raises(MailConfigError, match="unencrypted"):
        SmtpConfig.from_secrets({"CCGI_SMTP_STARTTLS": "false"}, [secrets])
    with pytest.raises(MailConfigError, match="no SMTP server"):
        SmtpConfig.from_secrets({}, [])


def test_every_digest_and_smtp_setting_is_documented():
    from ccgi_dash.mail import ENV
    from ccgi_dash.settings import DigestSettings

    text = (Path(__file__).resolve().parents[1] / "docs" / "acting.md").read_text()
    for name in [*DigestSettings.__dataclass_fields__, *ENV, *ENV.values()]:
        assert f"`{name}`" in text, name
