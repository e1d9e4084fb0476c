"""The Overview's brief button and the drill-down, in AppTest on the demo warehouse.

A click on a bar cannot be made in AppTest (it has no plotly element), so the click's
mapping from a bar to a code (``drill.target``) is checked on its own, and the drilled state
(the sidebar filter a click sets) is checked in the app; tests/test_browser_drill.py makes
the real click in a browser.
"""

from __future__ import annotations

import contextlib
import io
import re

import pypdf
import pytest

from ccgi_dash.accounts import audit as account_audit
from ccgi_dash.metrics import Filters
from ccgi_dash.scope import Scope
from ccgi_dash.store import DataDir, Warehouse
from ccgi_dash.ui import briefing, drill
from ccgi_dash.views import Options, options

from conftest import FRESNO_UNIFIED, demo_app


@pytest.fixture
def deferred(monkeypatch) -> list:
    """The callables download buttons register for a click (Streamlit runs them when the
    browser asks for the file): recorded so the test can ask for the file as a click does."""
    from streamlit.runtime.media_file_manager import MediaFileManager

    seen: list = []
    original = MediaFileManager.add_deferred

    def spy(self, data_callable, mimetype, coordinates, file_name=None, **kw):
        seen.append((file_name, data_callable))
        return original(self, data_callable, mimetype, coordinates, file_name=file_name, **kw)

    monkeypatch.setattr(MediaFileManager, "add_deferred", spy)
    return seen


def _brief(deferred: list) -> tuple[str, bytes]:
    found = [(n, f) for n, f in deferred if n and n.startswith("brief-")]
    assert found, "no brief was offered"
    name, make = found[-1]
    return name, make()


def test_a_district_leader_downloads_a_one_page_brief_of_their_district(app_env, demo_data,
                                                                        deferred):
    at = demo_app(f"district:{FRESNO_UNIFIED}")
    assert not at.exception
    button = at.get("download_button")
    labels = [b.proto.label for b in button]
    assert briefing.LABEL in labels
    assert not next(b for b in button if b.proto.label == briefing.LABEL).proto.disabled
    name, pdf = _brief(deferred)
    assert name == f"brief-{FRESNO_UNIFIED}-2026-11-20.pdf"
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    text = re.sub(r"\s+", " ", reader.pages[0].extract_text())
    assert "Fresno Unified" in text and "Clovis Unified" not in text
    record = account_audit.read_audit(DataDir(demo_data.root), 5)[0]
    assert record["action"] == "brief_export"
    assert record["what"] == f"brief as_of=2026-11-20 district={FRESNO_UNIFIED}"


def test_the_brief_is_made_on_click_not_on_every_run(app_env, demo_data, deferred):
    before = len(account_audit.read_audit(DataDir(demo_data.root), 1000))
    at = demo_app("coe")
    at.run()
    assert not at.exception
    assert any(n and n.startswith("brief-") for n, _ in deferred)
    # two runs, no click: no brief made, nothing audited
    assert len(account_audit.read_audit(DataDir(demo_data.root), 1000)) == before


def test_several_districts_cannot_be_briefed_and_say_why(app_env):
    at = demo_app("coe", query={"district": [FRESNO_UNIFIED, "1062117"]})
    assert not at.exception
    button = next(b for b in at.get("download_button") if b.proto.label == briefing.LABEL)
    assert button.proto.disabled
    assert any("one district" in c.value for c in at.caption)


OPTS = Options((), (("1062166", "Fresno Unified"), ("1062117", "Clovis Unified")),
               (("10621661031897", "Edison High", "1062166"),
                ("10621171030001", "Edison High", "1062117"),
                ("10621661030002", "Bullard High", "1062166")))


def test_a_clicked_bar_names_a_code_of_the_scope_only():
    assert drill.target({"y": "Fresno Unified", "x": 40.0}, "district", OPTS) == "1062166"
    assert drill.target({"y": "Madera Unified"}, "district", OPTS) is None
    assert drill.target({"customdata": ["1062117"]}, "district", OPTS) == "1062117"
    assert drill.target({"customdata": ["9999999"], "y": "x"}, "district", OPTS) is None
    # two schools of one name: ambiguous across the county, one within a district
    assert drill.target({"y": "Edison High"}, "school", OPTS) is None
    assert drill.target({"y": "Edison High"}, "school", OPTS, ("1062166",)) == "10621661031897"
    assert drill.target({"y": "Edison High (Clovis Unified)"}, "school", OPTS) == (
        "10621171030001")
    assert drill.level_of("aid_completed-by-district") == "district"
    assert drill.level_of("aid_completed-by-gender") is None
    assert drill.overview_level(OPTS, Filters()) == "district"
    assert drill.overview_level(OPTS, Filters(districts=("1062166",))) == "school"
    assert drill.overview_level(OPTS, Filters(schools=("10621661031897",))) is None


def _drills_by(at) -> str | None:
    """What the run's drillable chart breaks down by: the plotly chart that sends point
    selections, named by its table's download (``dl-aid-completed-by-<level>``)."""
    drillable = [c for c in at.get("plotly_chart") if list(c.proto.selection_mode)]
    assert len(drillable) <= 1
    if not drillable:
        return None
    levels = [lv for lv in drill.LEVELS if f"dl-aid-completed-by-{lv}" in at.session_state]
    assert len(levels) == 1
    return levels[0]


def test_drilled_into_a_district_shows_its_schools_and_one_click_goes_back(app_env):
    at = demo_app("coe")
    assert _drills_by(at) == "district"
    assert not [b for b in at.button if b.label.startswith("Back to")]
    # what a click on Fresno Unified's bar sets
    at.session_state["f_district"] = [FRESNO_UNIFIED]
    at.run()
    assert not at.exception
    assert _drills_by(at) == "school"
    assert at.query_params["district"] in (FRESNO_UNIFIED, [FRESNO_UNIFIED])
    back = next(b for b in at.button if b.label == "Back to the county")
    back.click().run()
    assert not at.exception
    assert at.session_state["f_district"] == []
    assert "district" not in at.query_params
    assert _drills_by(at) == "district"


def test_a_drilled_school_goes_back_to_its_district(app_env, demo_data):
    at = demo_app("coe", query={"district": FRESNO_UNIFIED})
    with contextlib.closing(Warehouse(demo_data)) as wh:
        opts = options(wh, Scope.county("demo"))
    school = next(s[0] for s in opts.schools if s[2] == FRESNO_UNIFIED)
    # what a click on one of Fresno Unified's schools sets
    at.session_state["f_school"] = [school]
    at.run()
    assert not at.exception
    assert at.query_params["school"] in (school, [school])
    back = next(b for b in at.button if b.label.startswith("Back to "))
    assert back.label == "Back to Fresno Unified"
    back.click().run()
    assert not at.exception
    assert at.session_state["f_school"] == []
    assert at.session_state["f_district"] == [FRESNO_UNIFIED]
    assert "school" not in at.query_params


def test_a_district_leader_never_drills_outside_their_district(app_env):
    at = demo_app(f"district:{FRESNO_UNIFIED}")
    assert _drills_by(at) == "school"  # one district: the Overview opens on its schools
    # a forged drill into another district (as a click could not even name it)
    at.session_state["f_district"] = ["1062117"]
    at.run()
    assert not at.exception
    assert "district" not in at.query_params
    assert _drills_by(at) == "school"
    assert not [b for b in at.button if b.label.startswith("Back to")]
