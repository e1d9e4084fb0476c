"""Financial aid: FAFSA/CADAA submitted and completed, opt-outs and AB 469 compliance, this
year against last, by district, school and student group, and a Race to Submit leaderboard."""

import streamlit as st

from ccgi_dash.topics import aid, common
from ccgi_dash.ui import data, page, render

ctx = page.begin("Financial aid", "Which seniors have filed a FAFSA or CADAA, had it completed, "
                 "or opted out (AB 469), and how this year compares with last.")
args = (ctx.filters, ctx.as_of, ctx.threshold)
seniors = data.view(common.population, ctx.scope, aid.MEASURES, ctx.filters, ctx.as_of)
if not render.no_students(seniors, "seniors"):
    render.headline_cards(data.view(common.headlines, ctx.scope, aid.MEASURES, *args), per_row=3)
    metric = st.selectbox("Measure", aid.MEASURES, index=aid.MEASURES.index(aid.KEY),
                          format_func=common.metric_title, key="aid_measure", width=420)
    st.subheader("This year against last year")
    for p in data.view(aid.aid_trends, ctx.scope, metric, *args):
        render.chart_and_table(p.fig, p.table, p.name, note=p.note)
    st.subheader("Where seniors stand")
    dim = render.breakdown_picker(common.BREAKDOWNS, common.BREAKDOWNS,
                                  common.default_breakdown(ctx.options), "aid",
                                  group_width=420)
    p = data.view(common.breakdown, ctx.scope, metric, dim, *args)
    render.chart_and_table(p.fig, p.table, p.name, note=p.note)
    if ctx.scope.student_level and common.students_page_ready():
        st.page_link(common.STUDENTS_PAGE, icon=":material/groups:", label="Open the named list "
                     "of seniors with no FAFSA/CADAA and no opt-out (Students page)")
    st.subheader("Race to Submit leaderboard")
    st.caption("Schools ranked by FAFSA/CADAA completion within tiers of senior-class size, "
               "as CSAC's Race to Submit does. Schools hidden for privacy (*) are not ranked.")
    board = data.view(aid.leaderboard, ctx.scope, *args)
    tier = st.segmented_control("Senior class size", board.tiers, key="aid_tier",
                                default=board.tiers[0] if board.tiers else None)
    p = aid.tier_panel(board, tier)
    render.chart_and_table(p.fig, p.table, p.name, note=p.note)
    render.download(board.table, "fafsa-cadaa-leaderboard-all-tiers", "Download all tiers (CSV)")
    st.caption(render.suppression_note(ctx.threshold))
