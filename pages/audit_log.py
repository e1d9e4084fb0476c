"""Audit log (admins): every export, download and student-level view, newest first."""

import streamlit as st

from ccgi_dash.accounts.audit import audit_frame
from ccgi_dash.ui import data, page

ctx = page.begin("Audit log", "Who exported or viewed student-level data, when, with which "
                 "scope, and how many rows. The log holds no student names or SSIDs.",
                 admin_only=True)
records = audit_frame(data.data_dir(ctx.scope), limit=2000)
st.dataframe(records, hide_index=True, key="audit-table")
