"""Every metric of metrics.md against an independent pandas computation.

Small random drops are written as CSV (students with several rows in a file, empty subgroup
values, orphan rows, statuses in mixed case), loaded by the real loader, and every metric is
compared, for several breakdowns and filters, with plain pandas arithmetic over the same CSV
files, written from metrics.md's definitions, not from the SQL.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from ccgi_dash import loader, metrics
from ccgi_dash.metrics import METRICS, Filters
from ccgi_dash.scope import Scope
from ccgi_dash.settings import IngestSettings, Settings
from ccgi_dash.store import DataDir, Warehouse

DROP = date(2026, 11, 20)
SCHOOLS = {  # real Fresno CDS codes: two districts
    "10621661032507": ("Fresno High", "Fresno Unified"),
    "10621661031897": ("Edison High", "Fresno Unified"),
    "10621666006084": ("Baird Middle", "Fresno Unified"),
    "10621171030196": ("Clovis West High", "Clovis Unified"),
}
UC = ["UC Davis", "UCLA", "UC Merced", "UC Berkeley"]
CSU = ["Fresno State", "Cal Poly San Luis Obispo", "San Diego State"]
CCC = ["Fresno City College", "Reedley College"]


def _d(rng: random.Random, lo: date, hi: date) -> date:
    return lo + timedelta(days=rng.randrange((hi - lo).days + 1))


def _fmt(d: date | None, rng: random.Random) -> str:
    if d is None:
        return ""
    return d.isoformat() if rng.random() < 0.7 else f"{d.month}/{d.day}/{d.year}"


def write_drop(folder: Path, drop: date, seed: int, n: int = 400) -> None:
    """A random but valid small drop, with the awkward cases metrics must survive."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = f"{drop:%Y%m%d}"
    students, ssids = [], []
    for i in range(n):
        ssid = f"{seed:02d}{i:08d}"
        cds = rng.choice(list(SCHOOLS))
        grade = rng.choice([6, 7, 8]) if "Middle" in SCHOOLS[cds][0] else rng.choice(
            [9, 10, 11, 12, 12])
        no_groups = SCHOOLS[cds][1] == "Clovis Unified"  # a district that sends no subgroups
        acct = _d(rng, date(2026, 8, 1), drop) if rng.random() < 0.7 else None
        login = _d(rng, acct, drop) if acct and rng.random() < 0.8 else None
        students.append({
            "ssid": ssid, "school_cds": cds, "grade_level": grade, "school_year": "2026-27",
            "account_created_date": _fmt(acct, rng), "last_login_date": _fmt(login, rng),
            "first_name": "Ana", "last_name": f"Test{i}",
            "gender": "" if no_groups else rng.choice(["M", "F", "f", "X", ""]),
            "race_ethnicity": "" if no_groups else rng.choice(["HI", "WH", "AS", "hi", "NR"]),
            "el_status": "" if no_groups else rng.choice(["EO", "EL", "RFEP"]),
            "sed": "" if no_groups else rng.choice(["Y", "N", "y"]),
            "swd": "" if no_groups else rng.choice(["Y", "N", "N", ""]),
            "foster_youth": "", "homeless": "" if no_groups else rng.choice(["N", "N", "Y"]),
            "migrant": "",
        })
        ssids.append((ssid, grade))
    pd.DataFrame(students).to_csv(folder / f"students_{stamp}.csv", index=False)
    orphan = f"{seed:02d}99999999"

    aid, uc, csu, ccc, fc, fr, fm, ca, ag = ([] for _ in range(9))
    for ssid, grade in ssids:
        if grade == 12:
            for kind in ("FAFSA", "CADAA"):
                if rng.random() < (0.6 if kind == "FAFSA" else 0.15):
                    st = rng.choice(["Started", "Submitted", "Completed", "completed"])
                    sub = _d(rng, date(2026, 10, 1), drop) if st != "Started" else None
                    comp = _d(rng, sub, drop) if st.lower() == "completed" else None
                    aid.append({"ssid": ssid, "application_type": kind, "status": st,
                                "submitted_date": _fmt(sub, rng),
                                "completed_date": _fmt(comp, rng)})
            if rng.random() < 0.1:
                aid.append({"ssid": ssid, "application_type": "", "status": "Opted Out",
                            "submitted_date": "", "completed_date": ""})
            for rows, names, p in ((uc, UC, 0.3), (csu, CSU, 0.4), (ccc, CCC, 0.3)):
                for campus in rng.sample(names, rng.randint(1, len(names))):
                    if rng.random() < p:
                        st = rng.choice(["Started", "Submitted", "submitted"])
                        sub = _d(rng, date(2026, 10, 1), drop) if st != "Started" else None
                        rows.append({"ssid": ssid, "campus": campus, "status": st,
                                     "submitted_date": _fmt(sub, rng)})
        if grade >= 9:
            senior = grade == 12
            choices = ["Eligible", "On Track", "Not On Track"] if senior else [
                "On Track", "Not On Track", "on track"]
            ag.append({"ssid": ssid, "uc_status": rng.choice(choices),
                       "csu_status": rng.choice(choices), "as_of_date": ""})
        for rows, names, col in ((fc, UC + CSU, "college_name"),
                                 (fr, ["Registered Nurses", "Software Developers"], "career_title"),
                                 (fm, ["Biology, General", "Psychology, General"], "major_name")):
            for name in names:
                if rng.random() < 0.15:
                    rows.append({"ssid": ssid, col: name, "favorited_date": ""})
        for name in ("Interest Profiler", "Work Values Profiler"):
            if rng.random() < 0.2:
                ca.append({"ssid": ssid, "assessment_name": name,
                           "completed_date": _fmt(_d(rng, date(2026, 8, 1), drop), rng)})
    # orphans: rows for a student not on the roster (must be rejected, never counted)
    aid.append({"ssid": orphan, "application_type": "FAFSA", "status": "Completed",
                "submitted_date": "2026-10-02", "completed_date": "2026-10-03"})
    uc.append({"ssid": orphan, "campus": "UCLA", "status": "Submitted",
               "submitted_date": "2026-10-02"})
    fc.append({"ssid": orphan, "college_name": "UCLA", "favorited_date": ""})
    frames = {
        "fafsa_cadaa": (aid, ["ssid", "application_type", "status", "submitted_date",
                              "completed_date"]),
        "uc_apply": (uc, ["ssid", "campus", "status", "submitted_date"]),
        "csu_apply": (csu, ["ssid", "campus", "status", "submitted_date"]),
        "ccc_apply": (ccc, ["ssid", "campus", "status", "submitted_date"]),
        "favorite_colleges": (fc, ["ssid", "college_name", "favorited_date"]),
        "favorite_careers": (fr, ["ssid", "career_title", "favorited_date"]),
        "favorite_majors": (fm, ["ssid", "major_name", "favorited_date"]),
        "career_assessments": (ca, ["ssid", "assessment_name", "completed_date"]),
        "ag_eligibility": (ag, ["ssid", "uc_status", "csu_status", "as_of_date"]),
    }
    for name, (rows, cols) in frames.items():
        pd.DataFrame(rows, columns=cols).to_csv(folder / f"{name}_{stamp}.csv", index=False)


