"""Overview: the seniors' funnel and the headline numbers, with the change since the last drop
and against the same week last year; the one-page brief of the view; FAFSA/CADAA completion
by district (a click opens a district's schools, a click on a school its view)."""

from ccgi_dash.topics import panels
from ccgi_dash.ui import briefing, data, drill, page, render

HEADLINES = ("account_registered", "aid_submitted", "aid_completed", "any_app_submitted",
             "uc_submitted", "csu_submitted", "ccc_submitted", "csu_eligible")
DRILL_METRIC = "aid_completed"

ctx = page.begin("overview")
briefing.brief_button(ctx)
people = data.view(panels.population, ctx.request, HEADLINES)
if not render.no_students(people):
    cards = data.view(panels.headlines, ctx.request, HEADLINES)
    render.headline_cards(cards)
    left, right = render.halves()  # the funnel beside the districts: two screens at most
    with left:
        funnel = data.view(panels.senior_funnel, ctx.request)
        render.chart_and_table(funnel.fig, funnel.table, funnel.name, note=funnel.note)
    shown = [funnel]
    with right:
        level = drill.overview_level(ctx.options, ctx.filters)
        if level is None:
            drill.back_button(ctx.options, ctx.filters.districts, ctx.filters.schools,
                              ctx.scope.all_districts, "overview")
        else:
            panel = data.view(panels.breakdown, ctx.request, DRILL_METRIC, level)
            render.chart_and_table(panel.fig, panel.table, panel.name, note=panel.note)
            shown.append(panel)
    render.note_for(ctx.threshold, shown, cards)
