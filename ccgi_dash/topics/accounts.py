"""Accounts: do students have a CaliforniaColleges.edu account, and do they use it?

Registration (``account_registered``) and recent activity (``active_30d``) share one
population (every roster student), so the page shows them side by side per grade, school or
group (``panels.compare``): the distance between the two bars is the students who signed up
but have not logged in for a month. Registration has a date, so it also gets a curve since
July 1 against last year; activity is only known drop by drop.
"""

from __future__ import annotations

from ccgi_dash.topics import Section, Topic

TOPIC = Topic(
    id="accounts", page="accounts", title="Accounts",
    question="Do students have a CaliforniaColleges.edu account, and have they used it in the "
             "last 30 days?",
    noun="students", key=None,
    breakdowns=("grade_level", "school", "district", "group"), default_breakdown="grade_level",
    sections=(Section("compare", "Where students stand",
                      text="Do students have an account, and have they used it in the last 30 "
                           "days?"),
              Section("side_by_side", "This year against last year, week by week",
                      detail=True)),
    cards_per_row=3,
)