def expected(folder: Path, drop: date) -> pd.DataFrame:
    """Per-student truth, from the CSV files and metrics.md's words only."""
    stamp = f"{drop:%Y%m%d}"

    def read(name: str) -> pd.DataFrame:
        return pd.read_csv(folder / f"{name}_{stamp}.csv", dtype=str, keep_default_na=False)

    def date_of(text: str) -> date | None:
        if not text:
            return None
        if "/" in text:
            m, d, y = (int(x) for x in text.split("/"))
            return date(y, m, d)
        return date.fromisoformat(text)

    s = read("students")
    out = pd.DataFrame({"ssid": s["ssid"], "district": s["school_cds"].str[:7],
                        "school": s["school_cds"], "grade_level": s["grade_level"].astype(int)})
    for col in ("gender", "race_ethnicity", "sed"):
        out[col] = s[col].str.upper().replace("", "Not reported")
    drop_logins = [date_of(x) for x in s["last_login_date"]]
    out["account_registered"] = s["account_created_date"] != ""
    out["active_30d"] = [d is not None and 0 <= (drop - d).days <= 30 for d in drop_logins]

    def having(name: str, pred) -> set[str]:
        f = read(name)
        return set(f.loc[[bool(pred(r)) for r in f.to_dict("records")], "ssid"])

    submitted_aid = lambda r: r["status"].lower() in ("submitted", "completed")  # noqa: E731
    sub = having("fafsa_cadaa", submitted_aid)
    comp = having("fafsa_cadaa", lambda r: r["status"].lower() == "completed")
    opted = having("fafsa_cadaa", lambda r: r["status"] == "Opted Out")
    out["aid_submitted"] = out["ssid"].isin(sub)
    out["aid_completed"] = out["ssid"].isin(comp)
    out["fafsa_submitted"] = out["ssid"].isin(
        having("fafsa_cadaa", lambda r: r["application_type"] == "FAFSA" and submitted_aid(r)))
    out["cadaa_submitted"] = out["ssid"].isin(
        having("fafsa_cadaa", lambda r: r["application_type"] == "CADAA" and submitted_aid(r)))
    out["aid_opted_out"] = out["ssid"].isin(opted - sub)
    out["aid_done_or_opted_out"] = out["aid_completed"] | out["aid_opted_out"]
    for seg in ("uc", "csu", "ccc"):
        out[f"{seg}_submitted"] = out["ssid"].isin(
            having(f"{seg}_apply", lambda r: r["status"].lower() == "submitted"))
    out["any_app_submitted"] = out[["uc_submitted", "csu_submitted", "ccc_submitted"]].any(axis=1)
    out["uc_and_csu_submitted"] = out["uc_submitted"] & out["csu_submitted"]
    ag = read("ag_eligibility").set_index("ssid")
    uc_status = out["ssid"].map(ag["uc_status"].str.lower()).fillna("")
    csu_status = out["ssid"].map(ag["csu_status"].str.lower()).fillna("")
    out["uc_eligible"] = uc_status == "eligible"
    out["csu_eligible"] = csu_status == "eligible"
    out["uc_on_track"] = uc_status.isin(["eligible", "on track"])
    out["csu_on_track"] = csu_status.isin(["eligible", "on track"])
    out["uc_eligible_applied"] = out["uc_submitted"]
    out["csu_eligible_applied"] = out["csu_submitted"]
    out["favorite_college"] = out["ssid"].isin(having("favorite_colleges", lambda r: True))
    out["favorite_career"] = out["ssid"].isin(having("favorite_careers", lambda r: True))
    out["favorite_major"] = out["ssid"].isin(having("favorite_majors", lambda r: True))
    out["career_assessment"] = out["ssid"].isin(having("career_assessments", lambda r: True))
    return out


