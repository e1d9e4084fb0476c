"""Overview: the county funnel and the headline numbers, with the change since the last drop
and against the same week last year; the one-page brief of the view; FAFSA/CADAA completion
by district (a click opens a district's schools, a click on a school its view)."""

from ccgi_dash import charts, views
from ccgi_dash.topics import panels
from ccgi_dash.ui import briefing, data, drill, page, render

HEADLINES = ("account_registered", "aid_submitted", "aid_completed", "any_app_submitted",
             "uc_submitted", "csu_submitted", "ccc_submitted", "csu_eligible")
DRILL_METRIC = "aid_completed"

ctx = page.begin("overview")
briefing.brief_button(ctx)
funnel = data.view(views.funnel, ctx.request)
if not render.no_students(funnel.rename(columns={"population": "denominator"})):
    render.headline_cards(data.view(panels.headlines, ctx.request, HEADLINES))
    table = funnel[["stage", "students_text", "population", "rate_text"]].rename(
        columns={"stage": "Stage", "students_text": "Students", "population": "Out of",
                 "rate_text": "Rate"})
    render.chart_and_table(charts.funnel_chart(funnel, "How far along are the students?"),
                           table, "overview-funnel", note=render.suppression_note(ctx.threshold))
    level = drill.overview_level(ctx.options, ctx.filters)
    if level is None:
        drill.back_button(ctx.options, ctx.filters.districts, ctx.filters.schools,
                          ctx.scope.all_districts, "overview")
    else:
        panel = data.view(panels.breakdown, ctx.request, DRILL_METRIC, level)
        render.chart_and_table(panel.fig, panel.table, panel.name, note=panel.note)
