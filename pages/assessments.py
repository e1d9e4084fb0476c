"""Career assessments: how many students have completed one, this year against last, by
grade, school, district or student group, and which assessments."""

import streamlit as st

from ccgi_dash.topics import assessments, common, equity, favorites
from ccgi_dash.ui import data, page, render

ctx = page.begin("Career assessments", "Have students completed a career assessment on "
                 "CaliforniaColleges.edu, and which ones?")
args = (ctx.filters, ctx.as_of, ctx.threshold)
metric = (assessments.METRIC,)
students = data.view(common.population, ctx.scope, metric, ctx.filters, ctx.as_of)
if not render.no_students(students):
    render.headline_cards(data.view(common.headlines, ctx.scope, metric, *args), per_row=3)
    st.subheader("This year against last year")
    panels = data.view(equity.this_year_and_last, ctx.scope, metric, *args)
    for col, p in zip(st.columns(len(panels)), panels, strict=True):
        with col:
            render.chart_and_table(p.fig, p.table, p.name, note=p.note)
    st.subheader("Where students stand")
    dim = render.breakdown_picker(equity.breakdown_choices(ctx.options), equity.BREAKDOWNS,
                                  "Grade", "assessments")
    p = data.view(common.breakdown, ctx.scope, assessments.METRIC, dim, *args)
    render.chart_and_table(p.fig, p.table, p.name, note=p.note)
    st.subheader("Which assessments")
    p = data.view(favorites.ranked, ctx.scope, assessments.RANKING, *args)
    render.chart_and_table(p.fig, p.table, p.name, note=p.note)
    st.caption(render.suppression_note(ctx.threshold))
