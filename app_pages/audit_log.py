"""Audit log (admins): every export, download and student-level view, newest first."""

import streamlit as st

from ccgi_dash.accounts.audit import audit_frame
from ccgi_dash.ui import data, page

ctx = page.begin("audit_log")
records = audit_frame(data.data_dir(ctx.scope), limit=2000)
st.dataframe(records, hide_index=True, key="audit-table")
