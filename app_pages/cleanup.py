"""Data clean-up: what to correct in the districts' own student information systems.

District leaders and admins see the findings with the records behind them; a county
coordinator (role ``coe``, who sees no student rows) sees how many findings each district
has, per check: which districts to call about their data, and about what."""

import streamlit as st

from ccgi_dash import quality
from ccgi_dash.ui import audit, data, page, render

ctx = page.begin("cleanup")
if not ctx.scope.student_level:
    counts = quality.counts_table(data.view(quality.cleanup_counts, ctx.scope, ctx.as_of))
    if counts.empty or not counts["Total"].sum():
        st.success("No findings: the data passed every clean-up check.",
                   icon=":material/task_alt:")
    else:
        st.subheader("Findings by district")
        st.caption("Counts only: the records behind them are on this page for each "
                   "district's leader. A \u201cnever reported\u201d count is a number of "
                   "student-group fields, a school check's a number of schools, the others "
                   "a number of student records.")
        render.numbers_table(counts, key="cleanup-counts", tall=True)
        render.download(counts, "data-cleanup-counts-by-district",
                        label="Download the counts (CSV)")
else:
    findings = data.view(quality.cleanup_findings, ctx.scope, ctx.as_of)
    summary = quality.cleanup_summary(findings)
    audit.record_view_once(ctx, "cleanup", len(findings))
    if findings.empty:
        st.success("No findings: the data passed every clean-up check.",
                   icon=":material/task_alt:")
    else:
        st.subheader("Findings by district")
        render.numbers_table(summary, key="cleanup-summary")
        check = st.selectbox("Show the records of", list(quality.CHECKS),
                             format_func=lambda c: quality.CHECKS[c].title,
                             key="cleanup_check")
        st.caption(quality.CHECKS[check].advice)
        rows = quality.findings_for(findings, check)
        render.record_list(rows, key="cleanup-rows")
        render.download(findings, "data-cleanup-report", label="Download every finding (CSV)",
                        numbers=False)
