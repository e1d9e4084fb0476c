"""The catalogue is the one source (issue 10): a metric declared once shows on its topic page,
in Equity's picker and in ``export``, even on drops loaded before it existed; a catalogue
change never breaks loaded data; no function defaults the suppression threshold; topic
modules never import each other; a declared page without its file fails loudly."""

from __future__ import annotations

import ast
import contextlib
import inspect
import io
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from ccgi_dash import cli, export, metrics, privacy, views
from ccgi_dash.metrics import Filters, Metric, RebuildNeeded, Request
from ccgi_dash.scope import Scope
from ccgi_dash.store import DataDir, Warehouse
from ccgi_dash.ui import shell

import dropkit
from conftest import ROOT, card, demo_app, export_rows, pct, table_with

NEW = Metric("aid_and_applied", "Filed aid and applied somewhere",
             "Have seniors both filed a FAFSA/CADAA and applied to a college?", "seniors",
             "aid_submitted AND any_app_submitted", ("aid",), card_title="Filed and applied",
             phrase="What share of seniors have filed a FAFSA/CADAA and applied")
"""A metric the drops of the session's demo warehouse were loaded without."""


@pytest.fixture
def new_metric(monkeypatch) -> Metric:
    """The catalogue plus ``NEW``, on a copy: the real catalogue is back after the test."""
    monkeypatch.setattr(metrics, "METRICS", {**metrics.METRICS, NEW.id: NEW})
    return NEW


def oracle(dd: DataDir, day: date | None = None) -> pd.DataFrame:
    """Seniors with a submitted FAFSA/CADAA row and a submitted UC, CSU or CCC row, per
    district, counted with pandas from the drop's typed tables (not from the facts)."""
    with contextlib.closing(Warehouse(dd)) as wh:
        drop = day or wh.latest
        with wh.query() as cur:
            def read(name: str) -> pd.DataFrame:
                return cur.execute(f"SELECT * FROM {wh.table(drop, name)}").df()
            students, aid = read("students"), read("fafsa_cadaa")
            apps = pd.concat([read(t) for t in ("uc_apply", "csu_apply", "ccc_apply")])
    seniors = students[students["grade_level"] == 12].copy()
    filed = set(aid.loc[aid["status"].isin(["Submitted", "Completed"]), "ssid"])
    applied = set(apps.loc[apps["status"] == "Submitted", "ssid"])
    seniors["hit"] = seniors["ssid"].isin(filed & applied)
    seniors["district"] = seniors["school_cds"].str[:7]
    return seniors.groupby("district").agg(numerator=("hit", "sum"),
                                           denominator=("hit", "size"))


def test_drops_loaded_before_the_metric_existed_lack_it(demo_data, new_metric):
    with contextlib.closing(Warehouse(demo_data)) as wh, wh.query() as cur:
        for d in wh.drops:
            alias = wh.alias(d)
            version, ids = metrics.built_with(wh, d)
            assert NEW.id not in ids and "aid_submitted" in ids
            assert version != metrics.catalogue_version()
            cols = {r[0] for r in cur.execute(
                "SELECT column_name FROM duckdb_columns() WHERE database_name = ? AND "
                "table_name = 'facts_cube'", [alias]).fetchall()}
            assert f"m_{NEW.id}" not in cols and "m_aid_submitted" in cols
        assert metrics.outdated_drops(wh) == []  # its columns are there: no rebuild needed


def test_a_new_metric_is_in_export_on_old_drops(demo_data, new_metric):
    rows = export_rows(demo_data, "--metric", NEW.id, "--by", "district", "--raw")
    expected = oracle(demo_data)
    assert {r["district"] for r in rows} == set(expected.index)
    for r in rows:
        assert (r["numerator"], r["denominator"]) == tuple(expected.loc[r["district"]]), r
    weekly = export_rows(demo_data, "--metric", NEW.id, "--by", "drop_date", "--raw")
    with contextlib.closing(Warehouse(demo_data)) as wh:
        assert [r["drop_date"] for r in weekly] == [d.isoformat() for d in wh.drops]
        first = oracle(demo_data, wh.drops[0])
    assert weekly[0]["numerator"] == int(first["numerator"].sum())


