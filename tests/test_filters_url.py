"""A shared link's filters reach the sidebar the browser draws, whatever the order of reruns.

The flaky browser test ``test_a_shared_link_works_on_a_fresh_server`` (recorded WebSocket
frames of its failing runs): the run after the demo door put the link's district into the
sidebar's widgets, and Streamlit sent that value to the browser once, with that run's widget.
The demo cookie's component then asked for a rerun before the browser had drawn the sidebar,
so the rerun reported no value for the filter widgets; the server kept the district and the
page computed with it, but the new widget carried no value and the browser drew it empty.

Here the same rerun is made in AppTest: a run whose widget states hold none of the sidebar's
filters, which is what that browser sent. (``AppTest.run`` always reports every widget it has
drawn; ``_run`` with an explicit ``WidgetStates`` is the one way to send what a browser that
has not drawn the sidebar yet sends.) Each filter widget of that run must carry the link's
value for the browser to draw, and the page must compute with it.
"""

from __future__ import annotations

import contextlib

import pytest
from streamlit.proto.WidgetStates_pb2 import WidgetStates

from ccgi_dash.datasets import DIMENSIONS, SUBGROUP_DIMENSIONS
from ccgi_dash.scope import Scope
from ccgi_dash.store import Warehouse
from ccgi_dash.ui import filters
from ccgi_dash.views import options

from conftest import FRESNO_UNIFIED, demo_app


@pytest.mark.parametrize("persona", ["coe", f"district:{FRESNO_UNIFIED}"])
def test_a_rerun_before_the_sidebar_is_drawn_keeps_the_links_filters(app_env, demo_data,
                                                                      persona):
    """Every filter of a shared link (an older drop, a district, one of its schools, a grade,
    a value of each student group), for the coordinator and for that district's leader."""
    with contextlib.closing(Warehouse(demo_data)) as wh:
        opts = options(wh, Scope.county("demo"))
    older = sorted(opts.drops)[-2]
    cds, school_name, _ = next(s for s in opts.schools if s[2] == FRESNO_UNIFIED)
    groups = {dim: next(iter(DIMENSIONS[dim].labels)) for dim in SUBGROUP_DIMENSIONS}
    query = {"as_of": older.isoformat(), "district": FRESNO_UNIFIED, "school": cds,
             "grade_level": "12", **groups}
    at = demo_app(persona, page="app_pages/financial_aid.py", query=query)
    assert not at.exception
    # the browser has drawn nothing of the sidebar yet: its rerun reports no filter widget
    at._run(widget_state=WidgetStates())
    assert not at.exception
    shown = {"district": ["Fresno Unified"], "school": [school_name], "grade_level": ["12"],
             **{dim: [DIMENSIONS[dim].labels[v]] for dim, v in groups.items()}}
    for param, key in filters.KEYS.items():
        if param == "as_of":
            widget = at.selectbox(key=key)
            assert widget.value == older
            assert widget.proto.raw_value == f"{older:%b %d, %Y}", param
        else:
            widget = at.multiselect(key=key)
            assert list(widget.proto.raw_values) == shown[param], param
        assert widget.proto.set_value, f"{param}: the browser is not given the link's value"
    # the page computes with the link's filters, and the URL still holds them
    assert at.query_params["district"] in (FRESNO_UNIFIED, [FRESNO_UNIFIED])
    assert at.query_params["as_of"] in (older.isoformat(), [older.isoformat()])
