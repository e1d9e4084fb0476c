"""Data status (admins): every drop received, what was loaded or rejected and why, the
rejected rows, week-over-week changes per district, and the last sync."""

import streamlit as st

from ccgi_dash import status, sync
from ccgi_dash.ui import data, page, render

ctx = page.begin("data_status")
dd = data.data_dir(ctx.scope)
fresh = status.freshness(dd, ctx.settings)
last = sync.last_sync(dd)
c1, c2, c3 = st.columns(3)
c1.metric("Newest drop", f"{fresh.latest:%b %d, %Y}" if fresh.latest else "none",
          help=f"{fresh.age_days} days old" if fresh.latest else None)
c2.metric("Next drop expected", f"{fresh.next_expected:%b %d}" if fresh.next_expected else "--")
c3.metric("Last sync", str(last["at"])[:16].replace("T", " ") if last else "never",
          help=f"exit code {last['exit_code']}" if last else "No sync has run yet.")
st.subheader("Drops loaded: rows per dataset")
render.chart_and_table(None, status.drops_frame(dd), "data-status-drops")
st.subheader("Load attempts, newest first")
st.dataframe(status.load_attempts(dd), hide_index=True, key="load-attempts")
st.subheader("Week-over-week changes per district")
render.chart_and_table(None, data.view(status.week_over_week, ctx.scope, ctx.as_of),
                       "data-status-week-over-week")
st.subheader("Rejected rows in this drop")
render.chart_and_table(None, data.view(status.rejected_rows, ctx.scope, ctx.as_of),
                       "data-status-rejected-rows")
