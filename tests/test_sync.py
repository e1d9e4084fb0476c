"""``sync`` end to end against a real OpenSSH server: fetch, then load what was fetched."""

from __future__ import annotations

import dataclasses

import pytest

from ccgi_dash import sync as sync_mod
from ccgi_dash.fetch import FetchSecrets
from ccgi_dash.locking import SyncLock
from ccgi_dash.settings import Settings
from ccgi_dash.store import DataDir, read_manifest

from dropkit import make_drop
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
