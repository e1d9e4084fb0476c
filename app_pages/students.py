"""Students: the follow-up lists a counselor acts on, with names and SSIDs (admins and
district leaders only; every view and download is audited)."""

import streamlit as st

from ccgi_dash import students
from ccgi_dash.ui import audit, data, page, render

ctx = page.begin("students")
counts = data.view(students.follow_up_counts, ctx.scope, ctx.filters, ctx.as_of)
choice = st.radio("List", list(students.FOLLOW_UPS), key="students_list",
                  format_func=lambda k: f"{students.FOLLOW_UPS[k].title} ({counts[k]:,})")
search = st.text_input("Find a student (name or SSID)", key="students_search",
                       max_chars=60).strip()
st.caption(students.FOLLOW_UPS[choice].why)
rows = data.view(students.follow_up, ctx.scope, choice, ctx.filters, ctx.as_of, search)
audit.record_view_once(ctx, f"list={choice}", len(rows))
if rows.empty:
    st.success("Nobody on this list for the current filters.", icon=":material/task_alt:")
else:
    render.record_list(rows, key="students_table")
    render.download(rows, f"students-{choice}", label=f"Download this list ({len(rows):,} rows)",
                    numbers=False)
