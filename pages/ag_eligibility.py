"""a-g eligibility: UC and CSU eligible seniors and students on track in grades 9-11, week by
week against last year, by district, school, grade and student group."""

import streamlit as st

from ccgi_dash.topics import ag
from ccgi_dash.ui import data, page, render

ctx = page.begin("a-g eligibility", "Which seniors have completed the a-g courses UC and CSU "
                 "require, and which students in grades 9-11 are on track to.")
args = (ctx.filters, ctx.as_of, ctx.threshold)
students = data.view(ag.population, ctx.scope, ag.MEASURES, ctx.filters, ctx.as_of)
if not render.no_students(students, "students in grades 9-12"):
    render.headline_cards(data.view(ag.headlines, ctx.scope, ag.MEASURES, *args))
    metric = st.selectbox("Measure", ag.MEASURES, index=ag.MEASURES.index(ag.KEY),
                          format_func=ag.metric_title, key="ag_measure", width=420)
    st.subheader("This year against last year")
    for p in data.view(ag.trends, ctx.scope, metric, *args):
        render.chart_and_table(p.fig, p.table, p.name, note=p.note)
    st.subheader("Where students stand")
    dim = render.breakdown_picker(ag.BREAKDOWNS, ag.BREAKDOWNS,
                                  ag.default_breakdown(ctx.options), "ag",
                                  group_width=420)
    p = data.view(ag.breakdown, ctx.scope, metric, dim, *args)
    render.chart_and_table(p.fig, p.table, p.name, note=p.note)
    st.caption(render.suppression_note(ctx.threshold))
