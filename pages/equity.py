"""Equity: any metric across any student group: the gap to all students, where it is by
district, and whether it is closing."""

import streamlit as st

from ccgi_dash.topics import common, equity
from ccgi_dash.ui import data, page, render

ctx = page.begin("Equity", "Which student groups lag behind all students, in which districts, "
                 "and whether the gap is closing, for any metric.")
left, right = st.columns(2)
metric_id = left.selectbox("Metric", equity.METRIC_IDS, key="equity_metric",
                           index=equity.METRIC_IDS.index(equity.DEFAULT_METRIC),
                           format_func=common.metric_title)
dim = right.selectbox("Student group", common.GROUPS, key="equity_group",
                      format_func=common.dimension_title)
args = (ctx.filters, ctx.as_of, ctx.threshold)
population = data.view(common.population, ctx.scope, (metric_id,), ctx.filters, ctx.as_of)
if not render.no_students(population, equity.population_noun(metric_id)):
    render.headline_cards(data.view(common.headlines, ctx.scope, (metric_id,), *args), per_row=3)
    for p in data.view(equity.panels, ctx.scope, metric_id, dim, *args):
        render.chart_and_table(p.fig, p.table, p.name, note=p.note)
    st.caption(render.suppression_note(ctx.threshold))
