"""Accounts: registration on CaliforniaColleges.edu and recent use, this year against last,
and by grade, school, district or student group."""

import streamlit as st

from ccgi_dash.topics import accounts, common, equity
from ccgi_dash.ui import data, page, render

ctx = page.begin("Accounts", "Do students have a CaliforniaColleges.edu account, and have "
                 "they used it in the last 30 days?")
args = (ctx.filters, ctx.as_of, ctx.threshold)
students = data.view(common.population, ctx.scope, accounts.HEADLINES, ctx.filters, ctx.as_of)
if not render.no_students(students):
    render.headline_cards(data.view(common.headlines, ctx.scope, accounts.HEADLINES, *args),
                          per_row=3)
    st.subheader("This year against last year")
    cols = st.columns(2)
    for i, p in enumerate(data.view(equity.this_year_and_last, ctx.scope, accounts.HEADLINES,
                                    *args)):
        with cols[i % 2]:
            render.chart_and_table(p.fig, p.table, p.name, note=p.note)
    st.subheader("Where students stand")
    dim = render.breakdown_picker(equity.breakdown_choices(ctx.options), equity.BREAKDOWNS,
                                  "Grade", "accounts")
    p = data.view(equity.compare, ctx.scope, accounts.HEADLINES, dim, accounts.COMPARE_TITLE,
                  *args)
    render.chart_and_table(p.fig, p.table, p.name, note=p.note)
    st.caption(render.suppression_note(ctx.threshold))
