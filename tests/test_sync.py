"""``sync`` end to end against a real OpenSSH server: fetch, then load what was fetched."""

from __future__ import annotations

import dataclasses

import pytest

from ccgi_dash import sync as sync_mod
from ccgi_dash.fetch import FetchSecrets
from ccgi_dash.locking import SyncLock
from ccgi_dash.settings import Settings
from ccgi_dash.store import DataDir, read_manifest

from dropkit import flip_member_byte, make_drop
from sshd import SshServer, sshd_server

pytestmark = pytest.mark.sshd


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with sshd_server(tmp_path_factory.mktemp("sshd")) as srv:
        yield srv


def _settings(server: SshServer, remote) -> Settings:
    return dataclasses.replace(Settings(), sftp=server.settings(remote))


def test_sync_loads_what_was_fetched_and_then_has_nothing_new(server, tmp_path):
    remote = server.remote_dir("sync-basic")
    make_drop("2026-11-13").write(remote)
    make_drop("2026-11-20").write(remote)
    dd = DataDir(tmp_path / "data")
    report = sync_mod.sync(dd, _settings(server, remote), FetchSecrets())
    assert report.exit_code == 0, report.lines()
    assert len(report.fetch.fetched) == 20
    assert [d.drop_date for d in read_manifest(dd).drops] == ["2026-11-13", "2026-11-20"]
    assert not list(dd.inbox.glob("*.csv"))  # loaded files leave the inbox (kept in raw/)
    assert len(list((dd.raw / "20261120").iterdir())) == 10
    again = sync_mod.sync(dd, _settings(server, remote), FetchSecrets())
    assert again.exit_code == 0 and not again.fetch.fetched
    assert "No new complete drop to load." in again.lines()
    assert sync_mod.last_sync(dd)["exit_code"] == 0


def test_an_incomplete_drop_waits_for_its_last_file(server, tmp_path):
    remote = server.remote_dir("sync-partial")
    drop = make_drop("2026-11-20")
    drop.write(remote, skip=("ag_eligibility",))
    dd = DataDir(tmp_path / "data")
    first = sync_mod.sync(dd, _settings(server, remote), FetchSecrets())
    assert first.exit_code == 0
    assert first.waiting and "ag_eligibility" in first.waiting[0]
    assert not read_manifest(dd).drops
    drop.write(remote)  # the last file arrives
    second = sync_mod.sync(dd, _settings(server, remote), FetchSecrets())
    assert second.exit_code == 0, second.lines()
    assert [d.drop_date for d in read_manifest(dd).drops] == ["2026-11-20"]


def test_a_rejected_drop_is_quarantined_and_the_exit_code_says_so(server, tmp_path):
    remote = server.remote_dir("sync-bad")
    drop = make_drop("2026-11-20")
    paths = drop.write(remote)
    paths["uc_apply"].write_bytes(b"")  # no data in file
    dd = DataDir(tmp_path / "data")
    report = sync_mod.sync(dd, _settings(server, remote), FetchSecrets())
    assert report.exit_code == 1
    assert any(dd.quarantine.iterdir())
    assert not read_manifest(dd).drops


def test_two_syncs_never_overlap(server, tmp_path):
    remote = server.remote_dir("sync-lock")
    dd = DataDir(tmp_path / "data")
    dd.ensure()
    with SyncLock(dd):
        report = sync_mod.sync(dd, _settings(server, remote), FetchSecrets())
    assert report.exit_code == 3
    [line] = report.lines()  # one calm line, not "Fetch FAILED"
    assert line.startswith("Another sync is already running") and "code 3" in line
    assert "FAILED" not in line and "error" not in line.lower()


def test_missing_sftp_settings_exit_2(tmp_path):
    report = sync_mod.sync(DataDir(tmp_path / "data"), Settings(), FetchSecrets())
    assert report.exit_code == 2
    assert "host" in report.fetch_error


def test_a_damaged_zip_is_quarantined_the_good_drop_loads_and_the_next_sync_is_clean(
        server, tmp_path, capfd):
    """Issue 9: a byte-flipped zip beside a good newer drop. The zip is refused with its
    reason and quarantined, the good drop loads, the run says so without a traceback and
    exits 1; the zip leaves the inbox, so the next sync does not trip on it again."""
    from ccgi_dash import cli

    remote = server.remote_dir("sync-damaged")
    z = make_drop("2026-11-13").write_zip(remote)
    flip_member_byte(z, "students_20261113.csv")
    make_drop("2026-11-20").write(remote)
    dd = DataDir(tmp_path / "data")
    dd.ensure()
    (dd.root / "settings.toml").write_text(server.settings_toml(remote))

    code = cli.main(["sync", "--data-dir", str(dd.root)])
    out, err = capfd.readouterr()
    assert code == 1, out + err
    assert "Traceback" not in out + err
    assert "2026-11-13: rejected. Drop 2026-11-13 rejected: a zip or compressed file of this " \
           "drop is damaged" in out
    assert [d.drop_date for d in read_manifest(dd).drops] == ["2026-11-20"]
    [q] = list(dd.quarantine.iterdir())
    assert (q / z.name).read_bytes() == z.read_bytes()
    assert not (dd.inbox / z.name).exists()
    last = sync_mod.last_sync(dd)
    assert (last["rejected"], last["loaded"], last["exit_code"]) == (
        ["2026-11-13"], ["2026-11-20"], 1)

    again = cli.main(["sync", "--data-dir", str(dd.root)])
    out, err = capfd.readouterr()
    assert again == 0, out + err
    assert "No new complete drop to load." in out and "Traceback" not in out + err
    assert len(list(dd.quarantine.iterdir())) == 1


def test_a_second_sync_prints_one_calm_line_and_exits_3(server, tmp_path, capfd):
    from ccgi_dash import cli

    remote = server.remote_dir("sync-busy-cli")
    dd = DataDir(tmp_path / "data")
    dd.ensure()
    (dd.root / "settings.toml").write_text(server.settings_toml(remote))
    with SyncLock(dd):
        code = cli.main(["sync", "--data-dir", str(dd.root)])
    out, err = capfd.readouterr()
    assert code == 3
    assert err == "" and len(out.splitlines()) == 1
    assert out.startswith("Another sync is already running")
