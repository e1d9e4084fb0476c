"""College applications: UC, CSU and community college submissions this year against last,
the campuses applied to, and the a-g eligible seniors who have not applied."""

import streamlit as st

from ccgi_dash.topics import apps
from ccgi_dash.ui import data, page, render

ctx = page.begin("College applications", "Which seniors have applied to a UC, a CSU or a "
                 "community college, where, and which a-g eligible seniors have not applied.")
args = (ctx.filters, ctx.as_of, ctx.threshold)
seniors = data.view(apps.population, ctx.scope, apps.MEASURES, ctx.filters, ctx.as_of)
if not render.no_students(seniors, "seniors"):
    render.headline_cards(data.view(apps.headlines, ctx.scope, apps.MEASURES, *args))
    metric = st.selectbox("Measure", apps.MEASURES, index=apps.MEASURES.index(apps.KEY),
                          format_func=apps.metric_title, key="apps_measure", width=420)
    st.subheader("This year against last year")
    for p in data.view(apps.app_trends, ctx.scope, metric, *args):
        render.chart_and_table(p.fig, p.table, p.name, note=p.note)
    st.subheader("Where seniors stand")
    dim = render.breakdown_picker(apps.BREAKDOWNS, apps.BREAKDOWNS,
                                  apps.default_breakdown(ctx.options), "apps",
                                  group_width=420)
    p = data.view(apps.breakdown, ctx.scope, metric, dim, *args)
    render.chart_and_table(p.fig, p.table, p.name, note=p.note)
    st.subheader("Where seniors apply")
    ranked = st.segmented_control("Campuses", list(apps.RANKED), key="apps_ranked", required=True,
                                  default="UC campuses")
    p = data.view(apps.ranked, ctx.scope, apps.RANKED[ranked], *args)
    render.chart_and_table(p.fig, p.table, p.name, note=p.note)
    st.subheader("a-g eligible seniors who have not applied")
    p = data.view(apps.follow_up, ctx.scope, *args)
    render.chart_and_table(p.fig, p.table, p.name, note=p.note)
    if ctx.scope.student_level and apps.students_page_ready():
        st.page_link(apps.STUDENTS_PAGE, icon=":material/groups:",
                     label="Open the named list of these seniors (Students page)")
    st.caption(render.suppression_note(ctx.threshold))
