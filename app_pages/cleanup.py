"""Data clean-up: what to correct in the districts' own student information systems."""

import streamlit as st

from ccgi_dash import quality
from ccgi_dash.ui import audit, data, page, render

ctx = page.begin("cleanup")
findings = data.view(quality.cleanup_findings, ctx.scope, ctx.as_of)
summary = quality.cleanup_summary(findings)
audit.record_view_once(ctx, "cleanup", len(findings))
if findings.empty:
    st.success("No findings: the data passed every clean-up check.", icon=":material/task_alt:")
else:
    st.subheader("Findings by district")
    st.dataframe(summary, hide_index=True, key="cleanup-summary")
    check = st.selectbox("Show the records of", list(quality.CHECKS),
                         format_func=lambda c: quality.CHECKS[c].title, key="cleanup_check")
    st.caption(quality.CHECKS[check].advice)
    rows = quality.findings_for(findings, check)
    st.dataframe(rows, hide_index=True, key="cleanup-rows")
    render.download(findings, "data-cleanup-report", label="Download every finding (CSV)")
