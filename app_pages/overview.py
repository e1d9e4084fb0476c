"""Overview: the seniors' funnel and the headline numbers, with the change since the last drop
and against the same week last year."""

from ccgi_dash.topics import panels
from ccgi_dash.ui import data, page, render

HEADLINES = ("account_registered", "aid_submitted", "aid_completed", "any_app_submitted",
             "uc_submitted", "csu_submitted", "ccc_submitted", "csu_eligible")

ctx = page.begin("overview")
people = data.view(panels.population, ctx.request, HEADLINES)
if not render.no_students(people):
    render.headline_cards(data.view(panels.headlines, ctx.request, HEADLINES))
    funnel = data.view(panels.senior_funnel, ctx.request)
    render.chart_and_table(funnel.fig, funnel.table, funnel.name, note=funnel.note)
