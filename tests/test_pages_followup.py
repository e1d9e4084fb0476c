"""Students, Data clean-up, Data status and Audit log pages: who may open them, and what
they show."""

import contextlib

import pandas as pd
from streamlit.testing.v1 import AppTest

from ccgi_dash import quality
from ccgi_dash.accounts.audit import read_audit, write_audit
from ccgi_dash.scope import Scope
from ccgi_dash.store import Warehouse

from conftest import ROOT, demo_app, export_rows, table_values, table_with, user_app

FRESNO_UNIFIED = "1062166"


def _table(at, key):
    return next(d.value for d in at.dataframe if d.key == key) if any(
        d.key == key for d in at.dataframe) else None


def test_students_list_counts_match_the_metrics(app_env, demo_data):
    at = demo_app(f"district:{FRESNO_UNIFIED}", "app_pages/students.py")
    assert not at.exception
    rows = at.dataframe[0].value
    # seniors with neither a submitted FAFSA/CADAA nor an opt-out, from the catalogue
    where = ["--where", f"district={FRESNO_UNIFIED}"]
    seniors = export_rows(demo_data, "--metric", "aid_submitted", "--raw", *where)[0]
    opted = export_rows(demo_data, "--metric", "aid_opted_out", "--raw", *where)[0]
    assert len(rows) == seniors["denominator"] - seniors["numerator"] - opted["numerator"]
    assert set(rows["District"]) == {"Fresno Unified"}
    assert rows["SSID"].str.fullmatch(r"\d{10}").all()


def test_students_search_and_lists(app_env):
    at = demo_app(f"district:{FRESNO_UNIFIED}", "app_pages/students.py")
    first = at.dataframe[0].value.iloc[0]
    at.text_input(key="students_search").set_value(first["SSID"]).run()
    assert at.dataframe[0].value["SSID"].tolist() == [first["SSID"]]
    for choice in ("eligible_not_applied", "no_account", "started_not_submitted"):
        at.text_input(key="students_search").set_value("").run()
        at.radio(key="students_list").set_value(choice).run()
        assert not at.exception


def test_student_views_are_audited_without_pii(app_env, demo_data):
    at = demo_app(f"district:{FRESNO_UNIFIED}", "app_pages/students.py")
    shown = at.dataframe[0].value
    log = read_audit(demo_data, 50)
    views = [r for r in log if r["action"] == "student_list_view"]
    assert views and views[0]["rows"] == len(shown)
    assert FRESNO_UNIFIED in str(views[0]["districts"])
    text = demo_data.audit_log.read_text()
    assert not any(ssid in text for ssid in shown["SSID"])
    assert not any(name in text for name in shown["Last name"].dropna())


def test_students_list_sorts_dates_as_dates_and_leaves_empty_ones_blank(app_env):
    """A list a counselor works through: dates are dates (they sort as dates), a missing
    date is an empty cell, not "None", and the grade is a number."""
    at = demo_app(f"district:{FRESNO_UNIFIED}", "app_pages/students.py")
    table = at.dataframe[0]
    rows = table.value
    assert table.proto.placeholder == ""
    for col in ("Account created", "Last login"):
        assert str(rows[col].dtype).startswith("date32"), col
        assert rows[col].isna().any(), "the demo has seniors who never signed in"
        assert not rows[col].astype(str).isin(["None", "NaT"]).any()
    assert pd.api.types.is_integer_dtype(rows["Grade"])
    ordered = rows.sort_values("Last login")["Last login"].dropna()
    assert ordered.is_monotonic_increasing


def test_coordinator_sees_cleanup_counts_per_district_and_no_student_rows(app_env, demo_data):
    """The coordinator's clean-up page: the findings per district as counts
    (``quality.cleanup_counts``), no student row, no SSID, nothing audited as a view."""
    coe = Scope("demo", all_districts=True, student_level=False, dataset="demo")
    with contextlib.closing(Warehouse(demo_data)) as wh:
        expected = quality.counts_table(quality.cleanup_counts(wh, coe))
        findings = quality.cleanup_findings(wh, Scope.county("demo"))
    assert expected["Total"].sum() > 0, "the demo plants records to clean up"
    at = demo_app("coe", "app_pages/cleanup.py")
    assert not at.exception
    shown = at.dataframe[0].value
    pd.testing.assert_frame_equal(shown.reset_index(drop=True), expected, check_dtype=False)
    assert len(at.dataframe) == 1 and "cleanup_check" not in [s.key for s in at.selectbox]
    everything = " ".join(str(v) for d in at.dataframe for v in d.value.to_numpy().ravel())
    assert not any(ssid in everything for ssid in findings["ssid"].dropna() if len(ssid) > 4)
    assert "SSID" not in shown.columns


