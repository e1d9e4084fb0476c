"""Favorites: how many students have favorited a college, a career or a major, and which."""

import streamlit as st

from ccgi_dash.topics import common, equity, favorites
from ccgi_dash.ui import data, page, render

ctx = page.begin("Favorites", "Which colleges, careers and majors students favorite on "
                 "CaliforniaColleges.edu, and how many have favorited one.")
args = (ctx.filters, ctx.as_of, ctx.threshold)
students = data.view(common.population, ctx.scope, favorites.HEADLINES, ctx.filters, ctx.as_of)
if not render.no_students(students):
    render.headline_cards(data.view(common.headlines, ctx.scope, favorites.HEADLINES, *args),
                          per_row=3)
    st.subheader("Who has favorites")
    dim = render.breakdown_picker(equity.breakdown_choices(ctx.options), equity.BREAKDOWNS,
                                  "Grade", "favorites")
    p = data.view(equity.compare, ctx.scope, favorites.HEADLINES, dim, favorites.SHARE_TITLE,
                  *args)
    render.chart_and_table(p.fig, p.table, p.name, note=p.note)
    st.subheader("What students favorite")
    kind = st.segmented_control("Most favorited", list(favorites.KINDS), key="favorites_kind",
                                required=True, default="Colleges")
    for p in data.view(favorites.kind_panels, ctx.scope, kind, *args):
        render.chart_and_table(p.fig, p.table, p.name, note=p.note)
    st.caption(render.suppression_note(ctx.threshold))
