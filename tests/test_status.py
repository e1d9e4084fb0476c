"""The data status views: freshness, drops, and week-over-week changes flagged per district."""

from datetime import date

from ccgi_dash import status
from ccgi_dash.scope import Scope
from ccgi_dash.settings import Settings
from ccgi_dash.store import DataDir, Warehouse

from dropkit import ingest, make_drop, settings


def test_week_over_week_flags_a_shrinking_roster_and_a_falling_count(tmp_path):
    first = make_drop("2026-11-13", students=210)
    second = first.copy("2026-11-20")
    # twenty Long Beach students (Lakewood High) leave
    gone = {r["ssid"] for r in second.tables["students"]
            if r["school_cds"] == "19647251934678"}
    gone = set(sorted(gone)[:20])
    for name, rows in second.tables.items():
        second.tables[name] = [r for r in rows if r["ssid"] not in gone]
    # and one Los Angeles Unified account disappears (accounts only grow within a year)
    lausd = next(r for r in second.tables["students"]
                 if r["school_cds"].startswith("1964733") and r["account_created_date"])
    lausd["account_created_date"] = ""
    dd = DataDir(tmp_path / "data")
    for d in (first, second):
        folder = tmp_path / d.stamp
        d.write(folder)
        assert ingest(dd, folder, config=settings()).exit_code == 0
    wh = Warehouse(dd)
    wow = status.week_over_week(wh, Scope.county())
    flags = dict(zip(wow["district"], wow["flags"]))
    assert "roster -" in flags["1964725"]
    assert "Accounts registered fell" in flags["1964733"]
    assert wow["district"].iloc[0] in ("1964725", "1964733")  # flagged rows come first
    before = dict(zip(wow["district"], wow["students_before"]))
    now = dict(zip(wow["district"], wow["students_now"]))
    assert before["1964725"] - now["1964725"] == 20


def test_freshness_and_the_next_expected_drop(tmp_path):
    dd = DataDir(tmp_path / "data")
    folder = tmp_path / "d"
    make_drop("2026-11-06").write(folder)
    ingest(dd, folder, config=settings())
    fresh = status.freshness(dd, Settings(), today=date(2026, 11, 22))
    assert fresh.latest == date(2026, 11, 6) and fresh.age_days == 16 and fresh.stale
    assert fresh.next_expected == date(2026, 11, 27)
    assert not status.freshness(dd, Settings(), today=date(2026, 11, 10)).stale
    frame = status.drops_frame(dd)
    assert frame["students"].tolist() == [70]
    assert status.load_attempts(dd)["outcome"].tolist() == ["loaded"]


def test_the_manifest_version_follows_each_publication(tmp_path):
    from ccgi_dash.store import manifest_version, read_manifest

    dd = DataDir(tmp_path / "data")
    assert manifest_version(dd) == 0
    for day in ("2026-11-13", "2026-11-20"):
        folder = tmp_path / day
        make_drop(day).write(folder)
        ingest(dd, folder, config=settings())
        assert manifest_version(dd) == read_manifest(dd).version
    assert manifest_version(dd) == 2


def test_status_shows_the_disk_used_by_raw_files_databases_and_quarantine(tmp_path):
    dd = DataDir(tmp_path / "data")
    good = make_drop("2026-11-13")
    good.write(tmp_path / "good")
    assert ingest(dd, tmp_path / "good", config=settings()).exit_code == 0
    bad = make_drop("2026-11-20")
    bad.write(tmp_path / "bad")["uc_apply"].write_bytes(b"")
    assert ingest(dd, tmp_path / "bad", config=settings()).exit_code == 1

    usage = status.disk_usage(dd)
    for label, folder in (("raw files", dd.raw), ("databases", dd.warehouse),
                          ("quarantine", dd.quarantine)):
        files = [p for p in folder.rglob("*") if p.is_file()]
        assert files, label
        assert usage[label] == sum(p.stat().st_blocks * 512 for p in files), label
    assert all(p.name.endswith(".csv.gz") for p in (dd.raw / "20261113").iterdir())
    [line] = [x for x in status.status_lines(dd, Settings()) if x.startswith("Disk used:")]
    assert "raw files " in line and "databases " in line and "quarantine " in line
    assert status.size_text(usage["databases"]) in line