def test_coordinator_cannot_reach_student_pages(app_env):
    at = demo_app("coe")
    for path in ("app_pages/students.py", "app_pages/data_status.py"):
        try:
            at.switch_page(path).run()
        except ValueError:
            continue  # not registered in this user's navigation
        raise AssertionError(f"{path} is reachable by a coordinator")


def test_pages_refuse_without_a_signed_in_user(app_env):
    for name in ("overview", "students", "cleanup", "data_status", "audit_log"):
        page = AppTest.from_file(str(ROOT / f"app_pages/{name}.py"), default_timeout=30).run()
        assert any("sign in" in w.value for w in page.warning), name
        assert not page.dataframe and not page.metric


def test_cleanup_page_for_a_district(app_env, demo_data):
    """A district leader's clean-up page lists their district's findings, counted as the
    clean-up report counts them, and nothing of another district."""
    with contextlib.closing(Warehouse(demo_data)) as wh:
        county = quality.cleanup_findings(wh, Scope.county("demo"))
        assert not county.empty, "the demo plants records to clean up"
        code = county["district_code"].value_counts().index[0]
        findings = quality.cleanup_findings(
            wh, Scope("demo", districts=(code,), student_level=True, dataset="demo"))
    at = demo_app(f"district:{code}", "app_pages/cleanup.py")
    assert not at.exception
    expected = quality.cleanup_summary(findings)
    assert not expected.empty
    summary = table_values(at, *expected.columns)
    pd.testing.assert_frame_equal(summary.reset_index(drop=True),
                                  expected.reset_index(drop=True), check_dtype=False)
    others = set(county["district_name"]) - set(findings["district_name"])
    assert not others & set(summary.astype(str).to_numpy().ravel())
    for check in sorted(set(findings["check"])):
        at.selectbox(key="cleanup_check").set_value(check).run()
        listed = quality.findings_for(findings, check)
        rows = next(d.value for d in at.dataframe
                    if list(d.value.columns) == list(listed.columns))
        assert len(rows) == len(listed), check
        assert quality.CHECKS[check].advice in [c.value for c in at.caption]


def test_admin_pages(live_env):
    at = user_app("ada", "admin", page="app_pages/data_status.py")
    assert not at.exception
    drops = table_values(at, "students")
    assert len(drops) >= 20 and "students" in drops.columns


def test_the_audit_log_page_shows_the_records_newest_first(live_env):
    """Records written to the live data directory's log appear on the page, newest first,
    with their scope, action, what and row count; a line that is not JSON is skipped."""
    dora = Scope("district", districts=(FRESNO_UNIFIED, "1062174"), student_level=True,
                 dataset="live", user="dora")
    ada = Scope("admin", all_districts=True, student_level=True, dataset="live", user="ada")
    live_env.audit_log.unlink(missing_ok=True)  # a copy: other tests' records are not ours
    write_audit(live_env, user="dora", role="district", scope=dora,
                action="student_list_view", what="list=fafsa_not_started grade=12", rows=37)
    with open(live_env.audit_log, "a") as fh:
        fh.write("not json\n")
    write_audit(live_env, user="ada", role="admin", scope=ada, action="download",
                what="download:aid-by-school school=10621661030659", rows=5)
    at = user_app("ada", "admin", page="app_pages/audit_log.py")
    assert not at.exception
    table = table_with(at, "When", "User", "Role", "Districts", "Action", "What", "Rows")
    assert table is not None
    shown = table[["User", "Role", "Data", "Districts", "Action", "What", "Rows"]]
    assert shown.values.tolist() == [
        ["ada", "admin", "live", "all", "download",
         "download:aid-by-school school=10621661030659", 5],
        ["dora", "district", "live", f"{FRESNO_UNIFIED}, 1062174", "student_list_view",
         "list=fafsa_not_started grade=12", 37],
    ]
    assert table["When"].is_monotonic_decreasing and table["When"].str.match(r"\d{4}-").all()


def test_district_user_cannot_open_admin_pages(live_env):
    at = user_app("dora", "district", (FRESNO_UNIFIED,))
    assert not at.exception
    try:
        at.switch_page("app_pages/data_status.py").run()
    except ValueError:
        return  # not even registered in the navigation
    assert any("administrators" in e.value for e in at.error)