POPULATION = {
    "all": lambda f: f,
    "seniors": lambda f: f[f["grade_level"] == 12],
    "grades_9_11": lambda f: f[f["grade_level"].between(9, 11)],
    "uc_eligible_seniors": lambda f: f[(f["grade_level"] == 12) & f["uc_eligible"]],
    "csu_eligible_seniors": lambda f: f[(f["grade_level"] == 12) & f["csu_eligible"]],
}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    root = tmp_path_factory.mktemp("metrics")
    drops = root / "drops"
    write_drop(drops, DROP, seed=11)
    dd = DataDir(root / "data")
    settings = Settings(ingest=IngestSettings(max_reject_rate=0.5))
    report = loader.ingest(dd, [drops], settings)
    assert report.exit_code == 0, report.summary_lines()
    wh = Warehouse(dd)
    yield wh, expected(drops, DROP), drops
    wh.close()


@pytest.mark.parametrize("metric_id", list(METRICS))
@pytest.mark.parametrize("by", [(), ("district",), ("school",), ("gender",),
                                ("district", "sed"), ("grade_level",)])
def test_metric_matches_pandas(loaded, metric_id, by):
    wh, truth, _ = loaded
    m = METRICS[metric_id]
    got = metrics.compute(wh, Scope.county(), metric_id, by)
    pop = POPULATION[m.population](truth)
    if not by:
        assert got["denominator"].tolist() == [len(pop)]
        assert got["numerator"].tolist() == [int(pop[metric_id].sum())]
        return
    cols = list(by)
    want = pop.groupby(cols).agg(numerator=(metric_id, "sum"), denominator=(metric_id, "size"))
    want = want.reset_index().sort_values(cols).reset_index(drop=True)
    got = got.sort_values(cols).reset_index(drop=True)
    assert got[cols].astype(str).values.tolist() == want[cols].astype(str).values.tolist()
    assert got["numerator"].tolist() == want["numerator"].astype(int).tolist()
    assert got["denominator"].tolist() == want["denominator"].astype(int).tolist()


@pytest.mark.parametrize("metric_id", ["aid_submitted", "account_registered", "uc_on_track"])
def test_filters_narrow_the_roster_before_counting(loaded, metric_id):
    wh, truth, _ = loaded
    filters = Filters.parse([("district", "1062166"), ("sed", "Y"), ("grade_level", "12"),
                             ("grade_level", "11")])
    got = metrics.compute(wh, Scope.county(), metric_id, (), filters)
    sub = truth[(truth["district"] == "1062166") & (truth["sed"] == "Y")
                & truth["grade_level"].isin([11, 12])]
    pop = POPULATION[METRICS[metric_id].population](sub)
    assert got["denominator"].tolist() == [len(pop)]
    assert got["numerator"].tolist() == [int(pop[metric_id].sum())]


def test_empty_subgroups_form_not_reported(loaded):
    wh, truth, _ = loaded
    got = metrics.compute(wh, Scope.county(), "account_registered", ("race_ethnicity",))
    assert "Not reported" in set(got["race_ethnicity"])
    assert int(got.loc[got["race_ethnicity"] == "Not reported", "denominator"].iloc[0]) == int(
        (truth["race_ethnicity"] == "Not reported").sum())


