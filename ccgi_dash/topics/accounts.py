"""Accounts: do students have a CaliforniaColleges.edu account, and do they use it?

Registration (``account_registered``) and recent activity (``active_30d``) share one
population (every roster student), so the page shows them side by side per grade, school or
group (``equity.compare``): the distance between the two bars is the students who signed up
but have not logged in for a month. Registration has a date (``account_created_date``), so
it also gets a curve since July 1 against last year; activity is only known drop by drop.
"""

from __future__ import annotations

HEADLINES = ("account_registered", "active_30d")

COMPARE_TITLE = "Do students have an account, and have they used it in the last 30 days?"