def test_a_new_metric_is_on_its_topic_page_and_in_equity(app_env, demo_data, new_metric):
    at = demo_app("coe", "app_pages/financial_aid.py")
    assert not at.exception, at.exception
    total = export_rows(demo_data, "--metric", NEW.id)[0]
    assert card(at, "Filed and applied") == pct(total)
    assert NEW.id in at.selectbox(key="aid_measure").options or \
        NEW.title in at.selectbox(key="aid_measure").options
    at.selectbox(key="aid_measure").set_value(NEW.id).run()
    at.segmented_control(key="aid_by").set_value("District").run()
    assert not at.exception, at.exception
    shown = table_with(at, "District", NEW.title).set_index("District")
    for row in export_rows(demo_data, "--metric", NEW.id, "--by", "district"):
        assert shown.loc[row["district_name"], "Rate"] == pct(row)
    eq = demo_app("coe", "app_pages/equity.py")
    assert NEW.title in eq.selectbox(key="equity_metric").options
    eq.selectbox(key="equity_metric").set_value(NEW.id).run()
    assert not eq.exception, eq.exception
    gap = table_with(eq, "Gap to all students", NEW.title)
    assert gap is not None and len(gap) > 1


def _broken_copy(src: DataDir, tmp_path: Path, sql: str) -> DataDir:
    """A copy of a loaded data directory whose latest drop file was changed by ``sql``, as
    an older version of the product would have built it."""
    dd = DataDir(tmp_path / "old")
    shutil.copytree(src.root, dd.root)
    with contextlib.closing(Warehouse(dd)) as wh:
        path = dd.drops / wh.manifest.drops[-1].file
    con = duckdb.connect(str(path))
    try:
        con.execute(sql)
    finally:
        con.close()
    return dd


@pytest.fixture(scope="module")
def small_data(tmp_path_factory) -> DataDir:
    report, dd = dropkit.load(tmp_path_factory.mktemp("small"), dropkit.make_drop(students=140))
    assert report.exit_code == 0
    return dd