def test_orphans_are_never_counted(loaded):
    wh, _, _ = loaded
    with wh.query() as cur:
        n = cur.execute(f"SELECT count(*) FROM {wh.table(DROP, 'rejects')} "
                        "WHERE reason ILIKE '%roster%' OR reason ILIKE '%orphan%'").fetchone()[0]
    assert n >= 3


def test_scope_limits_rows_in_sql(loaded):
    wh, _, _ = loaded
    scope = Scope("district", districts=("1062166",), student_level=True)
    got = metrics.compute(wh, scope, "account_registered", ("district",))
    assert got["district"].tolist() == ["1062166"]
    assert metrics.compute(wh, Scope("district"), "account_registered")["denominator"].tolist() \
        == [0]
    # a filter naming another district cannot widen the scope
    other = metrics.compute(wh, scope, "account_registered", (),
                            Filters(districts=("1073965",)))
    assert other["denominator"].tolist() == [0]


@pytest.mark.parametrize("ranking_id,dataset,item,where", [
    ("uc_campuses", "uc_apply", "campus", "submitted"),
    ("ccc_colleges", "ccc_apply", "campus", "submitted"),
    ("favorite_colleges", "favorite_colleges", "college_name", None),
])
def test_ranking_counts_distinct_students(loaded, ranking_id, dataset, item, where):
    wh, truth, folder = loaded
    rows = pd.read_csv(folder / f"{dataset}_{DROP:%Y%m%d}.csv", dtype=str,
                       keep_default_na=False)
    rows = rows[rows["ssid"].isin(set(truth["ssid"]))]
    if where:
        rows = rows[rows["status"].str.lower() == where]
    want = rows.groupby(item)["ssid"].nunique().to_dict()
    got = metrics.ranking(wh, Scope.county(), ranking_id, limit=None)
    assert dict(zip(got["item"], got["students"].astype(int))) == want
    assert got["students"].is_monotonic_decreasing


def test_cumulative_curve_ends_at_the_drop_value(loaded):
    wh, _, _ = loaded
    curve = metrics.cumulative(wh, Scope.county(), "aid_submitted")
    total = metrics.compute(wh, Scope.county(), "aid_submitted")
    assert curve["numerator"].is_monotonic_increasing
    assert int(curve["numerator"].iloc[-1]) == int(total["numerator"].iloc[0])


@pytest.mark.parametrize("drop,drops,want", [
    (date(2026, 11, 20), [date(2025, 11, 14), date(2025, 11, 21), date(2025, 11, 28)],
     date(2025, 11, 21)),
    (date(2026, 11, 20), [date(2026, 11, 13)], None),
    (date(2026, 7, 3), [date(2025, 6, 27), date(2025, 7, 4)], date(2025, 7, 4)),
])
def test_same_week_last_year(drop, drops, want):
    assert metrics.same_week_last_year(drops, drop) == want


@pytest.mark.parametrize("by", [(), ("district",), ("school", "grade_level"), ("drop_date",)])
def test_cube_and_facts_give_the_same_numbers(loaded, by):
    """The per-school cube that serves trends must agree with counting the students."""
    wh, _, _ = loaded
    assert wh.has_cubes
    for metric_id in METRICS:
        via_cube = metrics.compute(wh, Scope.county(), metric_id, by)
        wh.has_cubes = False
        try:
            via_facts = metrics.compute(wh, Scope.county(), metric_id, by)
        finally:
            wh.has_cubes = True
        pd.testing.assert_frame_equal(via_cube, via_facts, check_dtype=False)


def test_a_filter_naming_a_code_its_dimension_lacks_is_refused(demo_data, capsys):
    """An unknown student-group code or a malformed district would select nobody, which
    reads as "0 students": ``Filters.parse`` (behind ``export --where`` and ``brief``)
    refuses it and names the codes there are; ``export`` exits 2 with that message."""
    from ccgi_dash.cli import main
    from ccgi_dash.metrics import Filters, MetricError

    with pytest.raises(MetricError, match=r"unknown value 'maybe' for sed: choose from "
                                          r"Y \(Yes\), N \(No\), Not reported"):
        Filters.parse([("sed", "maybe")])
    with pytest.raises(MetricError, match="7-digit CDS code, not 'Fresno'"):
        Filters.parse([("district", "Fresno")])
    with pytest.raises(MetricError, match="14-digit CDS code"):
        Filters.parse([("school", "1062166")])
    assert Filters.parse([("sed", "Y"), ("district", "1062166")]).groups == (("sed", ("Y",)),)
    code = main(["export", "--data-dir", str(demo_data.root), "--metric", "aid_submitted",
                 "--where", "gender=Q"])
    assert code == 2
    assert "unknown value 'Q' for gender" in capsys.readouterr().err
