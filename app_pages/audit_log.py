"""Audit log (admins): every export, download and student-level view, newest first."""

import streamlit as st

from ccgi_dash import auth
from ccgi_dash.ui import data, page

ctx = page.begin("audit_log")
records = auth.audit_frame(data.data_dir(ctx.scope), limit=2000)
st.dataframe(records, hide_index=True, key="audit-table")