def _export(dd: DataDir, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()

    class _Out(io.StringIO):
        buffer = io.BytesIO()

    stdout = _Out()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(err):
        code = cli.main(["export", "--data-dir", str(dd.root), "--format", "json", *args])
    out.write(stdout.buffer.getvalue().decode())
    return code, out.getvalue(), err.getvalue()


def test_outdated_drops_parse_compound_conditions(small_data, tmp_path):
    assert metrics.columns_of("aid_completed OR aid_opted_out") == {"aid_completed",
                                                                    "aid_opted_out"}
    assert metrics.columns_of("grade_level BETWEEN 9 AND 11") == {"grade_level"}
    assert metrics.columns_of("status IN ('Submitted', 'Completed')") == {"status"}
    old = _broken_copy(small_data, tmp_path,
                       "ALTER TABLE student_facts DROP COLUMN aid_opted_out")
    with contextlib.closing(Warehouse(old)) as wh:
        assert metrics.outdated_drops(wh) == [wh.latest]
        with pytest.raises(RebuildNeeded, match="python -m ccgi_dash rebuild"):
            metrics.compute(wh, Scope.county(), "aid_done_or_opted_out", ("district",))
    code, _, err = _export(old, "--metric", "aid_done_or_opted_out", "--by", "district")
    assert code == 1 and "python -m ccgi_dash rebuild" in err
    assert "Error" not in err and "Traceback" not in err


def test_a_metric_missing_from_an_old_cube_is_counted_from_the_facts(small_data, tmp_path):
    with contextlib.closing(Warehouse(small_data)) as wh:
        before = metrics.compute(wh, Scope.county(), "aid_submitted", ("district",))
    old = _broken_copy(small_data, tmp_path,
                       "ALTER TABLE facts_cube DROP COLUMN m_aid_submitted")
    with contextlib.closing(Warehouse(old)) as wh:
        assert metrics.outdated_drops(wh) == []
        after = metrics.compute(wh, Scope.county(), "aid_submitted", ("district",))
        weekly = metrics.compute(wh, Scope.county(), "aid_submitted", ("drop_date",))
    pd.testing.assert_frame_equal(before, after)
    assert int(weekly["numerator"].iloc[-1]) == int(before["numerator"].sum())


def test_a_metric_the_loaded_facts_cannot_answer_says_rebuild(app_env, demo_data, monkeypatch):
    future = Metric("pell_eligible", "Pell eligible", "Are seniors Pell eligible?", "seniors",
                    "pell_eligible", ("aid",))
    monkeypatch.setattr(metrics, "METRICS", {**metrics.METRICS, future.id: future})
    at = demo_app("coe", "app_pages/financial_aid.py")
    assert not at.exception, at.exception
    assert any("python -m ccgi_dash rebuild" in e.value for e in at.error)
    code, _, err = _export(demo_data, "--metric", "pell_eligible")
    assert code == 1 and "python -m ccgi_dash rebuild" in err


def test_each_drop_records_the_catalogue_it_was_built_with(small_data):
    with contextlib.closing(Warehouse(small_data)) as wh:
        version, ids = metrics.built_with(wh, wh.latest)
    assert version == metrics.catalogue_version() and list(ids) == list(metrics.METRICS)


MODULES_WITH_THRESHOLDS = ("ccgi_dash.metrics", "ccgi_dash.views", "ccgi_dash.privacy",
                           "ccgi_dash.export", "ccgi_dash.topics.panels",
                           "ccgi_dash.topics.aid", "ccgi_dash.topics.apps",
                           "ccgi_dash.topics.equity", "ccgi_dash.topics.favorites",
                           "ccgi_dash.topics.assessments", "ccgi_dash.charts")


def test_no_function_defaults_the_threshold():
    """The county's threshold comes from the settings through the request: a caller cannot
    forget it and silently get 11."""
    import importlib

    for name in MODULES_WITH_THRESHOLDS:
        module = importlib.import_module(name)
        for fn_name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ != name:
                continue
            p = inspect.signature(fn).parameters.get("threshold")
            assert p is None or p.default is inspect.Parameter.empty, f"{name}.{fn_name}"
    assert not [p.name for p in (ROOT / "ccgi_dash").rglob("*.py")
                if "threshold: int = " in p.read_text() and p.name != "settings.py"]


def test_words_about_a_metric_live_only_in_the_catalogue():
    """No second copy of a metric's phrase or card title anywhere else in the package."""
    sources = {p: p.read_text() for p in (ROOT / "ccgi_dash").rglob("*.py")
               if p.name != "metrics.py"}
    for m in metrics.METRICS.values():
        for words in {m.phrase, m.card_title} - {m.title}:
            holders = [p.name for p, text in sources.items() if f'"{words}"' in text]
            assert not holders, (m.id, words, holders)


def test_topic_modules_import_no_other_topic_module():
    topics = ROOT / "ccgi_dash" / "topics"
    names = {p.stem for p in topics.glob("*.py")} - {"__init__", "panels"}
    for path in topics.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                parts = node.module.split(".")
                imported = {parts[-1]} | {a.name for a in node.names}
                if node.module.startswith("ccgi_dash.topics"):
                    assert not (imported & names) - {path.stem}, (path.name, node.module)


def test_every_topic_page_is_a_few_lines():
    for spec in shell.PAGES:
        if spec.topic is not None:
            code = [line for line in (ROOT / spec.path).read_text().splitlines()
                    if line.strip() and not line.startswith(('"""', " ")) and "\"\"\"" not in line]
            assert len(code) <= 4, (spec.path, code)
            assert spec.topic.measures or spec.topic.id == "equity"


def test_a_declared_page_without_its_file_fails_loudly(monkeypatch):
    ghost = shell.PageSpec("ghost", ":material/help:", "Dashboards", name="Ghost")
    with pytest.raises(FileNotFoundError, match=r"app_pages/ghost\.py"):
        shell.page_file(ghost)
    monkeypatch.setattr(shell, "PAGES", (*shell.PAGES, ghost))
    from streamlit.testing.v1 import AppTest

    from ccgi_dash.ui.session import IDENTITY_KEY, Identity

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state[IDENTITY_KEY] = Identity("demo", "coe")
    at.run()
    assert at.exception  # the app stops on it: no menu that silently lacks a page


def test_the_request_carries_the_settings_threshold(small_data):
    """Two thresholds, two answers: nothing below the request holds its own."""
    with contextlib.closing(Warehouse(small_data)) as wh:
        low = export.metric_export(wh, Request(Scope.county(), Filters(), None, 2), "uc_submitted",
                                   ("school",))
        high = export.metric_export(wh, Request(Scope.county(), Filters(), None, 50),
                                    "uc_submitted", ("school",))
        assert not low["suppressed"].any() and high["suppressed"].all()
        card = views.headline(wh, Request(Scope.county(), Filters(), None, 50), "uc_submitted")
        assert card.suppressed
    assert "threshold" not in inspect.signature(privacy.format_rate).parameters
